/// The weights of one PixelGPT (or vanilla Llama) model, by role, under the canonical
/// `ErniePixelForCausalLM` names (SPEC 2.1). Parts a checkpoint may lack are optional: a Llama has no patch
/// embedding or pixel head, a sequence classifier has `score` and no lm heads, a CausalLM has no `score`.
public struct PixelGPTWeights: Sendable {
    /// Conv2d 16×16 stride 16 (as a [H, 3·16·16] matrix, channel-major inputs) + LayerNorm (SPEC 3.2).
    public struct PatchEmbedding: Sendable {
        public let projection: WeightTensor
        public let projectionBias: WeightTensor
        public let normWeight: WeightTensor
        public let normBias: WeightTensor
    }

    public struct DecoderLayer: Sendable {
        public let inputNorm: WeightTensor
        public let qProj: WeightTensor, kProj: WeightTensor, vProj: WeightTensor, oProj: WeightTensor
        /// Present only with attention_bias (SPEC 2.1).
        public let qBias: WeightTensor?, kBias: WeightTensor?, vBias: WeightTensor?, oBias: WeightTensor?
        public let postAttentionNorm: WeightTensor
        public let gateProj: WeightTensor, upProj: WeightTensor, downProj: WeightTensor
    }

    public let patchEmbedding: PatchEmbedding?
    public let tokenEmbedding: WeightTensor?
    public let layers: [DecoderLayer]
    public let finalNorm: WeightTensor
    public let tokenHead: WeightTensor?
    public let pixelHead: WeightTensor?
    /// `score.weight` [num_labels, H], no bias (SPEC 4).
    public let score: WeightTensor?

    public var numLabels: Int? { score?.shape[0] }

    /// Picks every tensor `config` implies from `tensor` (canonical name → tensor, nil when absent) and
    /// checks its shape against the parameter table. Decoder layers and the final norm are required; the
    /// embeddings and heads are taken when present, and at least one embedding must be.
    public init(config: PixelGPTConfig, tensor: (String) throws -> WeightTensor?) throws {
        let expected = Dictionary(uniqueKeysWithValues: config.causalLMParameters.map { ($0.name, $0.shape) })
        func optional(_ name: String) throws -> WeightTensor? {
            guard let t = try tensor(name) else { return nil }
            let want = expected[name]!
            guard t.shape == want else { throw ModelError.weightShape(name: name, expected: want, actual: t.shape) }
            return t
        }
        func required(_ name: String) throws -> WeightTensor {
            guard let t = try optional(name) else { throw ModelError.missingWeight(name) }
            return t
        }
        let patch = "model.embed_patches.patch_embeddings."
        let patchParts = try [patch + "projection.weight", patch + "projection.bias", patch + "norm.weight", patch + "norm.bias"].map { try optional($0) }
        if patchParts.allSatisfy({ $0 != nil }) {
            patchEmbedding = PatchEmbedding(projection: patchParts[0]!, projectionBias: patchParts[1]!, normWeight: patchParts[2]!, normBias: patchParts[3]!)
        } else if patchParts.contains(where: { $0 != nil }) {
            // Half a patch embedding is a broken checkpoint, not a text-only one.
            let missing = zip(["projection.weight", "projection.bias", "norm.weight", "norm.bias"], patchParts).first { $0.1 == nil }!.0
            throw ModelError.missingWeight(patch + missing)
        } else {
            patchEmbedding = nil
        }
        tokenEmbedding = try optional("model.embed_tokens.weight")
        if patchEmbedding == nil && tokenEmbedding == nil { throw ModelError.missingWeight("model.embed_tokens.weight") }
        layers = try (0..<config.numHiddenLayers).map { i in
            let p = "model.layers.\(i)."
            func bias(_ projection: String) throws -> WeightTensor? {
                config.attentionBias ? try required(p + "self_attn.\(projection).bias") : nil
            }
            return DecoderLayer(
                inputNorm: try required(p + "input_layernorm.weight"),
                qProj: try required(p + "self_attn.q_proj.weight"), kProj: try required(p + "self_attn.k_proj.weight"),
                vProj: try required(p + "self_attn.v_proj.weight"), oProj: try required(p + "self_attn.o_proj.weight"),
                qBias: try bias("q_proj"), kBias: try bias("k_proj"), vBias: try bias("v_proj"), oBias: try bias("o_proj"),
                postAttentionNorm: try required(p + "post_attention_layernorm.weight"),
                gateProj: try required(p + "mlp.gate_proj.weight"), upProj: try required(p + "mlp.up_proj.weight"),
                downProj: try required(p + "mlp.down_proj.weight"))
        }
        finalNorm = try required("model.norm.weight")
        tokenHead = try optional("lm_token_head.weight")
        pixelHead = try optional("lm_pixel_head.weight")
        if let s = try tensor("score.weight") {
            let labels = config.numLabels ?? s.shape.first ?? 0
            guard s.shape == [labels, config.hiddenSize], labels >= 1 else {
                throw ModelError.weightShape(name: "score.weight", expected: [labels, config.hiddenSize], actual: s.shape)
            }
            score = s
        } else {
            score = nil
        }
    }

    /// Every tensor held, for memory accounting.
    public var allTensors: [WeightTensor] {
        var all: [WeightTensor] = []
        if let p = patchEmbedding { all += [p.projection, p.projectionBias, p.normWeight, p.normBias] }
        if let tokenEmbedding { all.append(tokenEmbedding) }
        for l in layers {
            all += [l.inputNorm, l.qProj, l.kProj, l.vProj, l.oProj, l.postAttentionNorm, l.gateProj, l.upProj, l.downProj]
            all += [l.qBias, l.kBias, l.vBias, l.oBias].compactMap { $0 }
        }
        all.append(finalNorm)
        all += [tokenHead, pixelHead, score].compactMap { $0 }
        return all
    }
}
