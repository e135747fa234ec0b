import Foundation
import TestSupport
import Testing

/// `pixelgpt export glue` on real `eval --split test` runs of a tiny checkpoint over the GLUE test files
/// (first rows only): the files, header, columns and label vocabularies of a GLUE submission
/// (GLUESubmissionTests pins them to jiant's formatter), the test files' own index column, and refusals.
@Suite struct GLUEExportCommandTests {
    static let names: [String: [String]] = ["rte": ["entailment", "not_entailment"], "ax": ["entailment", "neutral", "contradiction"]]
    static let files = ["cola": ("CoLA.tsv", "glue/CoLA/test.tsv"), "sst2": ("SST-2.tsv", "glue/SST-2/test.tsv"),
                        "mrpc": ("MRPC.tsv", "glue/MRPC/test.tsv"), "stsb": ("STS-B.tsv", "glue/STS-B/test.tsv"),
                        "rte": ("RTE.tsv", "glue/RTE/test.tsv"), "wnli": ("WNLI.tsv", "glue/WNLI/test.tsv"),
                        "ax": ("AX.tsv", "glue/AX/diagnostic.tsv")]

    /// The `index` column of a GLUE test file, in file order (its header names the column).
    static func indexColumn(_ path: String) throws -> [String] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\u{FEFF}", with: "")
            .split(separator: "\n", omittingEmptySubsequences: false).map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        let column = try #require(lines.first?.firstIndex(of: "index"))
        return lines.dropFirst().filter { $0.count > column }.map { String($0[column]) }
    }

    static func samples(_ path: String) throws -> [Double] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            let object = try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            return try #require(object["prediction"] as? Double)
        }
    }

    @Test(.enabled(if: TestData.hasData)) func writesTheSubmissionFilesOfATestRun() throws {
        let dir = try TemporaryDirectory()
        let data = try #require(TestData.directory)
        let model = try HostileInputTests.tinyCheckpoint(dir)
        let common = ["--modality", "pixel", "--split", "test", "--limit", "4", "--data-dir", data]
        let run = try HostileInputTests.run(["eval", "--model", model, "--tasks", "rte,cola,stsb,wnli,mrpc,sst2", "--train-limit", "8",
                                             "--output-dir", dir.file("run")] + common, seconds: 600)
        #expect(run.status == 0, "\(run.stderr)")

        // Four rows of each test file and five tasks absent: refused in one line, nothing written.
        let refused = try BuiltTool.run(["export", "glue", dir.file("run"), "--out", dir.file("sub")])
        HostileInputTests.expectOneLineError(CommandLineTests.Result(status: refused.status, stdout: refused.stdoutText, stderr: refused.stderr),
                                             containing: ["not a complete GLUE submission", "QQP.tsv (qqp: not in the run)", "RTE.tsv (rte: 4 of the 3000 test rows)",
                                                          "MNLI-m.tsv", "MNLI-mm.tsv", "QNLI.tsv", "AX.tsv", "--allow-partial"])
        #expect(!FileManager.default.fileExists(atPath: dir.file("sub")))

        let written = try BuiltTool.run(["export", "glue", dir.file("run"), "--out", dir.file("sub"), "--allow-partial"])
        #expect(written.status == 0 && written.stdout.isEmpty, "\(written.stderr)")
        #expect(written.stderr.contains("not complete: QQP.tsv (qqp: not in the run)"), "\(written.stderr)")
        let tasks = ["rte", "cola", "stsb", "wnli", "mrpc", "sst2"]
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.file("sub"))) == Set(tasks.map { Self.files[$0]!.0 }))
        for task in tasks { try Self.check(task, submission: dir.file("sub"), run: dir.file("run"), data: data, rows: 4) }

        // Names from a task file whose labels changed since the run, or rows named from a test file that
        // changed, would be wrong: refused, naming the file and the reason.
        let runJSON = dir.file("run/run.json")
        let recorded = try String(contentsOfFile: runJSON, encoding: .utf8)
        for (edit, needle) in [({ (t: String) in t.replacingOccurrences(of: "entailment,not_entailment", with: "not_entailment,entailment") }, "the run's labels (not_entailment,entailment) differ"),
                               ({ (t: String) in t.replacingOccurrences(of: "\"test.tsv:", with: "\"test.tsv:0") }, "changed since the run")] {
            try edit(recorded).write(toFile: runJSON, atomically: true, encoding: .utf8)
            let refusedEdit = try BuiltTool.run(["export", "glue", dir.file("run"), "--out", dir.file("sub-edit"), "--allow-partial"])
            HostileInputTests.expectOneLineError(CommandLineTests.Result(status: refusedEdit.status, stdout: refusedEdit.stdoutText, stderr: refusedEdit.stderr),
                                                 containing: [needle])
            #expect(!FileManager.default.fileExists(atPath: dir.file("sub-edit")))
        }
        try recorded.write(toFile: runJSON, atomically: true, encoding: .utf8)

        // AX: the diagnostic set, predicted by a three-class (MNLI) head.
        let mnliModel = dir.file("mnli")
        #expect(try CommandLineTests.run(["init", "--preset", "tiny", "--num-labels", "3", mnliModel]).status == 0)
        let ax = try HostileInputTests.run(["eval", "--model", mnliModel, "--tasks", "ax", "--head", "checkpoint",
                                            "--output-dir", dir.file("run-ax")] + common, seconds: 600)
        #expect(ax.status == 0, "\(ax.stderr)")
        let axWritten = try BuiltTool.run(["export", "glue", dir.file("run-ax"), "--out", dir.file("sub-ax"), "--allow-partial"])
        #expect(axWritten.status == 0, "\(axWritten.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("sub-ax")) == ["AX.tsv"])
        try Self.check("ax", submission: dir.file("sub-ax"), run: dir.file("run-ax"), data: data, rows: 4)

        // An existing, non-empty --out is refused and left as it was.
        let again = try BuiltTool.run(["export", "glue", dir.file("run"), "--out", dir.file("sub-ax"), "--allow-partial"])
        #expect(again.status == 1 && again.stderr.contains("exists and is not an empty directory"), "\(again.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("sub-ax")) == ["AX.tsv"])
    }

    /// One file: the header, two columns, `rows` rows whose index is the test file's own index column, and
    /// the run's predictions in the server's vocabulary.
    static func check(_ task: String, submission: String, run: String, data: String, rows: Int) throws {
        let (name, testFile) = Self.files[task]!
        let text = try String(contentsOfFile: submission + "/" + name, encoding: .utf8)
        #expect(text.hasSuffix("\n"), "\(name)")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(lines.first == ["index", "prediction"], "\(name)")
        let body = Array(lines.dropFirst())
        #expect(body.count == rows && body.allSatisfy { $0.count == 2 }, "\(name): \(body)")
        #expect(body.map { $0[0] } == Array(try Self.indexColumn(data + "/" + testFile).prefix(rows)), "\(name)")
        let predicted = try Self.samples(run + "/samples_\(task).jsonl")
        let written = body.map { $0[1] }
        switch task {
        case "stsb":
            #expect(written.allSatisfy { $0.range(of: #"^-?[0-9]+\.[0-9]{3}$"#, options: .regularExpression) != nil }, "\(written)")
            #expect(zip(written, predicted).allSatisfy { abs(Double($0)! - $1) <= 0.0005 }, "\(written) vs \(predicted)")
        case "rte", "ax":
            #expect(written == predicted.map { Self.names[task]![Int($0)] }, "\(name): \(written) vs \(predicted)")
        default:
            #expect(written == predicted.map { String(Int($0)) } && Set(written).isSubset(of: ["0", "1"]), "\(name): \(written)")
        }
    }

    /// A run without test-split predictions (the reported validation split) gives nothing to submit.
    @Test func refusesARunWithoutTestPredictions() throws {
        let dir = try TemporaryDirectory()
        let model = try HostileInputTests.tinyCheckpoint(dir)
        let run = try HostileInputTests.run(["eval", "--model", model, "--tasks", "rte", "--modality", "pixel", "--limit", "4", "--train-limit", "8",
                                             "--data-dir", HonestRunTests.samples, "--output-dir", dir.file("run")], seconds: 600)
        #expect(run.status == 0, "\(run.stderr)")
        for extra in [[], ["--allow-partial"]] {
            let refused = try BuiltTool.run(["export", "glue", dir.file("run"), "--out", dir.file("sub")] + extra)
            HostileInputTests.expectOneLineError(CommandLineTests.Result(status: refused.status, stdout: refused.stdoutText, stderr: refused.stderr),
                                                 containing: ["no test-split predictions", "--split test", "RTE.tsv (rte: evaluated on the validation split, not test)"])
            #expect(!FileManager.default.fileExists(atPath: dir.file("sub")))
        }
        let notARun = try BuiltTool.run(["export", "glue", dir.path, "--out", dir.file("sub")])
        #expect(notARun.status == 1 && notARun.stderr.contains("results.json"), "\(notARun.stderr)")
    }
}
