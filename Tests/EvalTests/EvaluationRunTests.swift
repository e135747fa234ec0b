import Checkpoints
import Foundation
import Model
import Render
import TestSupport
import Testing
@testable import Eval

/// The main job end to end on a small random checkpoint and the project's samples/.
@Suite(.serialized) struct EvaluationRunTests {
    static let samples = PythonReference.repositoryRoot + "/samples"
    /// The Llama-2 tokenizer when the data is given (`TestData`); text and pair runs need it.
    static var tokenizer: String? { TestData.hasData ? TestData.llamaTokenizer : nil }

    /// The modalities a run can cover here: pixel always, text and pair with the tokenizer.
    static func modalities(_ all: [TaskDefinition.Modality]) -> [TaskDefinition.Modality] {
        all.filter { $0 == .pixel || tokenizer != nil }
    }

    /// The Llama vocabulary (the real tokenizer's ids) on a model small enough for a debug build.
    static func checkpoint(in dir: TemporaryDirectory) throws -> String {
        var config = PixelGPTConfig.preset(.tiny)
        (config.hiddenSize, config.intermediateSize, config.numHiddenLayers) = (32, 64, 1)
        try RandomCheckpoint.write(config: config, seed: 3, to: dir.file("model"))
        return dir.file("model")
    }

    static func options(_ model: String, tasks: String, modality: TaskDefinition.Modality, output: String) throws -> EvaluationRun.Options {
        let registry = try TaskRegistry(directory: PythonReference.repositoryRoot + "/tasks")
        var options = EvaluationRun.Options(modelPath: model, tasks: try registry.resolve(tasks), modality: modality,
                                            dataDirectory: samples, outputDirectory: output)
        options.tokenizerPath = tokenizer
        options.rendererDirectory = PythonReference.repositoryRoot + "/renderers/noto"
        options.limit = 24
        options.trainLimit = 40
        return options
    }

