import Foundation

/// table.md and `pixelgpt report`: results laid out as the paper's tables are, GLUE columns then XNLI
/// languages, each with its average. Values are percentages with one decimal, as the original's aggregation
/// scripts round them (SPEC 7.3); the XNLI average is the mean of the unrounded accuracies.
public enum LeaderboardTable {
    /// One column: a task and the metric it shows.
    public struct Column: Sendable, Equatable {
        public let header: String
        public let task: String
        public let metric: MetricName

        /// The CSV name, "<task>_<metric>".
        public var key: String { "\(task)_\(metric.rawValue)" }
    }

    /// One value: a fraction, with its sample standard deviation over seeds when there were several.
    public struct Cell: Sendable, Equatable {
        public var mean: Double
        public var std: Double?

        public init(mean: Double, std: Double? = nil) {
            self.mean = mean
            self.std = std
        }
    }

    /// One row: cells by task name (each column's metric), and averages given as such (published numbers),
    /// which are shown instead of the computed ones.
    public struct Row: Sendable, Equatable {
        public var label: String
        public var cells: [String: Cell]
        public var givenGLUEAverage: Double?
        public var givenXNLIAverage: Double?

        public init(label: String, cells: [String: Cell], givenGLUEAverage: Double? = nil, givenXNLIAverage: Double? = nil) {
            self.label = label
            self.cells = cells
            self.givenGLUEAverage = givenGLUEAverage
            self.givenXNLIAverage = givenXNLIAverage
        }
    }

    /// GLUE columns in the usual order of PIXEL-style tables, each with the metric it shows.
    public static let glueColumns: [Column] = [
        Column(header: "MNLI-m", task: "mnli", metric: .acc), Column(header: "MNLI-mm", task: "mnli_mismatched", metric: .acc),
        Column(header: "QQP", task: "qqp", metric: .f1), Column(header: "QNLI", task: "qnli", metric: .acc),
        Column(header: "SST-2", task: "sst2", metric: .acc), Column(header: "CoLA", task: "cola", metric: .mcc),
        Column(header: "STS-B", task: "stsb", metric: .spearmanr), Column(header: "MRPC", task: "mrpc", metric: .f1),
        Column(header: "RTE", task: "rte", metric: .acc), Column(header: "WNLI", task: "wnli", metric: .acc),
    ]
    /// The order of `cmp_result_xnli.py` (SPEC 7.3).
    public static let xnliOrder = ["en", "ar", "bg", "de", "el", "fr", "hi", "ru", "es", "sw", "th", "tr", "ur", "vi", "zh"]
    public static let xnliColumns: [Column] = xnliOrder.map { Column(header: $0, task: "xnli_\($0)", metric: .acc) }
    public static var columns: [Column] { glueColumns + xnliColumns }

    /// `scores[task][metric]` as fractions. Rows are one per (label, scores) pair, e.g. one per modality.
    public static func markdown(rows: [(label: String, scores: [String: [MetricName: Double]])]) -> String {
        markdown(rows.map { row in
            Row(label: row.label, cells: Dictionary(uniqueKeysWithValues: columns.compactMap { column in
                row.scores[column.task]?[column.metric].map { (column.task, Cell(mean: $0)) }
            }))
        })
    }

    /// A GLUE table over the columns any row has, then an XNLI table over the languages any row has; each
    /// omitted when no row has one of its columns. Cells with a deviation read "mean±std".
    public static func markdown(_ rows: [Row]) -> String {
        var out = ""
        let glue = shownGLUEColumns(rows)
        if !glue.isEmpty {
            out += "| model | " + glue.map(\.header).joined(separator: " | ") + " | Avg |\n"
            out += "|---|" + String(repeating: "---|", count: glue.count + 1) + "\n"
            for row in rows {
                let values = glue.map { row.cells[$0.task] }
                out += "| \(escaped(row.label)) | " + values.map { format(cell: $0) }.joined(separator: " | ") + " | \(format(glueAverage(row, over: glue))) |\n"
            }
            out += "\n"
        }
        let languages = xnliColumns.filter { column in rows.contains { $0.cells[column.task] != nil } }
        if !languages.isEmpty {
            out += "| model | " + languages.map(\.header).joined(separator: " | ") + " | Avg |\n"
            out += "|---|" + String(repeating: "---|", count: languages.count + 1) + "\n"
            for row in rows {
                let values = languages.map { row.cells[$0.task] }
                out += "| \(escaped(row.label)) | " + values.map { format(cell: $0) }.joined(separator: " | ") + " | \(format(xnliAverage(row))) |\n"
            }
        }
        return out
    }

