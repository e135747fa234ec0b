import Foundation

/// What each tensor of the decoder is for, with its canonical `ErniePixelForCausalLM` name (a `{layer}`
/// template for the decoder layers), its shape and its initialisation, as one table (SPEC 2.1, 2.2):
/// llama.cpp's tensor_mapping.py habit. The parameter list (`PixelGPTConfig.causalLMParameters`), weight
/// loading (`PixelGPTWeights`), the trainable tail's layout and Checkpoints' `WeightNameTable` all read
/// their names here; no other file spells a tensor name.
public enum TensorRole: String, CaseIterable, Sendable {
    case patchProjection, patchProjectionBias, patchNorm, patchNormBias
    case tokenEmbedding
    case attentionNorm, attentionQuery, attentionKey, attentionValue, attentionOutput
    case attentionQueryBias, attentionKeyBias, attentionValueBias, attentionOutputBias
    case mlpNorm, mlpGate, mlpUp, mlpDown
    case finalNorm, tokenHead, pixelHead, score

    /// A size a tensor's shape is made of, read from the config.
    public enum Dimension: Sendable {
        case hidden, intermediate, vocabulary, queryWidth, keyValueWidth, channels, patch, patchValues, labels
    }

    /// Where a role sits in the model (and in upstream module order).
    public enum Place: Sendable {
        /// Before the decoder layers: the embeddings.
        case embedding
        /// Once per decoder layer; the name has a `{layer}` placeholder.
        case layer
        /// After the decoder layers: the final norm and the heads.
        case head
    }

    public struct Row: Sendable {
        public let role: TensorRole
        public let place: Place
        /// The canonical name, `{layer}` standing for the layer index.
        public let template: String
        /// PyTorch's shape: [out_features, in_features] for a Linear weight (SPEC 2.3).
        public let shape: [Dimension]
        public let initialization: ParameterSpec.Initialization
    }

    /// The table, in upstream module order (the order of the released state dict).
    public static let table: [Row] = [
        Row(role: .patchProjection, place: .embedding, template: "model.embed_patches.patch_embeddings.projection.weight",
            shape: [.hidden, .channels, .patch, .patch], initialization: .normal),
        Row(role: .patchProjectionBias, place: .embedding, template: "model.embed_patches.patch_embeddings.projection.bias",
            shape: [.hidden], initialization: .zeros),
        Row(role: .patchNorm, place: .embedding, template: "model.embed_patches.patch_embeddings.norm.weight", shape: [.hidden], initialization: .ones),
        Row(role: .patchNormBias, place: .embedding, template: "model.embed_patches.patch_embeddings.norm.bias", shape: [.hidden], initialization: .zeros),
        Row(role: .tokenEmbedding, place: .embedding, template: "model.embed_tokens.weight", shape: [.vocabulary, .hidden], initialization: .normal),
        Row(role: .attentionNorm, place: .layer, template: "model.layers.{layer}.input_layernorm.weight", shape: [.hidden], initialization: .ones),
        Row(role: .attentionQuery, place: .layer, template: "model.layers.{layer}.self_attn.q_proj.weight", shape: [.queryWidth, .hidden], initialization: .normal),
        Row(role: .attentionKey, place: .layer, template: "model.layers.{layer}.self_attn.k_proj.weight", shape: [.keyValueWidth, .hidden], initialization: .normal),
        Row(role: .attentionValue, place: .layer, template: "model.layers.{layer}.self_attn.v_proj.weight", shape: [.keyValueWidth, .hidden], initialization: .normal),
        Row(role: .attentionOutput, place: .layer, template: "model.layers.{layer}.self_attn.o_proj.weight", shape: [.hidden, .queryWidth], initialization: .normal),
        Row(role: .attentionQueryBias, place: .layer, template: "model.layers.{layer}.self_attn.q_proj.bias", shape: [.queryWidth], initialization: .zeros),
        Row(role: .attentionKeyBias, place: .layer, template: "model.layers.{layer}.self_attn.k_proj.bias", shape: [.keyValueWidth], initialization: .zeros),
        Row(role: .attentionValueBias, place: .layer, template: "model.layers.{layer}.self_attn.v_proj.bias", shape: [.keyValueWidth], initialization: .zeros),
        Row(role: .attentionOutputBias, place: .layer, template: "model.layers.{layer}.self_attn.o_proj.bias", shape: [.hidden], initialization: .zeros),
        Row(role: .mlpNorm, place: .layer, template: "model.layers.{layer}.post_attention_layernorm.weight", shape: [.hidden], initialization: .ones),
        Row(role: .mlpGate, place: .layer, template: "model.layers.{layer}.mlp.gate_proj.weight", shape: [.intermediate, .hidden], initialization: .normal),
        Row(role: .mlpUp, place: .layer, template: "model.layers.{layer}.mlp.up_proj.weight", shape: [.intermediate, .hidden], initialization: .normal),
        Row(role: .mlpDown, place: .layer, template: "model.layers.{layer}.mlp.down_proj.weight", shape: [.hidden, .intermediate], initialization: .normal),
        Row(role: .finalNorm, place: .head, template: "model.norm.weight", shape: [.hidden], initialization: .ones),
        Row(role: .tokenHead, place: .head, template: "lm_token_head.weight", shape: [.vocabulary, .hidden], initialization: .normal),
        Row(role: .pixelHead, place: .head, template: "lm_pixel_head.weight", shape: [.patchValues, .hidden], initialization: .normal),
        Row(role: .score, place: .head, template: "score.weight", shape: [.labels, .hidden], initialization: .normal),
    ]