    static func metricsFromSamples(_ output: String, task: TaskDefinition) throws -> [String: Double] {
        let lines = try String(contentsOfFile: output + "/samples_\(task.task).jsonl", encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try JSONDecoder().decode(SampleRecord.self, from: Data($0.utf8)) }
        return Dictionary(uniqueKeysWithValues: task.metricList.map { m in
            (m.metric.rawValue, Metrics.value(m.metric, predictions: records.map(\.prediction), labels: records.map { $0.label! }))
        })
    }

    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)"))
    func textRunWritesConsistentResultsAndResumes() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        let output = dir.file("out")
        let options = try Self.options(model, tasks: "rte,stsb,xnli_en", modality: .text, output: output)
        let results = try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run()
        #expect(results.tasks.map(\.task) == ["rte", "stsb", "xnli_en"])
        for (result, task) in zip(results.tasks, options.tasks) {
            #expect(result.rows == 24 && result.labeled)
            // results.json's metrics are exactly those of the samples written (consistency; the check
            // against independent implementations follows).
            #expect(result.metrics == (try Self.metricsFromSamples(output, task: task)), "\(task.task)")
        }
        #expect(results.tasks[0].head.kind == "probe" && results.tasks[2].head.kind == "probe-crossfit")
        #expect(results.tasks[2].splitNote?.contains("evaluated validation") == true)
        // And equal to what scikit-learn and scipy (HF evaluate's definitions) compute from the samples;
        // setup installs them, and CI requires them.
        if PythonReference.isAvailableOrRequired("sklearn, scipy") {
            _ = try PythonReference.run([PythonReference.repositoryRoot + "/scripts/check_eval_results.py", output])
        }

        // Interrupted halfway: the samples log keeps 10 complete lines and a torn one.
        let samples = output + "/samples_rte.jsonl"
        let lines = try String(contentsOfFile: samples, encoding: .utf8).split(separator: "\n")
        try (lines.prefix(10).joined(separator: "\n") + "\n{\"index\":10,\"lo").write(toFile: samples, atomically: true, encoding: .utf8)
        for task in ["stsb", "xnli_en"] { try FileManager.default.removeItem(atPath: output + "/samples_\(task).jsonl") }
        var resumed = options
        resumed.resume = true
        let again = try EvaluationRun(options: resumed, log: { _ in }, progressOutput: { _ in }).run()
        #expect(again.tasks.map(\.metrics) == results.tasks.map(\.metrics))
        #expect(try String(contentsOfFile: samples, encoding: .utf8).split(separator: "\n") == lines)
    }

    /// Hostile inputs, item 10: `--resume` with another checkpoint continued the first model's samples file.
    /// Every setting that changes an output is recorded in run.json and a resume that differs is refused
    /// naming it; the same settings resume byte-identically.
    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)")) func resumeRefusesAnotherCheckpointDataOrOptions() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        var otherConfig = PixelGPTConfig.preset(.tiny)
        (otherConfig.hiddenSize, otherConfig.intermediateSize, otherConfig.numHiddenLayers) = (32, 64, 1)
        try RandomCheckpoint.write(config: otherConfig, seed: 4, to: dir.file("other"))
        let output = dir.file("out")
        var options = try Self.options(model, tasks: "rte", modality: .text, output: output)
        options.limit = 8
        options.trainLimit = 16
        let first = try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run()
        let samples = try Data(contentsOf: URL(fileURLWithPath: output + "/samples_rte.jsonl"))
        let record = try Data(contentsOf: URL(fileURLWithPath: output + "/run.json"))

        var resumed = options
        resumed.resume = true
        func refusal(_ edit: (inout EvaluationRun.Options) throws -> Void) throws -> String {
            var changed = resumed
            try edit(&changed)
            var message = ""
            #expect(throws: TaskError.self) {
                do { _ = try EvaluationRun(options: changed, log: { _ in }, progressOutput: { _ in }).run() } catch { message = "\(error)"; throw error }
            }
            // Refused before anything was written.
            #expect(try Data(contentsOf: URL(fileURLWithPath: output + "/samples_rte.jsonl")) == samples)
            #expect(try Data(contentsOf: URL(fileURLWithPath: output + "/run.json")) == record)
            #expect(!message.contains("\n"))
            return message
        }
        let weights = try refusal { $0.modelPath = dir.file("other") }
        #expect(weights.contains("--resume") && weights.contains("weights differs") && weights.contains("model.safetensors:"), "\(weights)")
        #expect(try refusal { $0.limit = 9 }.contains("limit differs"))
        #expect(try refusal { $0.modality = .pair }.contains("modality differs"))
        #expect(try refusal { $0.headOverrides = .init(); $0.headOverrides!.learningRate = 0.5 }.contains("head-options differs"))
        // Another data file under the same task: the first two dev rows swapped.
        let data = dir.file("data")
        try FileManager.default.createDirectory(atPath: data + "/glue", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.samples + "/glue/RTE", toPath: data + "/glue/RTE")
        var lines = try String(contentsOfFile: data + "/glue/RTE/dev.tsv", encoding: .utf8).components(separatedBy: "\n")
        lines.swapAt(1, 2)
        try lines.joined(separator: "\n").write(toFile: data + "/glue/RTE/dev.tsv", atomically: true, encoding: .utf8)
        let dataChange = try refusal { $0.dataDirectory = data }
        #expect(dataChange.contains("rte data differs") && dataChange.contains("dev.tsv"), "\(dataChange)")

        // The same settings resume: nothing recomputed, the same bytes.
        let again = try EvaluationRun(options: resumed, log: { _ in }, progressOutput: { _ in }).run()
        #expect(again.tasks.map(\.metrics) == first.tasks.map(\.metrics))
        #expect(try Data(contentsOf: URL(fileURLWithPath: output + "/samples_rte.jsonl")) == samples)

        // A samples line edited since (a prediction that is no class) is refused naming the file and row.
        let original = String(decoding: samples, as: UTF8.self)
        let prediction = try #require(original.firstRange(of: /"prediction":[0-9],/))
        let edited = original.replacingCharacters(in: prediction, with: #""prediction":7,"#)
        #expect(edited != original)
        try edited.write(toFile: output + "/samples_rte.jsonl", atomically: true, encoding: .utf8)
        #expect { try EvaluationRun(options: resumed, log: { _ in }, progressOutput: { _ in }).run() } throws: {
            "\($0)".contains("samples_rte.jsonl: row ") && "\($0)".contains("prediction 7.0 is not the argmax") && !"\($0)".contains("\n")
        }
        try samples.write(to: URL(fileURLWithPath: output + "/samples_rte.jsonl"))

        // Samples with no record of what made them (an older run directory) are not resumed either.
        try FileManager.default.removeItem(atPath: output + "/run.json")
        #expect { try EvaluationRun(options: resumed, log: { _ in }, progressOutput: { _ in }).run() } throws: {
            "\($0)".contains("samples_rte.jsonl") && "\($0)".contains("no run.json")
        }
    }

    /// A shared --cache-dir is keyed by everything the features depend on: another checkpoint or another data
    /// file under the same task and split gets features of its own, never the first run's.
    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)")) func sharedFeatureCacheNeverServesAnotherCheckpointOrDataFile() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        // The train rows in reverse order: the same row indices, other texts.
        let data = dir.file("data")
        try FileManager.default.createDirectory(atPath: data + "/glue", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.samples + "/glue/RTE", toPath: data + "/glue/RTE")
        let train = try String(contentsOfFile: data + "/glue/RTE/train.tsv", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let body = train.dropFirst().filter { !$0.isEmpty }
        try ([String(train[0])] + body.reversed().map(String.init)).joined(separator: "\n").appending("\n")
            .write(toFile: data + "/glue/RTE/train.tsv", atomically: true, encoding: .utf8)
        func run(_ dataDirectory: String, output: String, cache: String?) throws -> [String: Double] {
            var options = try Self.options(model, tasks: "rte", modality: .text, output: dir.file(output))
            (options.limit, options.trainLimit, options.dataDirectory, options.cacheDirectory) = (8, 16, dataDirectory, cache)
            return try #require(try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run().tasks.first).metrics
        }
        let shared = dir.file("cache")
        _ = try run(Self.samples, output: "a", cache: shared)
        let reversed = try run(data, output: "b", cache: shared)
        #expect(reversed == (try run(data, output: "c", cache: nil)))
        // Two train entries (one per train file) and one validation entry: the evaluated rows' features are
        // cached too (issue 18), and dev.tsv is the same bytes in both data directories.
        #expect(try FileManager.default.contentsOfDirectory(atPath: shared).count == 3)
    }

    @Test(arguments: EvaluationRunTests.modalities([.pixel, .pair]))
    func pixelAndPairRunsEndToEnd(_ modality: TaskDefinition.Modality) throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        var options = try Self.options(model, tasks: "rte", modality: modality, output: dir.file("out"))
        options.limit = 8
        options.trainLimit = 16
        let results = try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run()
        let rte = try #require(results.tasks.first)
        #expect(rte.rows == 8 && rte.metrics["acc"] != nil)
        #expect(results.renderer?.fontsConfSHA256.isEmpty == false)
        #expect(rte.metrics == (try Self.metricsFromSamples(dir.file("out"), task: options.tasks[0])))
    }

    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)"))
    func checkpointHeadNeedsAScoreOfTheRightShape() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        var options = try Self.options(model, tasks: "rte", modality: .text, output: dir.file("out"))
        options.head = .checkpoint
        #expect { try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run() } throws: {
            "\($0)".contains("no classification head")
        }
    }
}

