/// Every tensor of `ErniePixelForCausalLM` as released, with its shape for a given config (SPEC 2.1).
/// Names are upstream state-dict keys; shapes are PyTorch's [out_features, in_features] for Linear layers.
public struct ParameterSpec: Equatable, Sendable {
    public enum Initialization: Sendable, Equatable {
        /// N(0, initializer_range^2): Linear, Conv and Embedding weights.
        case normal
        /// All ones: RMSNorm and LayerNorm gains.
        case ones
        /// All zeros: biases.
        case zeros
    }

    public let name: String
    public let shape: [Int]
    public let initialization: Initialization

    public var elementCount: Int { shape.reduce(1, *) }

    public init(name: String, shape: [Int], initialization: Initialization) {
        self.name = name
        self.shape = shape
        self.initialization = initialization
    }
}

extension PixelGPTConfig {
    public static let causalLMArchitecture = "ErniePixelForCausalLM"
    public static let sequenceClassificationArchitecture = "ErniePixelForSequenceClassification"

    /// The class config.json names (architectures[0]); the released files say ErniePixelForCausalLM.
    public var architecture: String { architectures?.first ?? Self.causalLMArchitecture }

    /// The tensors a checkpoint of `architecture` holds (SPEC 2.1, 2.2): the CausalLM set, or for
    /// sequence classification the `model.*` tensors plus a bias-free `score.weight` [num_labels, H].
    public var stateDictParameters: [ParameterSpec] {
        guard architecture == Self.sequenceClassificationArchitecture else { return causalLMParameters }
        var specs = causalLMParameters.filter { !$0.name.hasPrefix("lm_") }
        specs.append(ParameterSpec(name: "score.weight", shape: [numLabels ?? 2, hiddenSize], initialization: .normal))
        return specs
    }

    /// The tensors of an `ErniePixelForCausalLM` state dict, in upstream module order.
    public var causalLMParameters: [ParameterSpec] {
        let h = hiddenSize, i = intermediateSize, d = headDimension, p = patchSize, c = numChannels
        var specs: [ParameterSpec] = [
            .init(name: "model.embed_patches.patch_embeddings.projection.weight", shape: [h, c, p, p], initialization: .normal),
            .init(name: "model.embed_patches.patch_embeddings.projection.bias", shape: [h], initialization: .zeros),
            .init(name: "model.embed_patches.patch_embeddings.norm.weight", shape: [h], initialization: .ones),
            .init(name: "model.embed_patches.patch_embeddings.norm.bias", shape: [h], initialization: .zeros),
            .init(name: "model.embed_tokens.weight", shape: [vocabSize, h], initialization: .normal),
        ]
        for layer in 0..<numHiddenLayers {
            let prefix = "model.layers.\(layer)."
            specs += [
                .init(name: prefix + "input_layernorm.weight", shape: [h], initialization: .ones),
                .init(name: prefix + "self_attn.q_proj.weight", shape: [numAttentionHeads * d, h], initialization: .normal),
                .init(name: prefix + "self_attn.k_proj.weight", shape: [keyValueHeads * d, h], initialization: .normal),
                .init(name: prefix + "self_attn.v_proj.weight", shape: [keyValueHeads * d, h], initialization: .normal),
                .init(name: prefix + "self_attn.o_proj.weight", shape: [h, numAttentionHeads * d], initialization: .normal),
            ]
            if attentionBias {
                specs += [
                    .init(name: prefix + "self_attn.q_proj.bias", shape: [numAttentionHeads * d], initialization: .zeros),
                    .init(name: prefix + "self_attn.k_proj.bias", shape: [keyValueHeads * d], initialization: .zeros),
                    .init(name: prefix + "self_attn.v_proj.bias", shape: [keyValueHeads * d], initialization: .zeros),
                    .init(name: prefix + "self_attn.o_proj.bias", shape: [h], initialization: .zeros),
                ]
            }
            specs += [
                .init(name: prefix + "post_attention_layernorm.weight", shape: [h], initialization: .ones),
                .init(name: prefix + "mlp.gate_proj.weight", shape: [i, h], initialization: .normal),
                .init(name: prefix + "mlp.up_proj.weight", shape: [i, h], initialization: .normal),
                .init(name: prefix + "mlp.down_proj.weight", shape: [h, i], initialization: .normal),
            ]
        }
        specs += [
            .init(name: "model.norm.weight", shape: [h], initialization: .ones),
            .init(name: "lm_token_head.weight", shape: [vocabSize, h], initialization: .normal),
            .init(name: "lm_pixel_head.weight", shape: [p * p * c, h], initialization: .normal),
        ]
        return specs
    }
}
