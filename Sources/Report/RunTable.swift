import Eval
import Foundation
import Support
import SafeTensors

/// table.md of one `pixelgpt eval` run: its results as one row of the leaderboard's tables, labelled
/// "<model directory> (<modality>, <head> head)", each column's metric as "mean±std" when several seeds
/// trained heads.
public enum RunTable {
    public static let file = "table.md"

    public static func markdown(_ results: EvaluationResults, head: String, table: LeaderboardTable) -> String {
        let byTask = Dictionary(results.tasks.map { ($0.task, $0) }, uniquingKeysWith: { first, _ in first })
        let cells = Dictionary(uniqueKeysWithValues: table.columns.compactMap { column -> (String, LeaderboardTable.Cell)? in
            guard let result = byTask[column.task], let mean = result.metrics[column.metric.rawValue] else { return nil }
            return (column.task, LeaderboardTable.Cell(mean: mean, std: result.metricsStd?[column.metric.rawValue]))
        })
        let label = "\((results.model.path as NSString).lastPathComponent) (\(results.modality), \(head) head)"
        return table.markdown([LeaderboardTable.Row(label: label, cells: cells)])
    }

    /// Writes table.md into `directory` atomically; returns its text.
    @discardableResult
    public static func write(_ results: EvaluationResults, head: String, table: LeaderboardTable, to directory: String) throws -> String {
        let text = markdown(results, head: head, table: table)
        try AtomicFile.write(Array(text.utf8), to: (directory as NSString).appendingPathComponent(file))
        return text
    }
}
