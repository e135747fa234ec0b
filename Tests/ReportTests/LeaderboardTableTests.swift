import Eval
import Foundation
import TestSupport
import Testing
@testable import Report

/// The project's task groups and the tables they lay out.
enum ProjectTables {
    static let tasksDirectory = PythonReference.repositoryRoot + "/tasks"
    /// The order of the original's cmp_result_xnli.py (SPEC 7.3), written here independently of tasks/.
    static let xnliOrder = ["en", "ar", "bg", "de", "el", "fr", "hi", "ru", "es", "sw", "th", "tr", "ur", "vi", "zh"]

    static func groups() throws -> [TaskGroup] { try TaskRegistry(directory: tasksDirectory).taskGroups }
    static func table() throws -> LeaderboardTable { LeaderboardTable(groups: try groups()) }
}

@Suite struct LeaderboardTableTests {
    @Test func theGroupFilesLayOutGLUEThenXNLI() throws {
        let table = try ProjectTables.table()
        #expect(table.sections.map(\.group) == ["glue", "xnli"])
        let glue = table.sections[0], xnli = table.sections[1]
        #expect(glue.columns.map(\.header) == ["MNLI-m", "MNLI-mm", "QQP", "QNLI", "SST-2", "CoLA", "STS-B", "MRPC", "RTE", "WNLI"])
        #expect(glue.columns.map(\.key) == ["mnli_acc", "mnli_mismatched_acc", "qqp_f1", "qnli_acc", "sst2_acc", "cola_mcc", "stsb_spearmanr",
                                            "mrpc_f1", "rte_acc", "wnli_acc"])
        #expect(glue.average.key == "glue_avg" && glue.average.over == .shown && glue.chart == nil)
        #expect(xnli.columns.map(\.header) == ProjectTables.xnliOrder)
        #expect(xnli.columns.map(\.key) == ProjectTables.xnliOrder.map { "xnli_\($0)_acc" })
        #expect(xnli.average.key == "xnli_avg" && xnli.average.over == .all && xnli.chart?.file == "xnli.png")
    }

    @Test func laysOutGLUEThenXNLIWithPythonRounding() throws {
        let table = try ProjectTables.table()
        var cells: [String: LeaderboardTable.Cell] = ["rte": .init(mean: 0.5234), "cola": .init(mean: 0.125), "stsb": .init(mean: -0.0349)]
        var accuracies: [Double] = []
        for (i, language) in ProjectTables.xnliOrder.enumerated() {
            let accuracy = 0.33 + Double(i) * 0.001 + 0.00005
            accuracies.append(accuracy)
            cells["xnli_\(language)"] = .init(mean: accuracy)
        }
        let lines = table.markdown([LeaderboardTable.Row(label: "random", cells: cells)]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "| model | CoLA | STS-B | RTE | Avg |")
        #expect(lines[2] == "| random | 12.5 | -3.5 | 52.3 | 20.4 |")
        // A blank line after the GLUE table, none after the last.
        #expect(lines[3] == "")
        #expect(lines[4] == "| model | " + ProjectTables.xnliOrder.joined(separator: " | ") + " | Avg |")
        // Avg: mean of the unrounded accuracies (SPEC 7.3), 0.33705 -> 33.7.
        let mean = accuracies.reduce(0, +) / 15
        #expect(lines[6].hasSuffix("| \(String(format: "%.1f", mean * 100)) |"))
        #expect(lines[6].hasPrefix("| random | 33.0 | 33.1 |"))
        #expect(lines.count == 8 && lines[7] == "")
        #expect(LeaderboardTable.format(0.125) == "12.5")  // round half to even, as Python's round(12.5, 1)
        #expect(LeaderboardTable.format(nil as Double?) == "–")
    }
}
