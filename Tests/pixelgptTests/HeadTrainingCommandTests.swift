import Foundation
import TestSupport
import Testing

/// `pixelgpt eval --head finetune --save-heads DIR`, then `pixelgpt eval --model DIR/... --head checkpoint`:
/// the saved classifier reproduces the fine-tuned head's predictions exactly.
@Suite struct HeadTrainingCommandTests {
    @Test func savedHeadReproducesItsPredictions() throws {
        let dir = try TemporaryDirectory()
        let samples = PythonReference.repositoryRoot + "/samples"
        let created = try CommandLineTests.run(["init", "--preset", "tiny", "--seed", "4", dir.file("model")])
        #expect(created.status == 0, "\(created.stderr)")
        let common = ["--tasks", "rte", "--modality", "pixel", "--data-dir", samples, "--limit", "16", "--train-limit", "24"]
        let trained = try CommandLineTests.run(["eval", "--model", dir.file("model"), "--head", "finetune", "--seeds", "7,8",
                                                "--head-max-steps", "30", "--head-warmup-steps", "5", "--head-eval-every", "10", "--save-heads", dir.file("heads"),
                                                "--output-dir", dir.file("tuned")] + common)
        #expect(trained.status == 0, "\(trained.stderr)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("tuned/results.json")))) as? [String: Any])
        let task = try #require((results["tasks"] as? [[String: Any]])?.first)
        #expect(task["seeds"] as? [Int] == [7, 8])
        #expect((task["head"] as? [String: Any])?["saved"] as? [String] == [dir.file("heads/rte/seed-7"), dir.file("heads/rte/seed-8")])

        let reloaded = try CommandLineTests.run(["eval", "--model", dir.file("heads/rte/seed-7"), "--head", "checkpoint",
                                                 "--output-dir", dir.file("reloaded")] + common)
        #expect(reloaded.status == 0, "\(reloaded.stderr)")
        let original = try String(contentsOfFile: dir.file("tuned/samples_rte.jsonl"), encoding: .utf8)
        #expect(!original.isEmpty)
        #expect(try String(contentsOfFile: dir.file("reloaded/samples_rte.jsonl"), encoding: .utf8) == original)

        // Bad seeds are refused in one line, before any work.
        let bad = try CommandLineTests.run(["eval", "--model", dir.file("model"), "--head", "finetune", "--seeds", "1,x"] + common)
        #expect(bad.status != 0 && bad.stderr.contains("--seeds"))
    }

    /// `--train-layers K` on the command line: a saved tail reproduces its predictions (logits to 1e-4, a
    /// different summation order than the full forward), and misuse fails in one line before any work.
    @Test func trainLayersSavesAFullCopyThatReproducesItsPredictions() throws {
        let dir = try TemporaryDirectory()
        let samples = PythonReference.repositoryRoot + "/samples"
        let created = try CommandLineTests.run(["init", "--preset", "tiny", "--seed", "5", dir.file("model")])
        #expect(created.status == 0, "\(created.stderr)")
        // RTE with 64-patch strips: the tail examples come from a full-length forward, slow in a debug build.
        let yaml = try String(contentsOfFile: PythonReference.repositoryRoot + "/tasks/glue/rte.yaml", encoding: .utf8)
        let short = yaml.replacingOccurrences(of: #"sequence_length: \{[^}]*\}"#, with: "sequence_length: {text: 128, pixel: 64, pair: 64}",
                                              options: .regularExpression)
        #expect(short != yaml)
        try FileManager.default.createDirectory(atPath: dir.file("tasks"), withIntermediateDirectories: true)
        try short.write(toFile: dir.file("tasks/rte.yaml"), atomically: true, encoding: .utf8)
        let common = ["--tasks", "rte", "--tasks-dir", dir.file("tasks"), "--modality", "pixel", "--data-dir", samples, "--limit", "16", "--train-limit", "24"]
        let trained = try CommandLineTests.run(["eval", "--model", dir.file("model"), "--head", "finetune", "--train-layers", "2",
                                                "--head-max-steps", "20", "--head-warmup-steps", "5", "--head-eval-every", "10", "--save-heads", dir.file("heads"),
                                                "--output-dir", dir.file("tuned")] + common)
        #expect(trained.status == 0, "\(trained.stderr)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("tuned/results.json")))) as? [String: Any])
        let head = try #require((results["tasks"] as? [[String: Any]])?.first?["head"] as? [String: Any])
        #expect((head["training"] as? [String: Any])?["train_layers"] as? Int == 2 && head["kind"] as? String == "finetune")
        #expect(FileManager.default.fileExists(atPath: dir.file("heads/rte/seed-42/model.safetensors")))

        let reloaded = try CommandLineTests.run(["eval", "--model", dir.file("heads/rte/seed-42"), "--head", "checkpoint",
                                                 "--output-dir", dir.file("reloaded")] + common)
        #expect(reloaded.status == 0, "\(reloaded.stderr)")
        func records(_ path: String) throws -> [[String: Any]] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            }
        }
        let original = try records(dir.file("tuned/samples_rte.jsonl")), again = try records(dir.file("reloaded/samples_rte.jsonl"))
        #expect(original.count == 16 && again.count == 16)
        for (a, b) in zip(original, again) {
            #expect(a["prediction"] as? Double == b["prediction"] as? Double)
            let x = try #require(a["logits"] as? [Double]), y = try #require(b["logits"] as? [Double])
            let scale = max(x.map(abs).max() ?? 0, 1e-3)
            #expect(zip(x, y).allSatisfy { abs($0 - $1) <= 1e-4 * scale }, "\(x) vs \(y)")
        }

        // Misuse: without --head finetune, or more layers than the model has (tiny: 2); one line each.
        let probe = try CommandLineTests.run(["eval", "--model", dir.file("model"), "--train-layers", "1", "--output-dir", dir.file("x")] + common)
        #expect(probe.status != 0 && probe.stderr.contains("--train-layers 1 only applies to --head finetune"))
        let tooMany = try CommandLineTests.run(["eval", "--model", dir.file("model"), "--head", "finetune", "--train-layers", "3",
                                                "--output-dir", dir.file("y")] + common)
        #expect(tooMany.status != 0 && tooMany.stderr.contains("train-layers: 3 is outside 0...2"))
        for failed in [probe, tooMany] {
            #expect(failed.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count == 1, "\(failed.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("y/results.json")))
    }
}
