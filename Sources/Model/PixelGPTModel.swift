import Foundation

/// What a forward pass computes besides the last hidden state.
public struct ForwardOptions: Sendable {
    /// Keep the embeddings and every layer's output (`hidden_states.0` ... `hidden_states.N`).
    public var hiddenStates: Bool
    /// Apply the lm heads the checkpoint has (token head on text positions, pixel head on pixel positions).
    public var lmHeads: Bool
    /// Where `score` reads each row, when the checkpoint has it.
    public var pooling: PoolingRule

    public init(hiddenStates: Bool = false, lmHeads: Bool = true, pooling: PoolingRule = .upstream) {
        self.hiddenStates = hiddenStates
        self.lmHeads = lmHeads
        self.pooling = pooling
    }
}

/// The results of one forward pass, row-major float arrays with the shapes given beside them.
public struct ForwardOutput: Sendable {
    public let modality: Modality
    public let batchSize: Int
    /// L = P + T.
    public let sequenceLength: Int
    public let hiddenSize: Int
    /// After the final norm, [B, L, H].
    public let lastHiddenState: [Float]
    /// [embeddings, layer 1 output, ..., layer N output], each [B, L, H], all before the final norm (HF's
    /// tuple ends with the normed state instead; that one is `lastHiddenState`). Empty unless asked for.
    public let hiddenStates: [[Float]]
    /// lm_token_head on the text positions: [B, T, V] (T = L in text mode, the last T in pair mode).
    public let tokenLogits: [Float]?
    /// lm_pixel_head on the pixel positions: [B, P, 768] in (y, x, c) order (SPEC 2.3).
    public let pixelLogits: [Float]?
    /// score at the pooled position, [B, num_labels].
    public let pooledLogits: [Float]?
    /// The pooled position of each row (SPEC 4).
    public let pooledIndex: [Int]?
}

/// PixelGPT (ErniePixel): a Llama-style decoder over text tokens, 16×16 pixel patches, or both (SPEC 3).
/// Vanilla Llama checkpoints (TextGPT) run through the same code with the text path only.
public final class PixelGPTModel: Sendable {
    public let config: PixelGPTConfig
    public let weights: PixelGPTWeights
    public let rotary: RotaryEmbedding

    public init(config: PixelGPTConfig, weights: PixelGPTWeights) throws {
        try config.validate()
        guard weights.layers.count == config.numHiddenLayers else {
            throw ModelError.unsupported("weights have \(weights.layers.count) layers, config.json says \(config.numHiddenLayers)")
        }
        self.config = config
        self.weights = weights
        rotary = RotaryEmbedding(config: config)
    }

    var hiddenSize: Int { config.hiddenSize }
    var heads: Int { config.numAttentionHeads }
    var kvHeads: Int { config.keyValueHeads }
    var headDim: Int { config.headDimension }
    var rmsEps: Float { Float(config.rmsNormEps) }
    /// PyTorch's LayerNorm default, which the patch embedding uses (SPEC 3.2).
    static let layerNormEps: Float = 1e-5
    /// The pad id the pooling compares against: config's, else eos, as the scripts set it (SPEC 4, 11.8).
    public var padTokenId: Int { config.padTokenId ?? config.eosTokenId }

    /// Refuses inputs this model cannot run, naming the input.
    public func check(_ inputs: ForwardInputs) throws(ModelError) {
        if inputs.modality != .pixel {
            guard weights.tokenEmbedding != nil else {
                throw .unsupported("input_ids given, but the checkpoint has no token embedding (model.embed_tokens.weight)")
            }
            let t = inputs.textLength
            if let i = inputs.inputIds.firstIndex(where: { $0 < 0 || $0 >= config.vocabSize }) {
                throw .invalidInput(name: "input_ids", reason: "id \(inputs.inputIds[i]) at [\(i / t), \(i % t)] is outside the vocabulary 0..<\(config.vocabSize)")
            }
        }
        if inputs.modality != .text {
            guard weights.patchEmbedding != nil else {
                throw .unsupported("pixel_values given, but the checkpoint has no patch embedding (model.embed_patches.*): a text-only (Llama) model")
            }
            guard config.patchSize == ForwardInputs.patchSize else {
                throw .unsupported("config patch_size is \(config.patchSize); only 16 is supported")
            }
        }
        if config.ropeScaling == nil && inputs.sequenceLength > config.maxPositionEmbeddings {
            throw .invalidInput(name: inputs.modality == .pixel ? "pixel_values" : "input_ids",
                                reason: "sequence length \(inputs.sequenceLength) exceeds max_position_embeddings \(config.maxPositionEmbeddings) and config.json has no rope_scaling")
        }
    }

