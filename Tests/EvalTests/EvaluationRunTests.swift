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
