/// The `model_type` values config.json may give, and what each implies for the tensors (SPEC 1.3): an
/// ErniePixel (PixelGPT) has the patch embedding and the pixel head; a vanilla Llama (the TextGPT baseline)
/// is text only, the same decoder, with its token head stored as `lm_head.weight`. Anything else is refused
/// (`PixelGPTConfig.validate`), so a checkpoint of another family cannot load as a half-understood one.
public enum ModelFamily: String, CaseIterable, Sendable {
    case erniePixel = "ernie-pixel"
    case llama

    /// The known values, for messages.
    public static var known: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Whether the family has the pixel path (patch embedding, pixel head).
    public var hasPixels: Bool { self == .erniePixel }

    /// Roles this family has at all (attention biases and heads still depend on the config).
    public func has(_ role: TensorRole) -> Bool {
        switch role {
        case .patchProjection, .patchProjectionBias, .patchNorm, .patchNormBias, .pixelHead: hasPixels
        default: true
        }
    }

    /// The architectures (config.json `architectures[0]`) of this family: the causal LM, the sequence
    /// classifier and the bare model.
    public var causalLMArchitecture: String { self == .llama ? "LlamaForCausalLM" : "ErniePixelForCausalLM" }
    public var sequenceClassificationArchitecture: String { self == .llama ? "LlamaForSequenceClassification" : "ErniePixelForSequenceClassification" }
    public var baseArchitecture: String { self == .llama ? "LlamaModel" : "ErniePixelModel" }

    /// How a checkpoint of this family spells a role's tensor, when not canonically: Llama's token head is
    /// `lm_head` (transformers' LlamaForCausalLM).
    public var storedTemplates: [TensorRole: String] {
        self == .llama ? [.tokenHead: "lm_head.weight"] : [:]
    }
}
