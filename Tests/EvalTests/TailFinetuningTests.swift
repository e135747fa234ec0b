import Checkpoints
import Foundation
import Support
import Model
import TestSupport
import Testing
import Training
@testable import Eval

/// `--head finetune --train-layers K`: the `TailTrainable` behind it, and whole runs on a tiny random
/// checkpoint and the project's samples/ whose saved heads reproduce their predictions.
@Suite(.serialized) struct TailFinetuningTests {
    /// Two layers, so that K = 1 and 2 both leave part of the network frozen or not.
    static func checkpoint(in dir: TemporaryDirectory) throws -> String {
        var config = PixelGPTConfig.preset(.tiny)
        (config.hiddenSize, config.intermediateSize, config.numHiddenLayers) = (32, 64, 2)
        try RandomCheckpoint.write(config: config, seed: 9, to: dir.file("model"))
        return dir.file("model")
    }

    /// The run options for `task` with the project's YAML but 64-patch strips: the tail examples come from a
    /// full-length frozen forward (pair mode: all P patch slots), which would dominate a debug-build test.
    static func options(_ model: String, task: String, modality: TaskDefinition.Modality, output: String, in dir: TemporaryDirectory) throws
        -> EvaluationRun.Options {
        let yaml = try String(contentsOfFile: PythonReference.repositoryRoot + "/tasks/glue/\(task).yaml", encoding: .utf8)
        let short = yaml.replacingOccurrences(of: #"sequence_length: \{[^}]*\}"#, with: "sequence_length: {text: 128, pixel: 64, pair: 64}",
                                              options: .regularExpression)
        #expect(short != yaml)
        try FileManager.default.createDirectory(atPath: dir.file("tasks"), withIntermediateDirectories: true)
        try short.write(toFile: dir.file("tasks/\(task).yaml"), atomically: true, encoding: .utf8)
        var options = try EvaluationRunTests.options(model, tasks: task, modality: modality, output: output)
        options.tasks = try TaskRegistry(directory: dir.file("tasks")).resolve(task)
        HeadFinetuningRunTests.quick(&options)
        return options
    }

    /// Right-padded random text rows (pad id 2) and class targets that depend on the tokens.
    static func textExamples(_ model: PixelGPTModel, trainLayers: Int, rows: Int) throws -> (examples: [TailExample], targets: [Double]) {
        var random = SplitMix64(state: 5)
        let width = 10
        var ids: [Int] = [], mask: [Float] = [], targets: [Double] = []
        for _ in 0..<rows {
            let length = 3 + Int(random.next() % UInt64(width - 2))
            let row = (0..<length).map { _ in 3 + Int(random.next() % 200) }
            targets.append(Double(row.filter { $0 % 2 == 0 }.count % 3))
            ids += row + [Int](repeating: 2, count: width - length)
            mask += [Float](repeating: 1, count: length) + [Float](repeating: 0, count: width - length)
        }
        let inputs = try ForwardInputs(inputIds: InputArray(shape: [rows, width], values: ids), attentionMask: InputArray(shape: [rows, width], values: mask))
        return (try model.tailExamples(inputs, trainLayers: trainLayers), targets)
    }

    @Test(arguments: [1, 2])
    func trainingLowersTheLossFromTheScoreHeadsStart(_ k: Int) throws {
        let dir = try TemporaryDirectory()
        let model = try PixelGPTModel.load(path: try Self.checkpoint(in: dir)).model
        let (examples, targets) = try Self.textExamples(model, trainLayers: k, rows: 24)
        let trainable = try TailTrainable(model: model, trainLayers: k, examples: examples, targets: targets, outputCount: 3, isRegression: false, seed: 17)
        // The score starts where the K = 0 head of the same seed starts (SPEC 2.2).
        let head = ScoreHead(features: [], featureSize: 32, targets: [], outputCount: 3, isRegression: false, seed: 17)
        #expect(trainable.tail.tensor(named: "score.weight") == head.parameters)
        // Layers and the final norm are trained; norm gains do not decay, matrices do.
        let names = trainable.tail.tensorLayout.map(\.name)
        #expect(names.contains("model.layers.\(2 - k).self_attn.q_proj.weight") && !names.contains("model.layers.\(1 - k).mlp.up_proj.weight"))
        #expect(names.contains("model.norm.weight") && names.last == "score.weight")
        #expect(trainable.weightDecayMask.count == trainable.parameters.count)
        #expect(trainable.tail.tensorLayout.filter { !$0.decays }.allSatisfy { $0.name.hasSuffix("norm.weight") })

        let all = Array(examples.indices)
        let before = trainable.lossAndGradient(examples: all).loss
        var settings = HeadTrainingSettings()
        (settings.learningRate, settings.maxSteps, settings.warmupSteps, settings.batchSize) = (1e-2, 60, 5, 8)
        let outcome = HeadTrainer(settings: settings).train(trainable, trainExamples: all, selectionExamples: [], seed: 1) { _ in 0 }
        let after = trainable.lossAndGradient(examples: all).loss
        #expect(outcome.stepsRun == 60)
        #expect(after < 0.8 * before, "loss \(before) -> \(after)")
        // Logits in chunks equal one batch's (examples are independent).
        let chunked = trainable.logits(examples: all)
        let whole = trainable.tail.logits(examples)
        #expect(zip(chunked, whole).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }

    /// One run with --save-heads, then each saved checkpoint under --head checkpoint: identical argmax
    /// predictions and logits within 1e-4 relative (the full forward and the tail sum in different orders).
    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)"), arguments: [(TaskDefinition.Modality.text, 1), (.text, 2), (.pair, 1), (.pair, 2)])
    func savedTailsReproduceThePredictions(_ modality: TaskDefinition.Modality, _ k: Int) throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        var options = try Self.options(model, task: "rte", modality: modality, output: dir.file("tuned"), in: dir)
        (options.limit, options.trainLimit, options.seeds, options.trainLayers) = (12, 16, [3, 4], k)
        options.saveHeadsDirectory = dir.file("heads")
        var logs: [String] = []
        let results = try EvaluationRun(options: options, log: { logs.append($0) }, progressOutput: { _ in }).run()
        let result = try #require(results.tasks.first)
        #expect(result.head.kind == "finetune" && result.head.training?.trainLayers == k)
        #expect(result.selection?.runs.map(\.seed) == [3, 4])
        #expect(logs.contains { $0.hasPrefix("rte: tail examples (--train-layers \(k)) of 16 rows") })
        #expect(result.metricsBySeed?[0] == (try EvaluationRunTests.metricsFromSamples(dir.file("tuned"), task: options.tasks[0])))
        let saved = try #require(result.head.saved)
        #expect(saved == [dir.file("heads/rte/seed-3"), dir.file("heads/rte/seed-4")])
        // A full copy, not a link: the trained layers are in it, changed from the source's.
        #expect(FileManager.default.fileExists(atPath: saved[0] + "/model.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: saved[0] + "/model.safetensors.index.json"))
        let name = "model.layers.1.mlp.down_proj.weight"
        #expect(try Self.tensor(name, of: saved[0]) != Self.tensor(name, of: model))
        #expect(try Self.tensor("model.embed_tokens.weight", of: saved[0]) == Self.tensor("model.embed_tokens.weight", of: model))

