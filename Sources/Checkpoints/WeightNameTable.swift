/// The one place that knows how each architecture names PixelGPT's tensors (SPEC 2.1, 2.2). Every name a
/// loader meets is mapped onto the canonical `ErniePixelForCausalLM` name; Keras names are first turned
/// into PyTorch names by `KerasWeightNames`.
public enum WeightNameTable {
    public struct Row: Sendable {
        /// The class whose state dict uses this spelling.
        public let architecture: String
        /// A full name, or a prefix when it ends in "*".
        public let pattern: String
        /// The canonical name (or prefix, matching `pattern`).
        public let canonical: String
    }

    public static let rows: [Row] = [
        Row(architecture: "ErniePixelForCausalLM", pattern: "model.*", canonical: "model.*"),
        Row(architecture: "ErniePixelForCausalLM", pattern: "lm_token_head.weight", canonical: "lm_token_head.weight"),
        Row(architecture: "ErniePixelForCausalLM", pattern: "lm_pixel_head.weight", canonical: "lm_pixel_head.weight"),
        Row(architecture: "ErniePixelForSequenceClassification", pattern: "score.weight", canonical: "score.weight"),
        // The bare ErniePixelModel has no "model." prefix; HF's from_pretrained adds or strips it.
        Row(architecture: "ErniePixelModel", pattern: "embed_patches.*", canonical: "model.embed_patches.*"),
        Row(architecture: "ErniePixelModel", pattern: "embed_tokens.weight", canonical: "model.embed_tokens.weight"),
        Row(architecture: "ErniePixelModel", pattern: "layers.*", canonical: "model.layers.*"),
        Row(architecture: "ErniePixelModel", pattern: "norm.weight", canonical: "model.norm.weight"),
        // TextGPT is a vanilla Llama: same model.* names, its token head is lm_head (SPEC 1.3).
        Row(architecture: "LlamaForCausalLM", pattern: "lm_head.weight", canonical: "lm_token_head.weight"),
    ]

    public struct Match: Sendable, Equatable {
        public let canonical: String
        public let architecture: String
    }

    /// The canonical name of `name`, or nil when no architecture uses it.
    public static func canonical(_ name: String) -> Match? {
        for row in rows {
            if row.pattern.hasSuffix("*") {
                let prefix = row.pattern.dropLast()
                if name.hasPrefix(prefix) {
                    return Match(canonical: String(row.canonical.dropLast()) + String(name.dropFirst(prefix.count)), architecture: row.architecture)
                }
            } else if name == row.pattern {
                return Match(canonical: row.canonical, architecture: row.architecture)
            }
        }
        return nil
    }
}
