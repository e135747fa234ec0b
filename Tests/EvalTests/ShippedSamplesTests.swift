import Foundation
import TestSupport
import Testing
@testable import Eval

/// `make run` evaluates samples/ and must print no warning there: every task it asks for (the Makefile's
/// RUN_TASKS, on the validation split) has its file, every row parses, and the cross-fitted probes of the
/// tasks without a train split have enough rows per fold not to warn.
@Suite struct ShippedSamplesTests {
    static let root = PythonReference.repositoryRoot

    /// RUN_TASKS as the Makefile sets it.
    static func runTasks() throws -> String {
        let makefile = try String(contentsOfFile: root + "/Makefile", encoding: .utf8)
        let line = try #require(makefile.split(separator: "\n").first { $0.hasPrefix("RUN_TASKS ?= ") })
        return String(line.dropFirst("RUN_TASKS ?= ".count)).trimmingCharacters(in: .whitespaces)
    }

    @Test func everyTaskMakeRunAsksForReadsCleanlyFromTheSamples() throws {
        let makefile = try String(contentsOfFile: Self.root + "/Makefile", encoding: .utf8)
        #expect(makefile.contains("--tasks $(RUN_TASKS) --split validation"))
        let tasks = try TaskRegistry(directory: Self.root + "/tasks").resolve(try Self.runTasks())
        #expect(tasks.count == 7 + 15)
        for task in tasks {
            let file = try #require(task.dataFiles[.validation], "\(task.task) has no validation file")
            let evaluated = try DatasetReader.read(Self.root + "/samples/" + file, task: task, split: .validation)
            #expect(evaluated.problems.isEmpty, "\(file): \(evaluated.problems.map(\.description))")
            #expect(evaluated.isLabeled && !evaluated.rows.isEmpty, "\(file)")
            if let trainFile = task.dataFiles[.train], FileManager.default.fileExists(atPath: Self.root + "/samples/" + trainFile) {
                let train = try DatasetReader.read(Self.root + "/samples/" + trainFile, task: task, split: .train)
                #expect(train.problems.isEmpty, "\(trainFile): \(train.problems.map(\.description))")
            } else {
                // The probe is cross-fitted over the evaluated rows: the warning's threshold must not be met.
                let labeled = evaluated.rows.filter { $0.label != nil }.count
                #expect(labeled >= EvaluationRun.foldCount * EvaluationRun.fewRowsPerFold, "\(task.task): \(labeled) labelled rows")
            }
        }
    }
}
