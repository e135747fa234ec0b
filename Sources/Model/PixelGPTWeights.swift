/// The weights of one PixelGPT (or vanilla Llama) model, by role (`TensorRole`), under the canonical
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

        /// The layer from its tensors by role (`TensorRole.layerRoles`): every role is required except the
        /// attention biases, which must all be present or all absent.
        public init(tensor: (TensorRole) throws -> WeightTensor?) throws {
            func required(_ role: TensorRole) throws -> WeightTensor {
                guard let t = try tensor(role) else { throw ModelError.missingWeight(role.rawValue) }
                return t
            }
            inputNorm = try required(.attentionNorm)
            (qProj, kProj, vProj, oProj) = (try required(.attentionQuery), try required(.attentionKey), try required(.attentionValue), try required(.attentionOutput))
            (qBias, kBias, vBias, oBias) = (try tensor(.attentionQueryBias), try tensor(.attentionKeyBias), try tensor(.attentionValueBias), try tensor(.attentionOutputBias))
            postAttentionNorm = try required(.mlpNorm)
            (gateProj, upProj, downProj) = (try required(.mlpGate), try required(.mlpUp), try required(.mlpDown))
        }

        /// The tensor of a layer role, nil for an absent bias.
        public subscript(role: TensorRole) -> WeightTensor? {
            switch role {
            case .attentionNorm: inputNorm
            case .attentionQuery: qProj
            case .attentionKey: kProj
            case .attentionValue: vProj
            case .attentionOutput: oProj
            case .attentionQueryBias: qBias
            case .attentionKeyBias: kBias
            case .attentionValueBias: vBias
            case .attentionOutputBias: oBias
            case .mlpNorm: postAttentionNorm
            case .mlpGate: gateProj
            case .mlpUp: upProj
            case .mlpDown: downProj
            default: nil
            }
        }

        public var allTensors: [WeightTensor] { TensorRole.layerRoles.compactMap { self[$0] } }
    }

    public let patchEmbedding: PatchEmbedding?
    public let tokenEmbedding: WeightTensor?
    public let layers: [DecoderLayer]
    public let finalNorm: WeightTensor
    /// lm_token_head; with tie_word_embeddings, the token embedding itself (the same storage).
    public let tokenHead: WeightTensor?
    public let pixelHead: WeightTensor?
    /// `score.weight` [num_labels, H], no bias (SPEC 4).
    public let score: WeightTensor?

    public var numLabels: Int? { score?.shape[0] }

    /// Picks every tensor `config` implies from `tensor` (canonical name → tensor, nil when absent) and
    /// checks its shape against the role table. Decoder layers and the final norm are required; the
    /// embeddings and heads are taken when present, and at least one embedding must be. With
    /// tie_word_embeddings the token head is the token embedding, whatever the file holds (transformers ties
    /// them on load; `PixelGPTConfig.tokenHeadIsTied`).
    public init(config: PixelGPTConfig, tensor: (String) throws -> WeightTensor?) throws {
        let family = config.family
        func optional(_ role: TensorRole, layer: Int? = nil) throws -> WeightTensor? {
            guard family.has(role) else { return nil }
            let name = role.name(layer: layer)
            guard let t = try tensor(name) else { return nil }
            let want = role.shape(config)
            guard t.shape == want else { throw ModelError.weightShape(name: name, expected: want, actual: t.shape) }
            return t
        }
        func required(_ role: TensorRole, layer: Int? = nil) throws -> WeightTensor {
            guard let t = try optional(role, layer: layer) else { throw ModelError.missingWeight(role.name(layer: layer)) }
            return t
        }
        let patchRoles: [TensorRole] = [.patchProjection, .patchProjectionBias, .patchNorm, .patchNormBias]
        let patchParts = try patchRoles.map { try optional($0) }
        if patchParts.allSatisfy({ $0 != nil }) {
            patchEmbedding = PatchEmbedding(projection: patchParts[0]!, projectionBias: patchParts[1]!, normWeight: patchParts[2]!, normBias: patchParts[3]!)
        } else if let missing = zip(patchRoles, patchParts).first(where: { $0.1 == nil }), patchParts.contains(where: { $0 != nil }) {
            // Half a patch embedding is a broken checkpoint, not a text-only one.
            throw ModelError.missingWeight(missing.0.name())
        } else {
            patchEmbedding = nil
        }
        tokenEmbedding = try optional(.tokenEmbedding)
        if patchEmbedding == nil && tokenEmbedding == nil { throw ModelError.missingWeight(TensorRole.tokenEmbedding.name()) }
        layers = try (0..<config.numHiddenLayers).map { i in
            try DecoderLayer { role in
                role.isAttentionBias && !config.attentionBias ? nil : try required(role, layer: i)
            }
        }
        finalNorm = try required(.finalNorm)
        if config.tokenHeadIsTied, let embedding = tokenEmbedding {
            tokenHead = embedding
        } else {
            tokenHead = try optional(.tokenHead)
        }
        pixelHead = try optional(.pixelHead)
        let scoreName = TensorRole.score.name()
        if let s = try tensor(scoreName) {
            let labels = config.numLabels ?? s.shape.first ?? 0
            guard s.shape == [labels, config.hiddenSize], labels >= 1 else {
                throw ModelError.weightShape(name: scoreName, expected: [labels, config.hiddenSize], actual: s.shape)
            }
            score = s
        } else {
            score = nil
        }
    }

    /// Every tensor held once (a tied token head is the token embedding), for memory accounting.
    public var allTensors: [WeightTensor] {
        var all: [WeightTensor] = []
        if let p = patchEmbedding { all += [p.projection, p.projectionBias, p.normWeight, p.normBias] }
        if let tokenEmbedding { all.append(tokenEmbedding) }
        for l in layers { all += l.allTensors }
        all.append(finalNorm)
        if let tokenHead, tokenHead.name != tokenEmbedding?.name { all.append(tokenHead) }
        all += [pixelHead, score].compactMap { $0 }
        return all
    }
}
