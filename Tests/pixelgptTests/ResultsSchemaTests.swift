import Foundation
import TestSupport
import Testing

/// Issue 18, "results.json v3 closer to what lm-evaluation-harness and HF write": real small evaluations
/// (a random tiny checkpoint on the shipped samples, text and pixel modality, GLUE tasks of every metric and
/// an XNLI one) validate against docs/results.schema.json, which requires every promised field; their
/// standard errors agree with ones recomputed from the samples (scripts/check_results_schema.py); the data
/// hashes are the files' SHA-256; the samples name their labels and carry texts from the data files; the
/// CPU and git revision are this machine's and this checkout's.
@Suite struct ResultsSchemaTests {
    static let samples = PythonReference.repositoryRoot + "/samples"

    static func check(_ output: String) throws {
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                    ["python3", PythonReference.repositoryRoot + "/scripts/check_results_schema.py", output, "--this-machine"])
        #expect(result.status == 0, "\(result.stdoutText)\(result.stderr)")
    }

    @Test(.enabled(if: TestData.hasData && PythonReference.isAvailableOrRequired("jsonschema, numpy, scipy, sklearn")))
    func smallRunsValidateAndTheirStandardErrorsHold() throws {
        let dir = try TemporaryDirectory()
        let model = try HostileInputTests.tinyCheckpoint(dir)
        let text = try HostileInputTests.run(["eval", "--model", model, "--tasks", "cola,mrpc,stsb,xnli_en", "--modality", "text",
                                              "--data-dir", Self.samples, "--tokenizer", TestData.llamaTokenizer, "--limit", "150",
                                              "--threads", "2", "--output-dir", dir.file("text")], seconds: 600)
        #expect(text.status == 0, "\(text.stderr)")
        try Self.check(dir.file("text"))
        let results = try HonestRunTests.json(dir.file("text/results.json"))
        // The threads that ran: the forward kernels' and OpenBLAS's, both set by --threads.
        #expect(results["threads"] as? Int == 2 && results["blas_threads"] as? Int == 2)
        let tasks = try #require(results["tasks"] as? [[String: Any]])
        #expect(tasks.map { ($0["metrics_stderr"] as? [String: Double])?.keys.sorted() ?? [] }
                == [["mcc"], ["acc", "f1"], ["pearson", "spearmanr"], ["acc"]])

        let pixel = try HostileInputTests.run(["eval", "--model", model, "--tasks", "rte,stsb,xnli_en", "--modality", "pixel",
                                               "--data-dir", Self.samples, "--limit", "12", "--train-limit", "16",
                                               "--output-dir", dir.file("pixel")], seconds: 600)
        #expect(pixel.status == 0, "\(pixel.stderr)")
        try Self.check(dir.file("pixel"))

        // Fine-tuned heads of two seeds (selection and training records; standard errors over both seeds): an
        // XNLI head is trained on every language's rows here, so the task records every language's file.
        let tuned = try HostileInputTests.run(["eval", "--model", model, "--tasks", "mrpc,xnli_en", "--modality", "text",
                                               "--data-dir", Self.samples, "--tokenizer", TestData.llamaTokenizer, "--limit", "40",
                                               "--train-limit", "40", "--head", "finetune", "--seeds", "1,2", "--head-max-steps", "30",
                                               "--head-warmup-steps", "5", "--head-eval-every", "10", "--output-dir", dir.file("tuned")], seconds: 600)
        #expect(tuned.status == 0, "\(tuned.stderr)")
        try Self.check(dir.file("tuned"))
        let tunedTasks = try #require(try HonestRunTests.json(dir.file("tuned/results.json"))["tasks"] as? [[String: Any]])
        #expect(tunedTasks.map { ($0["metrics_stderr"] as? [String: Double])?.keys.sorted() ?? [] } == [["acc", "f1"], ["acc"]])
        let xnliFiles = try #require(tunedTasks.last?["data_sha256"] as? [String: String]).keys.sorted()
        #expect(xnliFiles.count == 15 && xnliFiles.allSatisfy { $0.hasPrefix("xnli/dev-") }, "\(xnliFiles)")
    }
}