/// Pixels read from the original's pre-rendered gzip datasets give the same features as rendering here,
/// when the files hold this renderer's strips (crop of a same-width image is the identity, SPEC 5.6).
@Suite struct RenderedDatasetEvaluationTests {
    @Test func preRenderedRowsEvaluateLikeRenderedOnes() throws {
        let dir = try TemporaryDirectory()
        let model = try EvaluationRunTests.checkpoint(in: dir)
        let registry = try TaskRegistry(directory: PythonReference.repositoryRoot + "/tasks")
        let rte = try #require(registry.tasks.first { $0.task == "rte" })
        let renderer = try TextRenderer(directory: PythonReference.repositoryRoot + "/renderers/noto")
        let data = dir.file("data")
        // The original's layout: rendered_glue/rte-<split>/part-00000.gz, rows {sentence1, sentence2, label, image, num_patches}.
        for (split, file) in [("validation", "glue/RTE/dev.tsv"), ("train", "glue/RTE/train.tsv")] {
            let rows = Array(try DatasetReader.read(EvaluationRunTests.samples + "/" + file, task: rte, split: split == "train" ? .train : .validation).rows.prefix(12))
            var lines: [String] = []
            for row in rows {
                let strip = try renderer.render(row.textA, pair: row.textB!, maxSeqLength: 768, mode: .rgb)
                let png = dir.file("strip.png")
                try PNGFile.write(strip, to: png)
                let object: [String: Any] = ["sentence1": row.textA, "sentence2": row.textB!, "label": Int(row.label!.value),
                                             "num_patches": strip.numTextPatches, "image": try Data(contentsOf: URL(fileURLWithPath: png)).base64EncodedString()]
                lines.append(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
            }
            let folder = data + "/rendered_glue/rte-\(split)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try (lines.joined(separator: "\n") + "\n").write(toFile: folder + "/part-00000", atomically: true, encoding: .utf8)
            let gzip = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["gzip", "-n", folder + "/part-00000"])
            #expect(gzip.status == 0, "\(gzip.stderr)")
        }
        var options = EvaluationRun.Options(modelPath: model, tasks: [rte], modality: .pixel, dataDirectory: data, outputDirectory: dir.file("pre"))
        options.rendererDirectory = PythonReference.repositoryRoot + "/renderers/noto"
        options.renderedDatasets = true
        let preRendered = try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run()

        options.renderedDatasets = false
        options.dataDirectory = EvaluationRunTests.samples
        options.outputDirectory = dir.file("here")
        options.limit = 12
        options.trainLimit = 12
        let renderedHere = try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run()
        let a = try #require(preRendered.tasks.first), b = try #require(renderedHere.tasks.first)
        #expect(a.rows == 12 && a.skippedRows == 0)
        #expect(a.metrics == b.metrics)
        let logitsA = try String(contentsOfFile: dir.file("pre/samples_rte.jsonl"), encoding: .utf8)
        let logitsB = try String(contentsOfFile: dir.file("here/samples_rte.jsonl"), encoding: .utf8)
        #expect(logitsA == logitsB)
    }
}

