import Checkpoints
import Foundation
import Numerics
import SafeTensors
import Testing
import TestSupport
@testable import Model

/// Bad inputs and bad weights give one-line errors naming the tensor or key, never a crash (issue 4, item 9).
@Suite struct BadInputTests {
    static func model(_ checkpoint: String) throws -> PixelGPTModel {
        try PixelGPTModel.load(path: GoldenFixtures.root + "/" + checkpoint).model
    }

    func int64(_ name: String, _ shape: [Int], _ values: [Int]) -> TensorRecord {
        TensorRecord(name: name, dtype: .i64, shape: shape, payload: .bytes(values.flatMap { withUnsafeBytes(of: Int64($0).littleEndian, Array.init) }))
    }

    func float32(_ name: String, _ shape: [Int], _ values: [Float]? = nil) -> TensorRecord {
        TensorRecord(name: name, dtype: .f32, shape: shape, payload: .float32(values ?? [Float](repeating: 0.5, count: shape.reduce(1, *))))
    }

    /// Writes `records` as an inputs file and returns the one-line error reading it or running the model.
    func failure(_ records: [TensorRecord], checkpoint: String = "gqa_causal") throws -> String {
        let directory = try TemporaryDirectory()
        let path = directory.file("inputs.safetensors")
        try SafeTensorsWriter.write(records, to: path)
        do {
            let inputs = try ForwardContract.readInputs(path: path)
            _ = try Self.model(checkpoint).forward(inputs)
        } catch {
            let message = "\(error)"
            #expect(!message.contains("\n"), "not one line: \(message)")
            return message
        }
        Issue.record("no error for \(records.map(\.name))")
        return ""
    }

    @Test func wrongTensorNames() throws {
        #expect(try failure([int64("input_idz", [1, 3], [1, 5, 6])]).contains("unknown tensor \"input_idz\""))
        #expect(try failure([float32("attention_mask", [1, 3])]).contains("input_ids"))
    }

    @Test func wrongShapesAndDtypes() throws {
        #expect(try failure([int64("input_ids", [3], [1, 5, 6])]).contains("input_ids"))
        #expect(try failure([float32("input_ids", [1, 3])]).contains("expected I64 or I32"))
        #expect(try failure([int64("input_ids", [2, 3], [1, 5, 6, 1, 7, 8]), int64("attention_mask", [2, 4], [1, 1, 1, 1, 1, 1, 1, 0])])
            .contains("attention_mask\": shape [2, 4] does not match [2, 3]"))
        let pixels = float32("pixel_values", [1, 3, 16, 48])
        #expect(try failure([pixels, float32("attention_mask", [1, 4], [1, 1, 1, 1])]).contains("[1, 3]"))
        #expect(try failure([int64("input_ids", [2, 3], [1, 5, 6, 1, 7, 8]), pixels, float32("patch_attention_mask", [1, 3], [1, 1, 1])])
            .contains("batch size 2 differs"))
    }

    @Test func idsOutsideTheVocabulary() throws {
        let message = try failure([int64("input_ids", [1, 3], [1, 96, 6])])
        #expect(message.contains("id 96 at [0, 1] is outside the vocabulary 0..<96"))
        #expect(try failure([int64("input_ids", [1, 2], [-1, 4])]).contains("id -1"))
    }

    @Test func badPixelStrips() throws {
        #expect(try failure([float32("pixel_values", [1, 3, 16, 40])]).contains("width 40 is not a positive multiple of the patch size 16"))
        #expect(try failure([float32("pixel_values", [1, 3, 8, 32])]).contains("height is 8"))
        #expect(try failure([float32("pixel_values", [1, 1, 16, 32])]).contains("1 channels"))
        #expect(try failure([float32("pixel_values", [1, 3, 16, 32], [Float](repeating: .nan, count: 1536))]).contains("non-finite"))
    }

    @Test func badMasks() throws {
        let ids = int64("input_ids", [1, 3], [1, 5, 6])
        #expect(try failure([ids, float32("attention_mask", [1, 3], [1, 0.5, 1])]).contains("values must be 0 or 1"))
        let pixels = float32("pixel_values", [1, 3, 16, 32])
        #expect(try failure([ids, pixels]).contains("patch_attention_mask\": required in pair mode"))
        #expect(try failure([pixels, float32("patch_attention_mask", [1, 2], [1, 1])]).contains("in pixel mode the patch mask is attention_mask"))
    }

    @Test func sequencesPastMaxPositionEmbeddings() throws {
        // gqa_causal: max_position_embeddings 64, no rope_scaling.
        let ids = int64("input_ids", [1, 65], [Int](repeating: 5, count: 65))
        #expect(try failure([ids]).contains("sequence length 65 exceeds max_position_embeddings 64"))
        let pixels = float32("pixel_values", [1, 3, 16, 16 * 40])
        let text = int64("input_ids", [1, 25], [Int](repeating: 5, count: 25))
        #expect(try failure([pixels, float32("patch_attention_mask", [1, 40], [Float](repeating: 1, count: 40)), text])
            .contains("sequence length 65"))
        // llama_bf16 has linear rope scaling: 12 > 8 positions runs.
        let inputs = try ForwardInputs(inputIds: InputArray(shape: [1, 12], values: [Int](repeating: 5, count: 12)))
        #expect(throws: Never.self) { try Self.model("llama_bf16").forward(inputs) }
    }

    @Test func pixelsForATextOnlyModel() throws {
        #expect(try failure([float32("pixel_values", [1, 3, 16, 32])], checkpoint: "llama_bf16").contains("no patch embedding"))
    }

    /// Weights: a missing tensor, a mis-shaped one, and a score head that disagrees with num_labels.
    @Test func badWeights() throws {
        let source = try CheckpointLocation.resolve(GoldenFixtures.root + "/mha48_cls3").openWeights()
        let config = try #require(try CheckpointLocation.resolve(GoldenFixtures.root + "/mha48_cls3").loadConfig()?.config)
        func tensor(_ name: String) throws -> WeightTensor? {
            guard let info = source.info(name) else { return nil }
            guard case .stored(let view) = try source.load(name).payload else { return nil }
            return WeightTensor(name: name, shape: info.shape, values: try view.float32Values())
        }
        #expect(throws: ModelError.missingWeight("model.layers.1.mlp.up_proj.weight")) {
            try PixelGPTWeights(config: config) { $0 == "model.layers.1.mlp.up_proj.weight" ? nil : try tensor($0) }
        }
        #expect(throws: ModelError.missingWeight("model.embed_patches.patch_embeddings.norm.bias")) {
            try PixelGPTWeights(config: config) { $0.hasSuffix("patch_embeddings.norm.bias") ? nil : try tensor($0) }
        }
        #expect(throws: ModelError.weightShape(name: "model.layers.0.self_attn.k_proj.weight", expected: [48, 48], actual: [2304])) {
            try PixelGPTWeights(config: config) { name in
                guard let t = try tensor(name) else { return nil }
                return name == "model.layers.0.self_attn.k_proj.weight" ? WeightTensor(name: name, shape: [2304], storage: t.storage) : t
            }
        }
        var twoLabels = config
        twoLabels.numLabels = 2
        #expect(throws: ModelError.weightShape(name: "score.weight", expected: [2, 48], actual: [3, 48])) {
            try PixelGPTWeights(config: twoLabels, tensor: tensor)
        }
        #expect(ModelError.missingWeight("x").description == "weight \"x\" is missing from the checkpoint")
    }
}
