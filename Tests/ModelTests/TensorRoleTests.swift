import Checkpoints
import Foundation
import Testing
import TestSupport
@testable import Model

/// The role table (`TensorRole`), the model_type registry (`ModelFamily`) and tie_word_embeddings (issue 15).
@Suite struct TensorRoleTests {
    /// The table spells the released state dict (SPEC 2.1) in module order, and every name reads back.
    @Test func tableSpellsTheReleasedNames() throws {
        var config = PixelGPTConfig.preset(.tiny)
        config.attentionBias = true
        let names = config.causalLMParameters.map(\.name)
        #expect(Array(names.prefix(5)) == ["model.embed_patches.patch_embeddings.projection.weight", "model.embed_patches.patch_embeddings.projection.bias",
                                           "model.embed_patches.patch_embeddings.norm.weight", "model.embed_patches.patch_embeddings.norm.bias",
                                           "model.embed_tokens.weight"])
        let layer1 = ["input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                      "self_attn.o_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias",
                      "self_attn.o_proj.bias", "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
                      "mlp.down_proj.weight"].map { "model.layers.1." + $0 }
        #expect(Array(names[(5 + 13)..<(5 + 26)]) == layer1)
        #expect(Array(names.suffix(3)) == ["model.norm.weight", "lm_token_head.weight", "lm_pixel_head.weight"])
        for role in TensorRole.allCases {
            let layer = role.row.place == .layer ? 17 : nil
            let parsed = try #require(TensorRole.parse(role.name(layer: layer)), "\(role)")
            #expect(parsed.role == role && parsed.layer == layer)
        }
        #expect(TensorRole.parse("model.layers.x.input_layernorm.weight") == nil)
        #expect(TensorRole.parse("model.layers.01.input_layernorm.weight") == nil)
        #expect(TensorRole.parse("lm_head.weight") == nil)
    }

    /// model_type is checked: the known families load, anything else is refused in one line naming
    /// config.json, the value and what is known.
    @Test func unknownModelTypesAreRefused() throws {
        #expect(try PixelGPTConfig.decode(json: Data(#"{"model_type": "llama"}"#.utf8)).family == .llama)
        #expect(try PixelGPTConfig.decode(json: Data("{}".utf8)).family == .erniePixel)
        #expect {
            try PixelGPTConfig.decode(json: Data(#"{"model_type": "gpt2"}"#.utf8))
        } throws: { error in
            guard let e = error as? PixelGPTConfig.InvalidConfig else { return false }
            return e.key == "model_type" && e.reason.contains("\"gpt2\"") && e.reason.contains("ernie-pixel, llama")
        }
        let directory = try TemporaryDirectory()
        try RandomCheckpoint.write(config: TrainingFixtures.config(layers: 1), seed: 1, to: directory.file("model"))
        let configPath = directory.file("model/config.json")
        let json = try String(contentsOfFile: configPath, encoding: .utf8)
        try json.replacingOccurrences(of: "\"ernie-pixel\"", with: "\"mistral\"").write(toFile: configPath, atomically: true, encoding: .utf8)
        #expect {
            try PixelGPTModel.load(path: directory.file("model"))
        } throws: { error in
            let line = "\(error)"
            return line.contains(configPath) && line.contains("\"mistral\"") && line.contains("ernie-pixel, llama") && !line.contains("\n")
        }
    }

    /// A Llama has no pixel tensors; with tie_word_embeddings its token head is embed_tokens (no
    /// lm_head.weight in the file, the same storage); untied and without a head, it has none, as before.
    @Test func llamaTensorsAndTiedHead() throws {
        var config = TrainingFixtures.config(layers: 1)
        config.modelType = ModelFamily.llama.rawValue
        config.architectures = [ModelFamily.llama.causalLMArchitecture]
        #expect(!config.causalLMParameters.contains { [.patchProjection, .pixelHead].contains(TensorRole.parse($0.name)?.role) })
        #expect(config.causalLMParameters.contains { $0.name == TensorRole.tokenHead.name() })
        config.tieWordEmbeddings = true
        #expect(!config.stateDictParameters.contains { $0.name == TensorRole.tokenHead.name() })

        let directory = try TemporaryDirectory()
        try RandomCheckpoint.write(config: config, seed: 2, to: directory.file("tied"))
        let tied = try PixelGPTModel.load(path: directory.file("tied")).model
        let head = try #require(tied.weights.tokenHead)
        #expect(head.name == TensorRole.tokenEmbedding.name() && head.shape == [config.vocabSize, config.hiddenSize])
        let inputs = try TrainingFixtures.inputs(.text)
        let output = try tied.forward(inputs)
        let logits = try #require(output.tokenLogits)
        // Logits are the last hidden state times embed_tokens transposed.
        let h = config.hiddenSize, v = config.vocabSize
        let table = try #require(tied.weights.tokenEmbedding).withFloat32(Array.init)
        var expected = [Float](repeating: 0, count: logits.count)
        for r in 0..<(logits.count / v) {
            for t in 0..<v { expected[r * v + t] = (0..<h).reduce(0) { $0 + output.lastHiddenState[r * h + $1] * table[t * h + $1] } }
        }
        #expect(relativeError(logits, expected) < 1e-5)
        #expect(tied.weights.allTensors.count == config.stateDictParameters.count)

        // Untied, the same file has no token head: no logits, and generation says why.
        let configPath = directory.file("tied/config.json")
        let json = try String(contentsOfFile: configPath, encoding: .utf8)
        try json.replacingOccurrences(of: "\"tie_word_embeddings\" : true", with: "\"tie_word_embeddings\" : false")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let untied = try PixelGPTModel.load(path: directory.file("tied")).model
        #expect(!untied.config.tieWordEmbeddings && untied.weights.tokenHead == nil)
        #expect(try untied.forward(inputs).tokenLogits == nil)
        #expect(throws: ModelError.self) { try untied.generateTokens(prompt: [1, 5], maxNewTokens: 1, stopAtEOS: false) }
    }
}
