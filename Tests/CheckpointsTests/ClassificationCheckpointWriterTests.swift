import Foundation
import Model
import SafeTensors
import TestSupport
import Testing
@testable import Checkpoints

/// A head saved beside a CausalLM checkpoint loads as ErniePixelForSequenceClassification (SPEC 2.2).
@Suite struct ClassificationCheckpointWriterTests {
    @Test func savedHeadLoadsWithTheBackboneAndItsScore() throws {
        let dir = try TemporaryDirectory()
        var config = PixelGPTConfig.preset(.tiny)
        (config.hiddenSize, config.intermediateSize, config.numHiddenLayers) = (32, 64, 1)
        try RandomCheckpoint.write(config: config, seed: 5, to: dir.file("base"))
        let score: [Float] = (0..<96).map { Float($0) / 100 }
        let saved = dir.file("heads/xnli/seed-1")
        try ClassificationCheckpointWriter.write(source: try CheckpointLocation.resolve(dir.file("base")), config: config,
                                                 labels: ["entailment", "neutral", "contradiction"], score: score, to: saved)
        // The backbone is a relative link, the score its own shard, the index only the classifier's tensors.
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: saved + "/model-00001-of-00002.safetensors")
        #expect(link == "../../../base/model.safetensors")
        let index = try ShardIndex.read(path: saved + "/model.safetensors.index.json")
        #expect(index.weightMap["score.weight"] == "model-00002-of-00002.safetensors")
        #expect(index.weightMap["lm_token_head.weight"] == nil && index.weightMap["model.norm.weight"] == "model-00001-of-00002.safetensors")

        let loaded = try PixelGPTModel.load(path: saved)
        #expect(loaded.unused.isEmpty)
        #expect(loaded.model.weights.score?.shape == [3, 32])
        #expect(loaded.model.weights.score?.withFloat32 { Array($0) } == score)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: saved + "/config.json"))) as? [String: Any])
        #expect(json["architectures"] as? [String] == ["ErniePixelForSequenceClassification"])
        #expect(json["num_labels"] as? Int == 3 && json["pad_token_id"] as? Int == 2)
        #expect(json["problem_type"] as? String == "single_label_classification")
        #expect((json["id2label"] as? [String: String])?["1"] == "neutral" && (json["label2id"] as? [String: Int])?["contradiction"] == 2)
        // And transformers reads it as the paper's classifier, when installed.
        if PythonReference.isAvailable("transformers, safetensors, torch") {
            let script = """
                import json, sys, torch
                from safetensors.torch import load_file
                idx = json.load(open(sys.argv[1] + "/model.safetensors.index.json"))
                sd = {}
                for f in sorted(set(idx["weight_map"].values())): sd.update(load_file(sys.argv[1] + "/" + f))
                print(list(sd["score.weight"].shape))
                """
            let out = try PythonReference.run(["-c", script, saved])
            #expect(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "[3, 32]")
        }

        // A regression head has one output; writing into a non-empty directory is refused.
        try ClassificationCheckpointWriter.write(source: try CheckpointLocation.resolve(dir.file("base")), config: config, labels: nil,
                                                 score: Array(score.prefix(32)), to: dir.file("stsb"))
        #expect(try PixelGPTModel.load(path: dir.file("stsb")).model.config.problemType == "regression")
        #expect(throws: CheckpointError.self) {
            try ClassificationCheckpointWriter.write(source: try CheckpointLocation.resolve(dir.file("base")), config: config, labels: nil,
                                                     score: Array(score.prefix(32)), to: dir.file("stsb"))
        }
    }

    /// A head trained with layers (--train-layers) is one self-contained file: the trained tensors replace
    /// the source's, everything else keeps its bytes, and nothing links back to the source.
    @Test func fullCopyReplacesTheTrainedTensors() throws {
        let dir = try TemporaryDirectory()
        var config = PixelGPTConfig.preset(.tiny)
        (config.hiddenSize, config.intermediateSize, config.numHiddenLayers) = (32, 64, 2)
        try RandomCheckpoint.write(config: config, seed: 6, to: dir.file("base"))
        let source = try CheckpointLocation.resolve(dir.file("base"))
        let base = try SafeTensorsFile(path: dir.file("base/model.safetensors"))
        let norm = ClassificationCheckpointWriter.TrainedTensor(name: "model.norm.weight", shape: [32], values: [Float](repeating: 0.5, count: 32))
        let down = ClassificationCheckpointWriter.TrainedTensor(name: "model.layers.1.mlp.down_proj.weight", shape: [32, 64],
                                                                values: (0..<2048).map { Float($0) / 4096 })
        let score = ClassificationCheckpointWriter.TrainedTensor(name: "score.weight", shape: [2, 32], values: (0..<64).map { Float($0) / 64 })
        let saved = dir.file("heads/rte/seed-1")
        let files = try ClassificationCheckpointWriter.writeFullCopy(source: source, config: config, labels: ["entailment", "not_entailment"],
                                                                     trained: [norm, down, score], to: saved)
        #expect(files == [saved + "/config.json", saved + "/model.safetensors"])
        #expect(try FileManager.default.attributesOfItem(atPath: saved + "/model.safetensors")[.type] as? FileAttributeType == .typeRegular)
        let copy = try SafeTensorsFile(path: saved + "/model.safetensors")
        #expect(copy.metadata?["format"] == "pt")
        // The classifier's state dict: the source's model.* tensors and the score, no lm heads.
        #expect(Set(copy.tensorNames) == Set(base.tensorNames.filter { $0.hasPrefix("model.") } + ["score.weight"]))
        #expect(try copy.tensor(named: "model.layers.0.mlp.down_proj.weight").bytes() == base.tensor(named: "model.layers.0.mlp.down_proj.weight").bytes())
        #expect(try copy.tensor(named: "model.layers.1.mlp.down_proj.weight").float32Values() == down.values)
        let loaded = try PixelGPTModel.load(path: saved)
        #expect(loaded.unused.isEmpty && loaded.model.config.numLabels == 2)
        #expect(loaded.model.weights.score?.withFloat32 { Array($0) } == score.values)
        #expect(loaded.model.weights.allTensors.first { $0.name == "model.norm.weight" }?.withFloat32 { Array($0) } == norm.values)

        // A trained name the source lacks, a wrong shape, or no score is refused, and nothing is left.
        let stray = ClassificationCheckpointWriter.TrainedTensor(name: "model.layers.7.mlp.up_proj.weight", shape: [1], values: [0])
        #expect(throws: CheckpointError.self) {
            try ClassificationCheckpointWriter.writeFullCopy(source: source, config: config, labels: nil,
                                                             trained: [stray, .init(name: "score.weight", shape: [1, 32], values: Array(score.values.prefix(32)))],
                                                             to: dir.file("bad"))
        }
        let wrongShape = ClassificationCheckpointWriter.TrainedTensor(name: "model.norm.weight", shape: [2, 16], values: norm.values)
        #expect(throws: CheckpointError.self) {
            try ClassificationCheckpointWriter.writeFullCopy(source: source, config: config, labels: ["a", "b"], trained: [wrongShape, score], to: dir.file("bad"))
        }
        #expect(throws: CheckpointError.self) {
            try ClassificationCheckpointWriter.writeFullCopy(source: source, config: config, labels: ["a", "b"], trained: [norm], to: dir.file("bad"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["base", "heads"])
    }
}
