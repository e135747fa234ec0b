import Eval
import Foundation
import Yams

/// Published numbers that a user copies into a YAML file, printed by `pixelgpt report --reference` beside
/// the measured rows (SPEC 9: the project itself knows none). Format (docs/report.md):
///
///     rows:
///       - label: Some model (paper)      # required, unique
///         modality: pixel                # optional: text | pixel | pair
///         source: "where it was copied from"   # optional
///         scores:                        # percentages; a number, or {mean: M, std: S}
///           sst2: 12.3
///           cola: {mean: 1.2, std: 0.3}
///           xnli_en: 45.6
///           xnli_avg: 45.6               # optional published averages: glue_avg, xnli_avg
///
/// Score keys are the report's column tasks (each with its column's metric) and the tables' average keys
/// (`glue_avg`, `xnli_avg`: each group file's `pixelgpt.table.average.key`).
public struct ReferenceNumbers: Sendable {
    public struct Row: Sendable, Equatable {
        public let label: String
        public let modality: String?
        public let source: String?
        /// Fractions, like measured cells.
        public let cells: [String: LeaderboardTable.Cell]
        /// Published averages by average key.
        public let averages: [String: Double]
    }

    public let file: String
    public let rows: [Row]

    /// Reads `file`; `table` says which scores it may give.
    public init(file: String, table: LeaderboardTable) throws(ReportError) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ReportError(file: file, reason: "no such reference file, or unreadable; give a YAML file as docs/report.md describes")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ReportError(file: file, reason: "not UTF-8 text") }
        try self.init(yaml: text, file: file, table: table)
    }

    /// Parses YAML text; `file` names it in errors.
    public init(yaml: String, file: String, table: LeaderboardTable) throws(ReportError) {
        let document: Document
        do {
            document = try YAMLDecoder().decode(Document.self, from: yaml)
        } catch let error as DecodingError {
            let decoded = ReportError(file: file, decoding: error)
            throw decoded.key.isEmpty ? ReportError(file: file, key: "yaml", reason: decoded.reason) : decoded
        } catch {
            // Yams' own scanner and parser errors carry the line and column.
            throw ReportError(file: file, key: "yaml", reason: "\(error)")
        }
        self.file = file
        let known = Set(table.columns.map(\.task))
        let averageKeys = table.sections.map(\.average.key)
        var rows: [Row] = []
        for (index, entry) in document.rows.enumerated() {
            let at = "rows[\(index)]"
            let label = entry.label.trimmingCharacters(in: .whitespaces)
            guard !label.isEmpty else { throw ReportError(file: file, key: at + ".label", reason: "empty; give the row a name") }
            guard !rows.contains(where: { $0.label == label }) else {
                throw ReportError(file: file, key: at + ".label", reason: "\"\(label)\" is also the label of an earlier row; labels must differ")
            }
            if let modality = entry.modality, TaskDefinition.Modality(rawValue: modality) == nil {
                throw ReportError(file: file, key: at + ".modality", reason: "\"\(modality)\" is not one of text, pixel, pair")
            }
            guard !entry.scores.isEmpty else { throw ReportError(file: file, key: at + ".scores", reason: "no numbers; give at least one task") }
            var cells: [String: LeaderboardTable.Cell] = [:]
            var averages: [String: Double] = [:]
            for (key, score) in entry.scores.sorted(by: { $0.key < $1.key }) {
                let path = "\(at).scores.\(key)"
                guard known.contains(key) || averageKeys.contains(key) else {
                    throw ReportError(file: file, key: path, reason: "not a report column; use a column's task ("
                                      + table.columns.map(\.task).joined(separator: ", ") + ") or an average (" + averageKeys.joined(separator: ", ") + ")")
                }
                // Percentages: MCC and Spearman may be negative, nothing exceeds 100.
                guard score.mean.isFinite, (-100 ... 100).contains(score.mean) else {
                    throw ReportError(file: file, key: path, reason: "\(score.mean) is not a percentage between -100 and 100")
                }
                if let std = score.std, !(std.isFinite && (0 ... 100).contains(std)) {
                    throw ReportError(file: file, key: path + ".std", reason: "\(std) is not a standard deviation in percent (0 to 100)")
                }
                if averageKeys.contains(key) {
                    guard score.std == nil else { throw ReportError(file: file, key: path + ".std", reason: "averages are shown without a deviation; give a number") }
                    averages[key] = score.mean / 100
                } else {
                    cells[key] = LeaderboardTable.Cell(mean: score.mean / 100, std: score.std.map { $0 / 100 })
                }
            }
            rows.append(Row(label: label, modality: entry.modality, source: entry.source, cells: cells, averages: averages))
        }
        guard !rows.isEmpty else { throw ReportError(file: file, key: "rows", reason: "empty; give at least one row") }
        self.rows = rows
    }

    private struct Document: Decodable {
        let rows: [Entry]
    }

    private struct Entry: Decodable {
        let label: String
        let modality: String?
        let source: String?
        let scores: [String: Score]
    }

    /// A bare percentage, or {mean, std} for numbers published as mean±std.
    private struct Score: Decodable {
        let mean: Double
        let std: Double?

        enum CodingKeys: String, CodingKey { case mean, std }

        init(from decoder: any Decoder) throws {
            if let keyed = try? decoder.container(keyedBy: CodingKeys.self) {
                mean = try keyed.decode(Double.self, forKey: .mean)
                std = try keyed.decodeIfPresent(Double.self, forKey: .std)
                return
            }
            let single = try decoder.singleValueContainer()
            guard let value = try? single.decode(Double.self) else {
                throw DecodingError.dataCorruptedError(in: single, debugDescription: "expected a percentage or {mean: M, std: S}")
            }
            mean = value
            std = nil
        }
    }
}
