import Foundation
import TestSupport
import Testing
@testable import Eval

/// The GLUE benchmark server's submission format, as jiant writes it (nyu-mll/jiant at daa5a258, 2022-10-17):
/// - jiant/scripts/postproc/glue_submission_formatter.py: the file of each task (`formatted_pred_output_filenames`)
///   and a header row ("index", "prediction") before tab-separated (index, prediction) rows;
/// - jiant/tasks/core.py `GlueMixin.get_glue_preds`: index = the row's position in the test file
///   (guid "test-i"), prediction = `str(LABELS[pred]).lower()`;
/// - jiant/tasks/lib/*.py `LABELS`: ["0", "1"] for cola, sst, mrpc, qqp and wnli; ["entailment",
///   "not_entailment"] for rte and qnli; ["contradiction", "entailment", "neutral"] for mnli, and for
///   mnli_mismatched and glue_diagnostics (AX), which subclass it;
/// - jiant/tasks/lib/stsb.py `get_glue_preds`: `str(round(pred, 3))`.
@Suite struct GLUESubmissionTests {
    static let jiantFiles = [
        "cola": "CoLA.tsv", "sst2": "SST-2.tsv", "mrpc": "MRPC.tsv", "stsb": "STS-B.tsv", "mnli": "MNLI-m.tsv",
        "mnli_mismatched": "MNLI-mm.tsv", "qnli": "QNLI.tsv", "qqp": "QQP.tsv", "rte": "RTE.tsv", "wnli": "WNLI.tsv", "ax": "AX.tsv",
    ]
    static let jiantLabels: [String: [String]] = [
        "cola": ["0", "1"], "sst2": ["0", "1"], "mrpc": ["0", "1"], "qqp": ["0", "1"], "wnli": ["0", "1"],
        "rte": ["entailment", "not_entailment"], "qnli": ["entailment", "not_entailment"],
        "mnli": ["contradiction", "entailment", "neutral"], "mnli_mismatched": ["contradiction", "entailment", "neutral"],
        "ax": ["contradiction", "entailment", "neutral"],
    ]

    @Test func filesAndVocabulariesAreTheServers() throws {
        let registry = try TaskRegistry(directory: TaskRegistryTests.tasksDirectory)
        #expect(Dictionary(uniqueKeysWithValues: GLUESubmission.entries.map { ($0.task, $0.file) }) == Self.jiantFiles)
        #expect(Set(registry.groups["glue"] ?? []) == Set(Self.jiantFiles.keys), "every task of the glue group has a file")
        #expect(GLUESubmission.header == "index\tprediction")
        for entry in GLUESubmission.entries {
            let task = try #require(registry.tasks.first { $0.task == entry.task })
            switch entry.encoding {
            case .score:
                #expect(Self.jiantLabels[entry.task] == nil && task.outputType == .regression)
            case .labelName(let accepted):
                #expect(accepted == Set(try #require(Self.jiantLabels[entry.task])), "\(entry.task)")
                #expect(Set(task.labelList ?? []) == accepted, "\(entry.task): the task's names are the server's")
            case .classDigit:
                #expect(Self.jiantLabels[entry.task] == ["0", "1"], "\(entry.task)")
                // The digit written is the class id: the GLUE files' label "k" is read as id k.
                for k in 0..<2 {
                    #expect(try DatasetReader.parseLabel(String(k), task: task).get() == .classIndex(k), "\(entry.task)")
                }
            }
        }
    }

    /// STS-B: the same number as Python's round(pred, 3), which jiant writes (as "3.0" where this writes "3.000").
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("json")))
    func predictionsAreWrittenInTheServersForm() throws {
        func fail(_ reason: String) -> TaskError { TaskError(task: "t", key: "k", reason: reason) }
        let record = { (p: Double) in SampleRecord(index: 0, label: nil, prediction: p, logits: []) }
        let scores = [3.2456257, 0.0005, 0.0015, 2.0004999, 4.9995, 5.0, -0.12345, 1.0 / 3.0]
        let written = try scores.map { try GLUESubmission.prediction(record($0), .score, labels: [], fail: fail) }
        let python = try PythonReference.run(["-c", "import json,sys; print(json.dumps([round(float(v), 3) for v in sys.argv[1:]]))"]
                                             + scores.map { String(describing: $0) })
        let rounded = try #require(try JSONSerialization.jsonObject(with: python) as? [Double])
        #expect(written.map { Double($0)! } == rounded, "\(written) vs \(rounded)")
        #expect(written.allSatisfy { $0.split(separator: ".").last?.count == 3 })
        #expect(try GLUESubmission.prediction(record(1), .classDigit, labels: ["a", "b"], fail: fail) == "1")
        #expect(try GLUESubmission.prediction(record(1), .labelName(accepted: []), labels: ["entailment", "not_entailment"], fail: fail) == "not_entailment")
        #expect(throws: TaskError.self) { try GLUESubmission.prediction(record(2), .classDigit, labels: ["a", "b"], fail: fail) }
        #expect(throws: TaskError.self) { try GLUESubmission.prediction(record(.nan), .score, labels: [], fail: fail) }
    }

    /// Rows are named by the test file's own index column, by position where it has none; a blank line is no
    /// row; a file other than the one the run hashed is refused.
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("hashlib")))
    func rowsAreNamedByTheTestFilesIndexColumn() throws {
        let dir = try TemporaryDirectory()
        func fail(_ reason: String) -> TaskError { TaskError(task: "t", key: "k", reason: reason) }
        try Data("sentence\tindex\r\nA\t17\n\nB\t4\n   \n".utf8).write(to: URL(fileURLWithPath: dir.file("test.tsv")))
        #expect(try GLUESubmission.testIndexes(dir.file("test.tsv"), header: true, recorded: nil, fail: fail) == ["17", nil, "4", nil])
        #expect(try GLUESubmission.testIndexes(dir.file("test.tsv"), header: false, recorded: nil, fail: fail) == ["0", "1", nil, "3", nil])
        let hash = try #require(String(data: try PythonReference.run(["-c", "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())", dir.file("test.tsv")]), encoding: .utf8))
        let recorded = "test.tsv:" + hash.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try GLUESubmission.testIndexes(dir.file("test.tsv"), header: true, recorded: recorded, fail: fail)?.count == 4)
        #expect(throws: TaskError.self) { try GLUESubmission.testIndexes(dir.file("test.tsv"), header: true, recorded: "test.tsv:00", fail: fail) }
        #expect(try GLUESubmission.testIndexes(dir.file("rows.gz"), header: true, recorded: nil, fail: fail) == nil, "pre-rendered rows are named by position")
    }
}