    /// The prefix of the inner model's tensors (embeddings, layers, final norm); the bare model's state dict
    /// spells them without it.
    public static let innerModelPrefix = "model."

    private static let rows = Dictionary(uniqueKeysWithValues: table.map { ($0.role, $0) })

    public var row: TensorRole.Row { Self.rows[self]! }

    /// The decoder layer's roles, in module order.
    public static let layerRoles = table.filter { $0.place == .layer }.map(\.role)

    /// The attention biases, present only with attention_bias (SPEC 2.1).
    public var isAttentionBias: Bool {
        [.attentionQueryBias, .attentionKeyBias, .attentionValueBias, .attentionOutputBias].contains(self)
    }

    /// The canonical name; `layer` fills `{layer}` and is required for the layer roles.
    public func name(layer: Int? = nil) -> String {
        let template = row.template
        guard row.place == .layer else { return template }
        guard let layer else { preconditionFailure("\(self) is a per-layer tensor: name(layer:) needs the layer") }
        return template.replacingOccurrences(of: "{layer}", with: String(layer))
    }

    /// The shape under `config`.
    public func shape(_ config: PixelGPTConfig) -> [Int] {
        row.shape.map { dimension in
            switch dimension {
            case .hidden: config.hiddenSize
            case .intermediate: config.intermediateSize
            case .vocabulary: config.vocabSize
            case .queryWidth: config.numAttentionHeads * config.headDimension
            case .keyValueWidth: config.keyValueHeads * config.headDimension
            case .channels: config.numChannels
            case .patch: config.patchSize
            case .patchValues: config.patchSize * config.patchSize * config.numChannels
            case .labels: config.numLabels ?? 2
            }
        }
    }

    /// The role and layer of a canonical name, nil for a name the table does not hold.
    public static func parse(_ name: String) -> (role: TensorRole, layer: Int?)? {
        for row in table {
            if row.place != .layer {
                if name == row.template { return (row.role, nil) }
                continue
            }
            let parts = row.template.components(separatedBy: "{layer}")
            guard name.hasPrefix(parts[0]), name.hasSuffix(parts[1]), name.count > parts[0].count + parts[1].count else { continue }
            let middle = name.dropFirst(parts[0].count).dropLast(parts[1].count)
            if middle.allSatisfy(\.isASCII), let layer = Int(middle), layer >= 0, String(layer) == middle { return (row.role, layer) }
        }
        return nil
    }
}