        var reload = options
        (reload.modelPath, reload.head, reload.trainLayers, reload.saveHeadsDirectory) = (saved[0], .checkpoint, 0, nil)
        reload.outputDirectory = dir.file("reloaded")
        _ = try EvaluationRun(options: reload, log: { _ in }, progressOutput: { _ in }).run()
        try Self.expectSamplesAgree(dir.file("tuned/samples_rte.jsonl"), dir.file("reloaded/samples_rte.jsonl"))
    }

    /// No train split (QNLI here): fold k's rows are predicted by fold k's tail, saved as fold-K.
    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)"))
    func foldFallbackSavesOneTailPerFold() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        var options = try Self.options(model, task: "qnli", modality: .text, output: dir.file("tuned"), in: dir)
        (options.limit, options.trainLayers) = (20, 1)
        options.saveHeadsDirectory = dir.file("heads")
        let result = try #require(try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run().tasks.first)
        #expect(result.head.kind == "finetune-crossfit" && result.head.saved?.count == 5)
        #expect(result.selection?.runs.map(\.fold) == [0, 1, 2, 3, 4])
        var reload = options
        (reload.modelPath, reload.head, reload.trainLayers, reload.saveHeadsDirectory) = (dir.file("heads/qnli/seed-42/fold-2"), .checkpoint, 0, nil)
        reload.outputDirectory = dir.file("reloaded")
        _ = try EvaluationRun(options: reload, log: { _ in }, progressOutput: { _ in }).run()
        let fold = ContiguousFolds(count: 5, rows: 20)
        try Self.expectSamplesAgree(dir.file("tuned/samples_qnli.jsonl"), dir.file("reloaded/samples_qnli.jsonl")) { fold.fold(ofPosition: $0) == 2 }
    }

    @Test func badTrainLayersAndTooLargeTablesAreRefused() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        var options = try Self.options(model, task: "rte", modality: .pixel, output: dir.file("out"), in: dir)
        options.trainLayers = 3
        let outside = #expect(throws: TaskError.self) { try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }) }
        #expect(outside?.description.hasSuffix("train-layers: 3 is outside 0...2 (the model has 2 decoder layers)") == true)
        options.trainLayers = 1
        options.head = .probe
        let notFinetune = #expect(throws: TaskError.self) { try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }) }
        #expect(notFinetune?.description == "eval: train-layers: only applies to --head finetune")
        options.head = .finetune
        options.tailMemoryLimit = 100_000
        let tooLarge = #expect(throws: TaskError.self) { try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run() }
        #expect(tooLarge?.description.hasPrefix("rte: train-layers: the tail examples of --train-layers 1 need more than 0.1 MB") == true)
        #expect(tooLarge?.description.contains("\n") == false)
        #expect(!FileManager.default.fileExists(atPath: dir.file("out/results.json")))
    }

    static func tensor(_ name: String, of checkpoint: String) throws -> [Float]? {
        try PixelGPTModel.load(path: checkpoint).model.weights.allTensors.first { $0.name == name }?.withFloat32(Array.init)
    }

    /// Rows (by position, where `include` says) have the same predictions, logits within 1e-4 relative.
    static func expectSamplesAgree(_ trained: String, _ reloaded: String, include: (Int) -> Bool = { _ in true }) throws {
        func records(_ path: String) throws -> [SampleRecord] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSONDecoder().decode(SampleRecord.self, from: Data($0.utf8)) }
        }
        let a = try records(trained), b = try records(reloaded)
        #expect(a.count == b.count && !a.isEmpty)
        var compared = 0
        for (position, (x, y)) in zip(a, b).enumerated() where include(position) {
            #expect(x.index == y.index && x.prediction == y.prediction, "row \(x.index)")
            let scale = max(x.logits.map(abs).max() ?? 0, 1e-3)
            #expect(zip(x.logits, y.logits).allSatisfy { abs($0 - $1) <= 1e-4 * scale }, "row \(x.index): \(x.logits) vs \(y.logits)")
            compared += 1
        }
        #expect(compared > 0)
    }
}

