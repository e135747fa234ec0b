import Eval
import Foundation
import TestSupport
import Testing
@testable import Report

/// table.md of one eval run: the run's results as one row of the group files' tables.
@Suite struct RunTableTests {
    static func results(_ tasks: [(name: String, metrics: [String: Double], std: [String: Double]?)]) throws -> EvaluationResults {
        let entries: [[String: Any]] = tasks.map { task in
            var entry: [String: Any] = ["task": task.name, "task_version": 1, "split": "validation", "file": "f", "rows": 8, "skipped_rows": 0,
                                        "problems": [String](), "labeled": true, "metrics": task.metrics, "selection_metric": "acc",
                                        "head": ["kind": "finetune"], "samples_file": "s", "seeds": [1, 2]]
            if let std = task.std { entry["metrics_std"] = std }
            return entry
        }
        let object: [String: Any] = [
            "schema": "pixelgpt.results", "version": 2, "tool_version": "test", "created": "now",
            "model": ["path": "/models/tiny-run", "weights_sha256": [String](), "architecture": "a", "hidden_size": 8, "layers": 1],
            "modality": "pair", "pooling": "upstream", "batch_size": 8, "threads": 1, "seed": 1, "data_directory": "d",
            "tasks": entries, "skipped": [[String: Any]](),
        ]
        return try JSONDecoder().decode(EvaluationResults.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test func oneRowOfEachColumnsMetricWithItsDeviation() throws {
        let table = try ProjectTables.table()
        // QQP shows F1 (its column's metric), not accuracy; AX has no column.
        let glueOnly = try Self.results([("qqp", ["acc": 0.9, "f1": 0.8125], ["f1": 0.0125]), ("rte", ["acc": 0.5], nil), ("ax", ["mcc": 0.1], nil)])
        #expect(RunTable.markdown(glueOnly, head: "finetune", table: table)
                == "| model | QQP | RTE | Avg |\n|---|---|---|---|\n| tiny-run (pair, finetune head) | 81.2±1.2 | 50.0 | 65.6 |\n\n")
        // The last table has no blank line after it; XNLI's average needs all 15 languages.
        let oneLanguage = try Self.results([("xnli_fr", ["acc": 0.4], nil)])
        #expect(RunTable.markdown(oneLanguage, head: "probe", table: table)
                == "| model | fr | Avg |\n|---|---|---|\n| tiny-run (pair, probe head) | 40.0 | – |\n")
        let dir = try TemporaryDirectory()
        let written = try RunTable.write(oneLanguage, head: "probe", table: table, to: dir.path)
        #expect(try String(contentsOfFile: dir.file("table.md"), encoding: .utf8) == written)
    }
}
