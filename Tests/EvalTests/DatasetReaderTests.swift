import Foundation
import TestSupport
import Testing
@testable import Eval

/// Every GLUE and XNLI file in the shared data reads completely, each with its own layout.
@Suite struct DatasetReaderTests {
    static func registry() throws -> TaskRegistry { try TaskRegistry(directory: TaskRegistryTests.tasksDirectory) }

    /// Rows per file in ../shared/data (its PROVENANCE.md).
    static let expectedRows: [String: (TaskDefinition.Split, Int)] = [
        "cola": (.validation, 1043), "sst2": (.validation, 872), "mrpc": (.validation, 408), "stsb": (.validation, 1500),
        "qnli": (.validation, 5463), "rte": (.validation, 277), "wnli": (.validation, 71), "ax": (.test, 1104),
    ]

    @Test(.enabled(if: TestData.hasData, "needs the GLUE and XNLI data (PIXELGPT_DATA)"))
    func readsTheSharedGLUEAndXNLIData() throws {
        let data = try #require(TestData.directory)
        let registry = try Self.registry()
        for (name, (split, count)) in Self.expectedRows {
            let task = try #require(registry.tasks.first { $0.task == name })
            let file = data + "/" + task.dataFiles[split]!
            let read = try DatasetReader.read(file, task: task, split: split)
            #expect(read.problems.isEmpty, "\(name): \(read.problems.prefix(3))")
            #expect(read.rows.count == count, "\(name)")
            #expect(read.isLabeled == (name != "ax"), "\(name)")
            #expect(read.rows.allSatisfy { !$0.textA.isEmpty && (task.hasPair == ($0.textB != nil)) }, "\(name)")
        }
        for language in TaskRegistryTests.xnliLanguages {
            let task = try #require(registry.tasks.first { $0.task == "xnli_\(language)" })
            let dev = try DatasetReader.read(data + "/" + task.dataFiles[.validation]!, task: task, split: .validation)
            #expect(dev.problems.isEmpty && dev.rows.count == 2490, "\(language)")
            // 830 per class (PROVENANCE.md).
            let counts = Dictionary(grouping: dev.rows.compactMap { $0.label?.value }, by: { $0 }).mapValues(\.count)
            #expect(counts == [0: 830, 1: 830, 2: 830], "\(language)")
            let test = try DatasetReader.read(data + "/" + task.unlabeledFiles![.test]!, task: task, split: .test, unlabeled: true)
            #expect(test.problems.isEmpty && test.rows.count == 5010 && !test.isLabeled, "\(language)")
        }
        // The other splits read without problems too; CoLA's test set has its own layout.
        let cola = try #require(registry.tasks.first { $0.task == "cola" })
        let colaTest = try DatasetReader.read(data + "/glue/CoLA/test.tsv", task: cola, split: .test)
        #expect(colaTest.problems.isEmpty && colaTest.rows.count == 1063 && !colaTest.isLabeled)
        let mrpc = try #require(registry.tasks.first { $0.task == "mrpc" })
        let mrpcDev = try DatasetReader.read(data + "/glue/MRPC/dev.tsv", task: mrpc, split: .validation)
        #expect(mrpcDev.rows[0].textB?.hasPrefix("\"The foodservice pie business") == true)  // the unmatched quote is kept
    }