/// Batch- and thread-invariance end to end (docs/numerics.md): the samples (logits per row) and the metrics
/// of an evaluation are bitwise identical for --batch-size 1, 8 and 32 and for 1 and 2 threads, in text
/// and pixel modality; results.json records the thread count that ran.
@Suite(.serialized) struct EvaluationInvarianceTests {
    func runs(_ modality: TaskDefinition.Modality) throws {
        let dir = try TemporaryDirectory()
        let model = try EvaluationRunTests.checkpoint(in: dir)
        var reference: [String: Data]?
        for (batchSize, threads) in [(8, 1), (1, 2), (32, 2), (8, 2), (32, 1)] {
            let output = dir.file("out-\(batchSize)-\(threads)")
            var options = try EvaluationRunTests.options(model, tasks: "rte,sst2,xnli_fr", modality: modality, output: output)
            options.batchSize = batchSize
            options.threads = threads
            let results = try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run()
            #expect(results.threads == threads && results.gemmInstructionSet == BLASRuntime.gemmInstructionSet)
            var files: [String: Data] = [:]
            for task in results.tasks {
                files[task.task] = try Data(contentsOf: URL(fileURLWithPath: output + "/samples_\(task.task).jsonl"))
                files[task.task + " metrics"] = try JSONEncoder().encode(task.metrics)
            }
            #expect(files.count == 6)
            if let reference {
                for (name, data) in reference {
                    #expect(files[name] == data, "\(modality.rawValue) \(name): batch \(batchSize), \(threads) threads differs from batch 8, 1 thread")
                }
            } else {
                reference = files
            }
        }
    }

    @Test func pixelSamplesDoNotDependOnBatchSizeOrThreads() throws { try runs(.pixel) }

    @Test(.enabled(if: EvaluationRunTests.tokenizer != nil, "needs the Llama tokenizer from PIXELGPT_DATA"))
    func textSamplesDoNotDependOnBatchSizeOrThreads() throws { try runs(.text) }
}