    /// The GLUE columns that at least one row has.
    public static func shownGLUEColumns(_ rows: [Row]) -> [Column] {
        glueColumns.filter { column in rows.contains { $0.cells[column.task] != nil } }
    }

    /// The given average, else the mean over `columns` when the row has every one of them (a partial set
    /// gets none, so that no average is quietly over fewer tasks than its neighbours').
    public static func glueAverage(_ row: Row, over columns: [Column]) -> Double? {
        if let given = row.givenGLUEAverage { return given }
        let present = columns.compactMap { row.cells[$0.task]?.mean }
        return !columns.isEmpty && present.count == columns.count ? present.reduce(0, +) / Double(present.count) : nil
    }

    /// The given average, else the mean of the unrounded accuracies, and only over all 15 languages.
    public static func xnliAverage(_ row: Row) -> Double? {
        if let given = row.givenXNLIAverage { return given }
        let present = xnliColumns.compactMap { row.cells[$0.task]?.mean }
        return present.count == xnliColumns.count ? present.reduce(0, +) / Double(present.count) : nil
    }

    /// CSV (RFC 4180) with a fixed set of columns whatever the rows hold: the `leading` ones, then per GLUE
    /// column "<task>_<metric>" and "<task>_<metric>_std", "glue_avg", the same per language, "xnli_avg".
    /// Numbers are percentages to 10 significant digits (full precision without binary noise such as
    /// 85.30000000000001); an empty field is a value the row does not have.
    public static func csv(_ rows: [Row], leading: [String], leadingValues: [[String]]) -> String {
        precondition(leadingValues.count == rows.count && leadingValues.allSatisfy { $0.count == leading.count })
        let glue = shownGLUEColumns(rows)
        var header = leading
        for column in glueColumns { header += [column.key, column.key + "_std"] }
        header.append("glue_avg")
        for column in xnliColumns { header += [column.key, column.key + "_std"] }
        header.append("xnli_avg")
        var out = header.map(csvField).joined(separator: ",") + "\n"
        for (row, lead) in zip(rows, leadingValues) {
            var fields = lead.map(csvField)
            for column in glueColumns { fields += [csvNumber(row.cells[column.task]?.mean), csvNumber(row.cells[column.task]?.std)] }
            fields.append(csvNumber(glueAverage(row, over: glue)))
            for column in xnliColumns { fields += [csvNumber(row.cells[column.task]?.mean), csvNumber(row.cells[column.task]?.std)] }
            fields.append(csvNumber(xnliAverage(row)))
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    /// round(value * 100, 1) as Python prints it: printf rounds the exact binary value half-to-even,
    /// as Python's round does.
    static func format(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.1f", value * 100)
    }

    /// "85.3±0.4" with a deviation, "85.3" without, "–" for no value.
    static func format(cell: Cell?) -> String {
        guard let cell else { return format(nil) }
        guard let std = cell.std, std.isFinite else { return format(cell.mean) }
        return format(cell.mean) + "±" + format(std)
    }

    static func csvNumber(_ fraction: Double?) -> String {
        guard let fraction, fraction.isFinite else { return "" }
        return String(format: "%.10g", fraction * 100)
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A label inside a markdown table cell: a bare "|" would end the cell.
    static func escaped(_ label: String) -> String {
        label.replacingOccurrences(of: "|", with: "\\|")
    }
}