    public func forward(_ inputs: ForwardInputs, options: ForwardOptions = ForwardOptions()) throws(ModelError) -> ForwardOutput {
        try check(inputs)
        let batch = inputs.batchSize, length = inputs.sequenceLength, rows = batch * length

        // 1. Embeddings, pixels first then text (SPEC 3.1-3.3). No positional embedding.
        var x = embed(inputs)
        var hiddenStates = options.hiddenStates ? [x] : []

        // 2. Decoder layers. Position ids are 0 ..< L in every row, padding ignored; in pair mode text
        //    positions therefore continue at P (SPEC 3.4).
        let mask = inputs.attentionMask
        let positions = (0..<rows).map { $0 % length }
        let (cos, sin) = rotary.tables(positions: length, sequenceLength: length)
        let step = DecoderStep(batch: batch, newRows: length, offset: 0, keyMask: mask, positions: positions, cos: cos, sin: sin)
        for layer in weights.layers {
            var cache = LayerCache(batch: batch, capacity: length, width: kvHeads * headDim)
            decoderLayer(layer, &x, step: step, cache: &cache)
            if options.hiddenStates { hiddenStates.append(x) }
        }

        // 3. Final RMSNorm: the last hidden state (SPEC 3.7).
        let last = KernelCalls.rmsNorm(x, weights.finalNorm, eps: rmsEps)

        // 4. Heads on the positions of their modality: pixel head on the first P, token head on the last T.
        var tokenLogits: [Float]?, pixelLogits: [Float]?
        if options.lmHeads {
            if let head = weights.tokenHead, inputs.textLength > 0 {
                let text = gatherRows(last, batch: batch, length: length, range: inputs.patchCount..<length)
                tokenLogits = KernelCalls.linear(text, rows: batch * inputs.textLength, head)
            }
            if let head = weights.pixelHead, inputs.patchCount > 0 {
                let pixels = gatherRows(last, batch: batch, length: length, range: 0..<inputs.patchCount)
                pixelLogits = KernelCalls.linear(pixels, rows: batch * inputs.patchCount, head)
            }
        }

        // 5. Classification: score (no bias) at one position per row (SPEC 4). Applying it only there
        //    equals applying it everywhere and gathering.
        var pooledLogits: [Float]?, pooledIndex: [Int]?
        if let score = weights.score {
            let index = Pooling.poolingIndex(inputs, padTokenId: padTokenId, rule: options.pooling)
            var pooled: [Float] = []
            pooled.reserveCapacity(batch * hiddenSize)
            for b in 0..<batch {
                let row = b * length + index[b]
                pooled += last[(row * hiddenSize)..<((row + 1) * hiddenSize)]
            }
            pooledLogits = KernelCalls.linear(pooled, rows: batch, score)
            pooledIndex = index
        }
        return ForwardOutput(modality: inputs.modality, batchSize: batch, sequenceLength: length, hiddenSize: hiddenSize,
                             lastHiddenState: last, hiddenStates: hiddenStates, tokenLogits: tokenLogits,
                             pixelLogits: pixelLogits, pooledLogits: pooledLogits, pooledIndex: pooledIndex)
    }

    // MARK: - Embeddings

    /// [B·L, H]: patch embeddings in rows 0 ..< P of each sequence, token embeddings after them.
    func embed(_ inputs: ForwardInputs) -> [Float] {
        let batch = inputs.batchSize, length = inputs.sequenceLength, p = inputs.patchCount, t = inputs.textLength
        let patches = p > 0 ? patchEmbedding(inputs) : []
        let tokens = t > 0 ? tokenEmbedding(inputs.inputIds) : []
        if t == 0 { return patches }
        if p == 0 { return tokens }
        let h = hiddenSize
        var x = [Float]()
        x.reserveCapacity(batch * length * h)
        for b in 0..<batch {
            x += patches[(b * p * h)..<((b + 1) * p * h)]
            x += tokens[(b * t * h)..<((b + 1) * t * h)]
        }
        return x
    }

    /// Conv2d 16×16 stride 16 as one GEMM over the patches flattened channel-major (c, y, x), plus bias,
    /// then LayerNorm with gain and bias, eps 1e-5 (SPEC 3.2, 11.4).
    func patchEmbedding(_ inputs: ForwardInputs) -> [Float] {
        let w = weights.patchEmbedding!
        let batch = inputs.batchSize, patches = inputs.patchCount, size = ForwardInputs.patchSize
        let width = patches * size, features = 3 * size * size
        var columns = [Float](repeating: 0, count: batch * patches * features)
        for b in 0..<batch {
            for n in 0..<patches {
                let row = (b * patches + n) * features
                for c in 0..<3 {
                    for y in 0..<size {
                        let source = ((b * 3 + c) * size + y) * width + n * size
                        let target = row + c * size * size + y * size
                        for xx in 0..<size { columns[target + xx] = inputs.pixelValues[source + xx] }
                    }
                }
            }
        }
        let projected = KernelCalls.linear(columns, rows: batch * patches, w.projection, bias: w.projectionBias)
        return KernelCalls.layerNorm(projected, weight: w.normWeight, bias: w.normBias, eps: Self.layerNormEps)
    }

