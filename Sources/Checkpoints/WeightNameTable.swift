import Model

/// How each architecture spells PixelGPT's tensors (SPEC 2.1, 2.2). Every name a loader meets is mapped onto
/// the canonical `ErniePixelForCausalLM` name of the role table (`TensorRole`, which spells them all);
/// Keras names are first turned into PyTorch names by `KerasWeightNames`.
public enum WeightNameTable {
    public struct Row: Sendable {
        /// The class whose state dict uses this spelling.
        public let architecture: String
        /// A full name, or a prefix when it ends in "*".
        public let pattern: String
        /// The canonical name (or prefix, matching `pattern`).
        public let canonical: String
    }

    /// Derived from the role table (`TensorRole`) and the families' spellings (`ModelFamily`).
    public static let rows: [Row] = {
        let pixel = ModelFamily.erniePixel, prefix = TensorRole.innerModelPrefix
        var rows = [Row(architecture: pixel.causalLMArchitecture, pattern: prefix + "*", canonical: prefix + "*")]
        rows += [TensorRole.tokenHead, .pixelHead].map { Row(architecture: pixel.causalLMArchitecture, pattern: $0.name(), canonical: $0.name()) }
        rows.append(Row(architecture: pixel.sequenceClassificationArchitecture, pattern: TensorRole.score.name(), canonical: TensorRole.score.name()))
        // The bare ErniePixelModel has no "model." prefix; HF's from_pretrained adds or strips it. One row per
        // top-level module of the inner model (embed_patches, embed_tokens, layers, norm).
        var modules: [String] = []
        for row in TensorRole.table where row.template.hasPrefix(prefix) {
            let module = String(row.template.dropFirst(prefix.count).prefix { $0 != "." })
            if !modules.contains(module) { modules.append(module) }
        }
        rows += modules.map { Row(architecture: pixel.baseArchitecture, pattern: $0 + ".*", canonical: prefix + $0 + ".*") }
        // TextGPT is a vanilla Llama: same model.* names, its token head is lm_head (SPEC 1.3).
        for family in ModelFamily.allCases {
            for (role, stored) in family.storedTemplates.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                rows.append(Row(architecture: family.causalLMArchitecture, pattern: stored, canonical: role.name()))
            }
        }
        return rows
    }()

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