    @Test func malformedRowsAreReportedWithTheirLine() throws {
        let registry = try Self.registry()
        let rte = try #require(registry.tasks.first { $0.task == "rte" })
        let dir = try TemporaryDirectory()
        var bytes = Array("index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tentailment\n1\tonly two\n2\tC.\tD.\tmaybe\n".utf8)
        bytes += [0x33, 0x09, 0xFF, 0xFE, 0x09, 0x45, 0x09] + Array("entailment\r\n4\tE.\tF.\tnot_entailment\r\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: dir.file("dev.tsv")))
        let read = try DatasetReader.read(dir.file("dev.tsv"), task: rte, split: .validation)
        #expect(read.rows.map(\.line) == [2, 6])
        #expect(read.rows.map(\.index) == [0, 4])
        #expect(read.rows.last?.label == .classIndex(1))
        #expect(read.problems.map(\.line) == [3, 4, 5])
        #expect(read.problems[1].description.hasSuffix("dev.tsv:4: label \"maybe\" is not one of entailment, not_entailment"))
        #expect(read.problems[2].reason == "invalid UTF-8")

        try Data("{\"sentence1\": \"a\", \"sentence2\": \"b\", \"label\": 1}\nnot json\n{\"sentence1\": \"a\"}\n".utf8)
            .write(to: URL(fileURLWithPath: dir.file("rows.jsonl")))
        let jsonl = try DatasetReader.read(dir.file("rows.jsonl"), task: rte, split: .validation)
        #expect(jsonl.rows.count == 1 && jsonl.rows[0].label == .classIndex(1))
        #expect(jsonl.problems.map(\.line) == [2, 3])
    }

    /// Hostile inputs, item 13: a dev.tsv with CR-only line endings gave 0 rows. Lines end as Python's text
    /// mode ends them (HF datasets reads GLUE and XNLI with csv.reader over open(path), QUOTE_NONE): the
    /// rows are those Python reads, with any mix of "\n", "\r\n" and "\r".
    @Test(.enabled(if: PythonReference.isAvailable("csv"))) func lineEndingsAreUniversalNewlinesAsInPython() throws {
        let rte = try #require(try Self.registry().tasks.first { $0.task == "rte" })
        let dir = try TemporaryDirectory()
        let body = ["index\tsentence1\tsentence2\tlabel", "0\tA \"quoted.\tB.\tentailment", "1\tC.\tD.\tnot_entailment", "2\tE.\tF.\tentailment"]
        for (name, separators) in [("cr", ["\r", "\r", "\r", "\r"]), ("mixed", ["\r\n", "\r", "\n", ""]), ("crlf", ["\r\n", "\r\n", "\r\n", "\r\n"])] {
            let path = dir.file("\(name).tsv")
            try Data(zip(body, separators).map { $0 + $1 }.joined().utf8).write(to: URL(fileURLWithPath: path))
            let read = try DatasetReader.read(path, task: rte, split: .validation)
            let script = """
            import csv, json, sys
            with open(sys.argv[1], encoding='utf-8') as f:
                rows = list(csv.DictReader(f, delimiter='\\t', quoting=csv.QUOTE_NONE))
            print(json.dumps([[r['sentence1'], r['sentence2'], r['label']] for r in rows]))
            """
            let python = try #require(try JSONSerialization.jsonObject(with: try PythonReference.run(["-c", script, path])) as? [[String]])
            #expect(read.problems.isEmpty, "\(name): \(read.problems)")
            #expect(read.rows.map { [$0.textA, $0.textB ?? "", rte.labelList![Int($0.label!.value)]] } == python, "\(name)")
            #expect(read.rows.map(\.line) == [2, 3, 4], "\(name)")
        }
    }

    /// Item 13: one short first row of a headerless XNLI file made the whole file "unlabeled" and the task
    /// was skipped. The file's role (data_files or unlabeled_files) decides; the short row is reported.
    @Test func theFilesRoleDecidesWhetherRowsAreLabelled() throws {
        let xnli = try #require(try Self.registry().tasks.first { $0.task == "xnli_en" })
        let dir = try TemporaryDirectory()
        let path = dir.file("dev-en.tsv")
        try Data("A.\tB.\nC.\tD.\tneutral\nE.\tF.\tcontradiction\n".utf8).write(to: URL(fileURLWithPath: path))
        let labelled = try DatasetReader.read(path, task: xnli, split: .validation)
        #expect(labelled.isLabeled && labelled.rows.map(\.label) == [.classIndex(1), .classIndex(2)])
        #expect(labelled.problems.map(\.description) == ["\(path):1: 2 fields, expected at least 3"])
        let unlabelled = try DatasetReader.read(path, task: xnli, split: .test, unlabeled: true)
        #expect(unlabelled.problems.isEmpty && unlabelled.rows.count == 3 && !unlabelled.isLabeled)
    }
}