    /// Row lookup in embed_tokens, no scaling (SPEC 3.3).
    func tokenEmbedding(_ ids: [Int]) -> [Float] {
        let h = hiddenSize
        var x = [Float](repeating: 0, count: ids.count * h)
        weights.tokenEmbedding!.withFloat32 { table in
            for (r, id) in ids.enumerated() {
                for i in 0..<h { x[r * h + i] = table[id * h + i] }
            }
        }
        return x
    }

    // MARK: - Decoder layer

    /// The rows one call of the decoder processes: `newRows` per sequence at positions offset ..< offset +
    /// newRows, attending to keys 0 ..< offset + newRows under `keyMask` [B, offset + newRows].
    struct DecoderStep {
        let batch: Int
        let newRows: Int
        let offset: Int
        let keyMask: [Float]
        /// Position of each new row, [B · newRows].
        let positions: [Int]
        let cos: [Float]
        let sin: [Float]
        var keyLength: Int { offset + newRows }
    }

    /// One layer's keys and values after RoPE, [B, capacity, n_kv·d]: the whole sequence in a plain
    /// forward pass, the growing prefix in generation.
    struct LayerCache {
        let batch: Int
        let capacity: Int
        let width: Int
        var keys: [Float]
        var values: [Float]

        init(batch: Int, capacity: Int, width: Int) {
            self.batch = batch
            self.capacity = capacity
            self.width = width
            keys = []
            values = []
        }

        /// Stores `newRows` rows per sequence at `offset`.
        mutating func append(keys k: [Float], values v: [Float], newRows: Int, offset: Int) {
            if offset == 0 && newRows == capacity {
                keys = k
                values = v
                return
            }
            if keys.isEmpty {
                keys = [Float](repeating: 0, count: batch * capacity * width)
                values = keys
            }
            for b in 0..<batch {
                let source = b * newRows * width, target = (b * capacity + offset) * width
                for i in 0..<(newRows * width) {
                    keys[target + i] = k[source + i]
                    values[target + i] = v[source + i]
                }
            }
        }
    }

    /// Pre-norm decoder layer (SPEC 3.6): r = x + Attn(RMSNorm₁(x)); out = r + MLP(RMSNorm₂(r)).
    func decoderLayer(_ w: PixelGPTWeights.DecoderLayer, _ x: inout [Float], step: DecoderStep, cache: inout LayerCache) {
        let rows = step.batch * step.newRows
        // Attention: projections over all rows at once, RoPE on q and k, GQA, causal + padding mask.
        let h = KernelCalls.rmsNorm(x, w.inputNorm, eps: rmsEps)
        var q = KernelCalls.linear(h, rows: rows, w.qProj, bias: w.qBias)
        var k = KernelCalls.linear(h, rows: rows, w.kProj, bias: w.kBias)
        let v = KernelCalls.linear(h, rows: rows, w.vProj, bias: w.vBias)
        KernelCalls.rotary(&q, heads: heads, headDim: headDim, positions: step.positions, cos: step.cos, sin: step.sin)
        KernelCalls.rotary(&k, heads: kvHeads, headDim: headDim, positions: step.positions, cos: step.cos, sin: step.sin)
        cache.append(keys: k, values: v, newRows: step.newRows, offset: step.offset)
        let shape = AttentionShape(batch: step.batch, queryLength: step.newRows, keyLength: step.keyLength,
                                   keyCapacity: cache.capacity, queryOffset: step.offset,
                                   heads: heads, kvHeads: kvHeads, headDim: headDim)
        let attended = KernelCalls.attention(q: q, k: cache.keys, v: cache.values, keyMask: step.keyMask, shape: shape)
        KernelCalls.add(&x, KernelCalls.linear(attended, rows: rows, w.oProj, bias: w.oBias))

        // MLP: down(silu(gate(h)) ⊙ up(h)), no biases.
        let h2 = KernelCalls.rmsNorm(x, w.postAttentionNorm, eps: rmsEps)
        var gate = KernelCalls.linear(h2, rows: rows, w.gateProj)
        let up = KernelCalls.linear(h2, rows: rows, w.upProj)
        KernelCalls.swiGLU(gate: &gate, up: up)
        KernelCalls.add(&x, KernelCalls.linear(gate, rows: rows, w.downProj))
    }

    /// Rows `range` of every sequence of a [B, L, H] array, as [B, range.count, H].
    func gatherRows(_ x: [Float], batch: Int, length: Int, range: Range<Int>) -> [Float] {
        let h = hiddenSize
        if range == 0..<length { return x }
        var out: [Float] = []
        out.reserveCapacity(batch * range.count * h)
        for b in 0..<batch { out += x[((b * length + range.lowerBound) * h)..<((b * length + range.upperBound) * h)] }
        return out
    }
}
