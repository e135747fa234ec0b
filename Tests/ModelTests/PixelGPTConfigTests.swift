import Foundation
import Testing
@testable import Model

@Suite struct PixelGPTConfigTests {
    /// The released config.json (SPEC 1.2) decodes with its values, code defaults fill the rest.
    @Test func decodesTheReleasedConfig() throws {
        let json = """
        {"_name_or_path": "meta-llama/Llama-2-7b-hf", "architectures": ["ErniePixelForCausalLM"],
         "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
         "hidden_act": "silu", "hidden_size": 1024, "image_size": [16, 16384], "initializer_range": 0.02,
         "intermediate_size": 2816, "max_position_embeddings": 1024, "model_type": "ernie-pixel",
         "norm_pix_loss": true, "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": 24,
         "num_key_value_heads": 8, "patch_size": 16, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
         "rope_scaling": null, "rope_theta": 10000, "tie_word_embeddings": false, "torch_dtype": "float32",
         "transformers_version": "4.36.2", "use_cache": true, "vocab_size": 32000}
        """
        let config = try PixelGPTConfig.decode(json: Data(json.utf8))
        #expect(config == PixelGPTConfig.preset(.base))
        #expect(config.rmsNormEps == 1e-5)
        #expect(config.headDimension == 64 && config.keyValueHeads == 8)
        #expect(config.padTokenId == nil)
    }

    /// The base preset writes the released config.json's keys (SPEC 1.2), less the `_name_or_path` leftover.
    @Test func encodesTheReleasedKeys() throws {
        let data = try JSONEncoder().encode(PixelGPTConfig.preset(.base))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let released: Set<String> = [
            "architectures", "attention_bias", "attention_dropout", "bos_token_id", "eos_token_id", "hidden_act",
            "hidden_size", "image_size", "initializer_range", "intermediate_size", "max_position_embeddings",
            "model_type", "norm_pix_loss", "num_attention_heads", "num_channels", "num_hidden_layers",
            "num_key_value_heads", "patch_size", "pretraining_tp", "rms_norm_eps", "rope_scaling", "rope_theta",
            "tie_word_embeddings", "torch_dtype", "transformers_version", "use_cache", "vocab_size",
        ]
        #expect(Set(object.keys) == released)
        #expect(object["rope_scaling"] is NSNull)
        #expect(try PixelGPTConfig.decode(json: data) == .preset(.base))
    }

    @Test func codeDefaultsApplyWhenKeysAreMissing() throws {
        let config = try PixelGPTConfig.decode(json: Data("{}".utf8))
        #expect(config.rmsNormEps == 1e-6)
        #expect(config.keyValueHeads == config.numAttentionHeads)
        #expect(config.hiddenSize == 4096)
    }

    /// SPEC 2.4: the released architecture has 350,277,632 parameters.
    @Test func baseParameterCountMatchesTheRelease() {
        let specs = PixelGPTConfig.preset(.base).causalLMParameters
        #expect(specs.reduce(0) { $0 + $1.elementCount } == 350_277_632)
        #expect(specs.count == 5 + 24 * 9 + 3)
        #expect(specs.first { $0.name == "model.layers.23.self_attn.k_proj.weight" }?.shape == [512, 1024])
        #expect(specs.first { $0.name == "lm_pixel_head.weight" }?.shape == [768, 1024])
        #expect(Set(specs.map(\.name)).count == specs.count)
    }

    /// A few bytes of config.json must not make every command allocate without end or overflow Int in a
    /// tensor's element count (ParameterSpec.elementCount trapped on hidden_size 2^32): ResourceLimits.
    @Test func sizesPastTheResourceLimitsAreRefusedWithTheKeyNamed() {
        for (json, key, limit) in [
            (#"{"num_hidden_layers": 100000000}"#, "num_hidden_layers", "maxLayers"),
            (#"{"hidden_size": 4294967296}"#, "hidden_size", "maxHiddenSize"),
            (#"{"intermediate_size": 4294967296}"#, "intermediate_size", "maxIntermediateSize"),
            (#"{"vocab_size": 100000000}"#, "vocab_size", "maxVocabulary"),
            (#"{"max_position_embeddings": 1000000000}"#, "max_position_embeddings", "maxSequenceLength"),
            (#"{"num_labels": 100000000}"#, "num_labels", "maxVocabulary"),
            // Each within its own limit, but [vocab, hidden] is 2^36 elements.
            (#"{"vocab_size": 1048576, "hidden_size": 65536, "num_attention_heads": 512}"#, "vocab_size", "maxElementsPerTensor"),
            (#"{"patch_size": 1000000}"#, "patch_size", "4096"),
        ] {
            #expect {
                try PixelGPTConfig.decode(json: Data(json.utf8))
            } throws: { error in
                guard let e = error as? PixelGPTConfig.InvalidConfig else { return false }
                return e.key == key && e.reason.contains(limit)
            }
        }
        #expect(throws: Never.self) { try PixelGPTConfig.decode(json: Data(#"{"num_hidden_layers": 1024, "max_position_embeddings": 131072}"#.utf8)) }
    }

    @Test func invalidValuesAreRefusedWithTheKeyNamed() {
        for (json, key) in [
            (#"{"hidden_size": 100, "num_attention_heads": 16}"#, "num_attention_heads"),
            (#"{"num_attention_heads": 16, "num_key_value_heads": 5}"#, "num_key_value_heads"),
            (#"{"num_channels": 1}"#, "num_channels"),
            (#"{"rope_scaling": {"type": "yarn", "factor": 2.0}}"#, "rope_scaling"),
            // rope_theta is the base of θ^(2m/d): 0 or negative gives infinite or NaN angles.
            (#"{"rope_theta": 0}"#, "rope_theta"),
            (#"{"rope_theta": -10000.0}"#, "rope_theta"),
        ] {
            #expect {
                try PixelGPTConfig.decode(json: Data(json.utf8))
            } throws: { error in
                (error as? PixelGPTConfig.InvalidConfig)?.key == key
            }
        }
    }
}
