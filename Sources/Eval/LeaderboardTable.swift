/// table.md: results laid out as the paper's tables are, GLUE columns then XNLI languages and average.
/// Values are percentages with one decimal, as the original's aggregation scripts round them (SPEC 7.3);
/// the XNLI average is the mean of the unrounded accuracies.
public enum LeaderboardTable {
    /// GLUE columns in the usual order of PIXEL-style tables, each with the metric it shows.
    static let glueColumns: [(header: String, task: String, metric: MetricName)] = [
        ("MNLI-m", "mnli", .acc), ("MNLI-mm", "mnli_mismatched", .acc), ("QQP", "qqp", .f1), ("QNLI", "qnli", .acc),
        ("SST-2", "sst2", .acc), ("CoLA", "cola", .mcc), ("STS-B", "stsb", .spearmanr), ("MRPC", "mrpc", .f1),
        ("RTE", "rte", .acc), ("WNLI", "wnli", .acc),
    ]
    /// The order of `cmp_result_xnli.py` (SPEC 7.3).
    public static let xnliOrder = ["en", "ar", "bg", "de", "el", "fr", "hi", "ru", "es", "sw", "th", "tr", "ur", "vi", "zh"]

    /// `scores[task][metric]` as fractions. Rows are one per (label, scores) pair, e.g. one per modality.
    public static func markdown(rows: [(label: String, scores: [String: [MetricName: Double]])]) -> String {
        var out = ""
        let glue = glueColumns.filter { column in rows.contains { $0.scores[column.task]?[column.metric] != nil } }
        if !glue.isEmpty {
            out += "| model | " + glue.map(\.header).joined(separator: " | ") + " | Avg |\n"
            out += "|---|" + String(repeating: "---|", count: glue.count + 1) + "\n"
            for row in rows {
                let values = glue.map { row.scores[$0.task]?[$0.metric] }
                let present = values.compactMap { $0 }
                let average = present.count == values.count ? present.reduce(0, +) / Double(present.count) : nil
                out += "| \(row.label) | " + values.map(format).joined(separator: " | ") + " | \(format(average)) |\n"
            }
            out += "\n"
        }
        let languages = xnliOrder.filter { language in rows.contains { $0.scores["xnli_\(language)"]?[.acc] != nil } }
        if !languages.isEmpty {
            out += "| model | " + languages.joined(separator: " | ") + " | Avg |\n"
            out += "|---|" + String(repeating: "---|", count: languages.count + 1) + "\n"
            for row in rows {
                let values = languages.map { row.scores["xnli_\($0)"]?[.acc] }
                let present = values.compactMap { $0 }
                // The mean of the unrounded accuracies, and only over all 15 (a partial set gets none).
                let average = present.count == xnliOrder.count ? present.reduce(0, +) / Double(present.count) : nil
                out += "| \(row.label) | " + values.map(format).joined(separator: " | ") + " | \(format(average)) |\n"
            }
        }
        return out
    }

    /// round(value * 100, 1) as Python prints it: printf rounds the exact binary value half-to-even,
    /// as Python's round does.
    static func format(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.1f", value * 100)
    }
}
