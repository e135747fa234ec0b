import Checkpoints
import Foundation
import Model
import TestSupport
import Testing
@testable import Eval

/// The main job end to end on a small random checkpoint and the project's samples/.
@Suite(.serialized) struct EvaluationRunTests {
    static let samples = PythonReference.repositoryRoot + "/samples"
    static var tokenizer: String? {
        guard let data = ProcessInfo.processInfo.environment["PIXELGPT_DATA"] else { return nil }
        let path = data + "/tokenizer/llama2/tokenizer.model"
        return FileManager.default.fileExists(atPath: path) ? path : nil
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

    @Test func textRunWritesConsistentResultsAndResumes() throws {
        guard Self.tokenizer != nil else { return }  // needs the Llama tokenizer from PIXELGPT_DATA
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        let output = dir.file("out")
        let options = try Self.options(model, tasks: "rte,stsb,xnli_en", modality: .text, output: output)
        let results = try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run()
        #expect(results.tasks.map(\.task) == ["rte", "stsb", "xnli_en"])
        for (result, task) in zip(results.tasks, options.tasks) {
            #expect(result.rows == 24 && result.labeled)
            // results.json's metrics are exactly those recomputed from the samples.
            #expect(result.metrics == (try Self.metricsFromSamples(output, task: task)), "\(task.task)")
        }
        #expect(results.tasks[0].head.kind == "probe" && results.tasks[2].head.kind == "probe-crossfit")
        #expect(results.tasks[2].splitNote?.contains("evaluated validation") == true)
        #expect(FileManager.default.fileExists(atPath: output + "/table.md"))
        // And equal to what scikit-learn and scipy compute from the samples, when they are installed.
        if PythonReference.isAvailable("sklearn, scipy") {
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

    @Test(arguments: [TaskDefinition.Modality.pixel, .pair])
    func pixelAndPairRunsEndToEnd(_ modality: TaskDefinition.Modality) throws {
        guard Self.tokenizer != nil || modality == .pixel else { return }
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

    @Test func checkpointHeadNeedsAScoreOfTheRightShape() throws {
        guard Self.tokenizer != nil else { return }
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        var options = try Self.options(model, tasks: "rte", modality: .text, output: dir.file("out"))
        options.head = .checkpoint
        #expect { try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run() } throws: {
            "\($0)".contains("no classification head")
        }
    }
}
