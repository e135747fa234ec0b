import Foundation
import Eval

/// table.md and `pixelgpt report`: results laid out as the paper's tables are, one table per group file
/// with a `pixelgpt.table` block (`TaskGroup`), in group-name order (GLUE columns, then XNLI languages),
/// each with its average. Values are percentages with one decimal, as the original's aggregation scripts
/// round them (SPEC 7.3); averages are means of the unrounded values.
public struct LeaderboardTable: Sendable {
    /// One column: a task and the metric it shows.
    public struct Column: Sendable, Equatable {
        public let header: String
        public let task: String
        public let metric: MetricName

        /// The CSV name, "<task>_<metric>".
        public var key: String { "\(task)_\(metric.rawValue)" }
    }

    /// The table of one group: its columns, in order, and how its "Avg" is taken.
    public struct Section: Sendable, Equatable {
        /// The group's name and how reports call it ("XNLI").
        public let group: String
        public let name: String
        public let columns: [Column]
        public let average: TaskGroup.Average
        public let chart: TaskGroup.Chart?
        /// 1 / classes when every column is an accuracy over the same number of classes (charts draw it).
        public let chance: Double?
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

    /// One row: cells by task name (each column's metric), and averages given as such (published numbers,
    /// by average key such as "xnli_avg"), which are shown instead of the computed ones.
    public struct Row: Sendable, Equatable {
        public var label: String
        public var cells: [String: Cell]
        public var givenAverages: [String: Double]

        public init(label: String, cells: [String: Cell], givenAverages: [String: Double] = [:]) {
            self.label = label
            self.cells = cells
            self.givenAverages = givenAverages
        }
    }

    public let sections: [Section]

    /// The tables of `groups` that have one, in group-name order.
    /// The tables of `groups` that have one, in group-name order; `tasks` (the registry's) give each section's
    /// chance level.
    public init(groups: [TaskGroup], tasks: [TaskDefinition] = []) {
        let classes = Dictionary(tasks.map { ($0.task, $0.labelList?.count ?? 0) }, uniquingKeysWith: { first, _ in first })
        sections = groups.sorted { $0.group < $1.group }.compactMap { group in
            group.table.map { table in
                let counts = Set(table.columns.map { classes[$0.task] ?? 0 })
                let chance: Double? = if table.columns.allSatisfy({ $0.metric == .acc }), counts.count == 1, let n = counts.first, n >= 2 { 1 / Double(n) } else { nil }
                return Section(group: group.group, name: group.displayName,
                               columns: table.columns.map { Column(header: $0.header, task: $0.task, metric: $0.metric) },
                               average: table.average, chart: table.chart, chance: chance)
            }
        }
    }

    /// Every column of every section, in order.
    public var columns: [Column] { sections.flatMap(\.columns) }

    /// One table per section over the columns any row has, each followed by a blank line but the layout's
    /// last; a section is omitted when no row has one of its columns. Cells with a deviation read "mean±std".
    public func markdown(_ rows: [Row]) -> String {
        var out = ""
        for (index, section) in sections.enumerated() {
            let shown = shownColumns(section, rows)
            guard !shown.isEmpty else { continue }
            out += "| model | " + shown.map(\.header).joined(separator: " | ") + " | Avg |\n"
            out += "|---|" + String(repeating: "---|", count: shown.count + 1) + "\n"
            for row in rows {
                let values = shown.map { row.cells[$0.task] }
                out += "| \(Self.escaped(row.label)) | " + values.map { Self.format(cell: $0) }.joined(separator: " | ")
                    + " | \(Self.format(average(row, section, shown: shown))) |\n"
            }
            if index < sections.count - 1 { out += "\n" }
        }
        return out
    }

    /// The columns of `section` that at least one row has.
    public func shownColumns(_ section: Section, _ rows: [Row]) -> [Column] {
        section.columns.filter { column in rows.contains { $0.cells[column.task] != nil } }
    }

    /// The given average, else the mean of the unrounded values over the section's columns (`all`) or
    /// those `shown` (`shown`), when the row has every one of them: a partial set gets none, so that no
    /// average is quietly over fewer tasks than its neighbours'.
    public func average(_ row: Row, _ section: Section, shown: [Column]) -> Double? {
        if let given = row.givenAverages[section.average.key] { return given }
        let columns = section.average.over == .all ? section.columns : shown
        let present = columns.compactMap { row.cells[$0.task]?.mean }
        return !columns.isEmpty && present.count == columns.count ? present.reduce(0, +) / Double(present.count) : nil
    }

    /// CSV (RFC 4180) with a fixed set of columns whatever the rows hold: the `leading` ones, then per
    /// section its columns' "<task>_<metric>" and "<task>_<metric>_std" and its average key ("glue_avg").
    /// Numbers are percentages to 10 significant digits (full precision without binary noise such as
    /// 85.30000000000001); an empty field is a value the row does not have.
    public func csv(_ rows: [Row], leading: [String], leadingValues: [[String]]) -> String {
        precondition(leadingValues.count == rows.count && leadingValues.allSatisfy { $0.count == leading.count })
        var header = leading
        for section in sections {
            for column in section.columns { header += [column.key, column.key + "_std"] }
            header.append(section.average.key)
        }
        var out = header.map(Self.csvField).joined(separator: ",") + "\n"
        for (row, lead) in zip(rows, leadingValues) {
            var fields = lead.map(Self.csvField)
            for section in sections {
                for column in section.columns { fields += [Self.csvNumber(row.cells[column.task]?.mean), Self.csvNumber(row.cells[column.task]?.std)] }
                fields.append(Self.csvNumber(average(row, section, shown: shownColumns(section, rows))))
            }
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
