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

    /// The tensor of `role` (in `layer`, for a layer role) under `config`, from the role table.
    public init(_ role: TensorRole, layer: Int? = nil, config: PixelGPTConfig) {
        self.init(name: role.name(layer: layer), shape: role.shape(config), initialization: role.row.initialization)
    }
}

extension PixelGPTConfig {

    /// The class config.json names (architectures[0]); the released files say ErniePixelForCausalLM.
    public var architecture: String { architectures?.first ?? family.causalLMArchitecture }

    /// Whether `architecture` is a sequence classifier (a `score` head instead of the lm heads, SPEC 4).
    public var isSequenceClassifier: Bool { architecture == family.sequenceClassificationArchitecture }

    /// Whether the token head is the token embedding matrix (tie_word_embeddings): then no checkpoint
    /// stores it. transformers' rule (modeling_utils.py, `PreTrainedModel.tie_weights`): when
    /// `config.tie_word_embeddings`, `_tie_or_clone_weights(get_output_embeddings(), get_input_embeddings())`
    /// sets LlamaForCausalLM's `lm_head.weight` to `embed_tokens.weight` (the same Parameter), whatever the
    /// file held, and `save_pretrained` drops the shared copy. LlamaConfig defaults the key to false, as here.
    public var tokenHeadIsTied: Bool { tieWordEmbeddings }

    /// The tensors a checkpoint of `architecture` holds (SPEC 2.1, 2.2), canonical names: the CausalLM set,
    /// or for sequence classification the `model.*` tensors plus a bias-free `score.weight` [num_labels, H].
    public var stateDictParameters: [ParameterSpec] {
        parameters(heads: isSequenceClassifier ? [.score] : [.tokenHead, .pixelHead])
    }

    /// The tensors of the CausalLM state dict of this config's family, in upstream module order.
    public var causalLMParameters: [ParameterSpec] { parameters(heads: [.tokenHead, .pixelHead]) }

    /// The table's rows this config has: the family's embeddings, every layer (biases with
    /// attention_bias), the final norm and the listed heads the family has (a tied token head is not stored).
    func parameters(heads: Set<TensorRole>) -> [ParameterSpec] {
        let table = TensorRole.table.filter { family.has($0.role) }
        var specs = table.filter { $0.place == .embedding }.map { ParameterSpec($0.role, config: self) }
        for layer in 0..<numHiddenLayers {
            specs += table.filter { $0.place == .layer && (attentionBias || !$0.role.isAttentionBias) }
                .map { ParameterSpec($0.role, layer: layer, config: self) }
        }
        specs += table.filter { $0.place == .head && ($0.role == .finalNorm || heads.contains($0.role)) }
            .filter { !($0.role == .tokenHead && tokenHeadIsTied) }
            .map { ParameterSpec($0.role, config: self) }
        return specs
    }
}
