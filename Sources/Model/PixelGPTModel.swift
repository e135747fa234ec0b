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
    /// The matrices packed for the GEMM, once (PackedWeights).
    let packed: PackedWeights

    public init(config: PixelGPTConfig, weights: PixelGPTWeights) throws {
        try config.validate()
        guard weights.layers.count == config.numHiddenLayers else {
            throw ModelError.unsupported("weights have \(weights.layers.count) layers, config.json says \(config.numHiddenLayers)")
        }
        self.config = config
        self.weights = weights
        rotary = RotaryEmbedding(config: config)
        packed = PackedWeights(weights, threads: KernelThreads.current)
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
        // Before anything is allocated: the shape alone must not be able to ask for unbounded memory.
        try ResourceLimits.checkForward(config: config, batch: inputs.batchSize, patches: inputs.patchCount, tokens: inputs.textLength,
                                        hiddenStates: false, lmHeads: false)
        if inputs.modality != .pixel {
            guard weights.tokenEmbedding != nil else {
                throw .unsupported("input_ids given, but the checkpoint has no token embedding (\(TensorRole.tokenEmbedding.name()))")
            }
            let t = inputs.textLength
            if let i = inputs.inputIds.firstIndex(where: { $0 < 0 || $0 >= config.vocabSize }) {
                throw .invalidInput(name: "input_ids", reason: "id \(inputs.inputIds[i]) at [\(i / t), \(i % t)] is outside the vocabulary 0..<\(config.vocabSize)")
            }
        }
        if inputs.modality != .text {
            guard weights.patchEmbedding != nil else {
                throw .unsupported("pixel_values given, but the checkpoint has no patch embedding (\(TensorRole.patchProjection.name()) ...): a text-only (Llama) model")
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
        // The outputs asked for count too: token logits alone are batch × tokens × vocabulary floats.
        try ResourceLimits.checkForward(config: config, batch: inputs.batchSize, patches: inputs.patchCount, tokens: inputs.textLength,
                                        hiddenStates: options.hiddenStates, lmHeads: options.lmHeads)
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
        var workspace = LayerWorkspace(rows: rows, model: self)
        for layer in packed.layers {
            var noCache: LayerCache?, noRecord: DecoderLayerActivations?
            decoderLayer(layer, &x, step: step, cache: &noCache, workspace: &workspace, record: &noRecord)
            if options.hiddenStates { hiddenStates.append(x) }
        }

        // 3. Final RMSNorm: the last hidden state (SPEC 3.7).
        let last = KernelCalls.rmsNorm(x, weights.finalNorm, eps: rmsEps)

        // 4. Heads on the positions of their modality: pixel head on the first P, token head on the last T.
        var tokenLogits: [Float]?, pixelLogits: [Float]?
        if options.lmHeads {
            if let head = packed.tokenHead, inputs.textLength > 0 {
                let text = gatherRows(last, batch: batch, length: length, range: inputs.patchCount..<length)
                tokenLogits = KernelCalls.linear(text, rows: batch * inputs.textLength, head)
            }
            if let head = packed.pixelHead, inputs.patchCount > 0 {
                let pixels = gatherRows(last, batch: batch, length: length, range: 0..<inputs.patchCount)
                pixelLogits = KernelCalls.linear(pixels, rows: batch * inputs.patchCount, head)
            }
        }

        // 5. Classification: score (no bias) at one position per row (SPEC 4). Applying it only there
        //    equals applying it everywhere and gathering.
        var pooledLogits: [Float]?, pooledIndex: [Int]?
        if let score = packed.score {
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

    // MARK: - Pooled positions only

    /// The last hidden state (after the final norm) at position `pooled[b]` of each row b, [B, H]: what
    /// `score` reads (SPEC 4), computing only the positions that can reach it. Position j of the padded
    /// sequence is kept when some row pools it, or pools a later position and attends j; everything else
    /// (right padding, masked slots, positions after every pooled one) cannot change a pooled state under
    /// the causal, masked attention (SPEC 3.5), so the result equals the full forward's up to summation
    /// order. Kept positions keep their upstream position ids (pair-mode text still starts at P, SPEC 3.4)
    /// and RoPE's tables are built for the full length (dynamic scaling depends on it). A pooled query
    /// with no visible key weighs all L keys equally upstream, so such a batch runs in full.
    public func pooledHiddenStates(_ inputs: ForwardInputs, at pooled: [Int]) throws(ModelError) -> [Float] {
        let stream = try pooledStream(inputs, at: pooled, layers: weights.layers.count)
        // The final norm is per position, so normalising only the pooled rows is exact.
        let h = hiddenSize, keptCount = stream.kept.count
        var gathered = [Float](repeating: 0, count: inputs.batchSize * h)
        for b in 0..<inputs.batchSize {
            let row = b * keptCount + stream.kept.firstIndex(of: pooled[b])!
            for i in 0..<h { gathered[b * h + i] = stream.states[row * h + i] }
        }
        return KernelCalls.rmsNorm(gathered, weights.finalNorm, eps: rmsEps)
    }

    /// The residual stream after the first `layerCount` decoder layers at the positions the pooled states
    /// depend on (`kept`, ascending; `states` [B · kept.count, H], before any norm): the shared part of
    /// `pooledHiddenStates` and of the trainable tail's inputs (`tailExamples`).
    package func pooledStream(_ inputs: ForwardInputs, at pooled: [Int], layers layerCount: Int) throws(ModelError) -> (kept: [Int], states: [Float]) {
        try check(inputs)
        let batch = inputs.batchSize, length = inputs.sequenceLength
        guard pooled.count == batch, pooled.allSatisfy({ (0..<length).contains($0) }) else {
            throw .invalidInput(name: "pooled positions", reason: "need one position in 0..<\(length) per row of the batch of \(batch), got \(pooled)")
        }
        let mask = inputs.attentionMask
        let kept = Self.keptPositions(mask: mask, pooled: pooled, length: length)
        let keptCount = kept.count, rows = batch * keptCount
        var keyMask = [Float](repeating: 0, count: rows)
        for b in 0..<batch { for (i, j) in kept.enumerated() { keyMask[b * keptCount + i] = mask[b * length + j] } }
        var x = embed(inputs, positions: kept)
        let (cos, sin) = rotary.tables(positions: (kept.last ?? 0) + 1, sequenceLength: length)
        let positions = (0..<rows).map { kept[$0 % keptCount] }
        let step = DecoderStep(batch: batch, newRows: keptCount, offset: 0, keyMask: keyMask, positions: positions, cos: cos, sin: sin)
        var workspace = LayerWorkspace(rows: rows, model: self)
        for layer in packed.layers.prefix(layerCount) {
            var noCache: LayerCache?, noRecord: DecoderLayerActivations?
            decoderLayer(layer, &x, step: step, cache: &noCache, workspace: &workspace, record: &noRecord)
        }
        return (kept, x)
    }

    /// The positions (ascending) that the pooled states depend on; all of 0 ..< L when a pooled query sees
    /// no key (see `pooledHiddenStates`).
    static func keptPositions(mask: [Float], pooled: [Int], length: Int) -> [Int] {
        var needed = [Bool](repeating: false, count: length)
        for (b, p) in pooled.enumerated() {
            let row = mask[(b * length)..<(b * length + p + 1)]
            guard row.contains(1) else { return Array(0..<length) }
            for j in 0...p where mask[b * length + j] == 1 { needed[j] = true }
            needed[p] = true
        }
        return needed.indices.filter { needed[$0] }
    }

    // MARK: - Embeddings

    /// [B·L, H]: patch embeddings in rows 0 ..< P of each sequence, token embeddings after them.
    func embed(_ inputs: ForwardInputs) -> [Float] {
        embed(inputs, positions: Array(0..<inputs.sequenceLength))
    }

    /// [B·K, H]: the embeddings at K ascending positions of each sequence (patches are positions 0 ..< P,
    /// tokens P ..< L), only those computed.
    func embed(_ inputs: ForwardInputs, positions: [Int]) -> [Float] {
        let batch = inputs.batchSize, p = inputs.patchCount, t = inputs.textLength, h = hiddenSize
        let patchIndices = positions.filter { $0 < p }, tokenIndices = positions.filter { $0 >= p }.map { $0 - p }
        let patches = patchIndices.isEmpty ? [] : patchEmbedding(inputs, patches: patchIndices)
        let tokens = tokenIndices.isEmpty ? [] : tokenEmbedding((0..<batch).flatMap { b in tokenIndices.map { inputs.inputIds[b * t + $0] } })
        if tokenIndices.isEmpty { return patches }
        if patchIndices.isEmpty { return tokens }
        let kp = patchIndices.count, kt = tokenIndices.count
        var x = [Float]()
        x.reserveCapacity(batch * (kp + kt) * h)
        for b in 0..<batch {
            x += patches[(b * kp * h)..<((b + 1) * kp * h)]
            x += tokens[(b * kt * h)..<((b + 1) * kt * h)]
        }
        return x
    }

    /// Conv2d 16×16 stride 16 as one GEMM over the patches flattened channel-major (c, y, x), plus bias,
    /// then LayerNorm with gain and bias, eps 1e-5 (SPEC 3.2, 11.4).
    func patchEmbedding(_ inputs: ForwardInputs) -> [Float] {
        patchEmbedding(inputs, patches: Array(0..<inputs.patchCount))
    }

    /// The patch embedding of the listed patches of every row, [B · indices.count, H].
    func patchEmbedding(_ inputs: ForwardInputs, patches indices: [Int]) -> [Float] {
        let w = weights.patchEmbedding!
        let batch = inputs.batchSize, size = ForwardInputs.patchSize
        let width = inputs.patchCount * size, features = 3 * size * size
        var columns = [Float](repeating: 0, count: batch * indices.count * features)
        for b in 0..<batch {
            for (k, n) in indices.enumerated() {
                let row = (b * indices.count + k) * features
                for c in 0..<3 {
                    for y in 0..<size {
                        let source = ((b * 3 + c) * size + y) * width + n * size
                        let target = row + c * size * size + y * size
                        for xx in 0..<size { columns[target + xx] = inputs.pixelValues[source + xx] }
                    }
                }
            }
        }
        let projected = KernelCalls.linear(columns, rows: batch * indices.count, packed.patchProjection!)
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
    package struct DecoderStep: Sendable {
        let batch: Int
        let newRows: Int
        let offset: Int
        let keyMask: [Float]
        /// The row of `cos` / `sin` each new row's RoPE reads, [B · newRows]: its position id when the tables
        /// are per position.
        let positions: [Int]
        let cos: [Float]
        let sin: [Float]
        /// Only each sequence's last row leaves the layer: keys and values come from every row, the query,
        /// attention output and MLP are computed for the last rows alone (the trainable tail's last layer,
        /// whose other outputs nothing reads). Whole sequences only (no cache).
        let lastRowsOnly: Bool
        var keyLength: Int { offset + newRows }
        /// The rows whose outputs the step computes: `newRows` per sequence, or 1 with `lastRowsOnly`.
        var queryLength: Int { lastRowsOnly ? 1 : newRows }

        init(batch: Int, newRows: Int, offset: Int, keyMask: [Float], positions: [Int], cos: [Float], sin: [Float], lastRowsOnly: Bool = false) {
            (self.batch, self.newRows, self.offset, self.keyMask, self.positions, self.cos, self.sin) = (batch, newRows, offset, keyMask, positions, cos, sin)
            self.lastRowsOnly = lastRowsOnly
        }

        /// `batch` whole sequences of `length` rows with their key mask [B · L] and each row's RoPE angles
        /// [B · L, d/2] (built for its own sequence: dynamic scaling depends on the sequence length).
        package init(batch: Int, length: Int, keyMask: [Float], cos: [Float], sin: [Float], lastRowsOnly: Bool = false) {
            precondition(keyMask.count == batch * length && cos.count == sin.count && cos.count % max(1, batch * length) == 0)
            self.init(batch: batch, newRows: length, offset: 0, keyMask: keyMask, positions: Array(0..<(batch * length)), cos: cos, sin: sin,
                      lastRowsOnly: lastRowsOnly)
        }
    }

    /// What the backward pass of one decoder layer reads (llm.c's activations), written by the forward pass
    /// itself (`decoderLayer(_:_:step:)`): the buffers of `LayerWorkspace` as the layer leaves them, plus
    /// copies of those it overwrites on the way. Rows are the step's B · L rows; with `lastRowsOnly`, the
    /// query-side values (q, attended, residual, mlpNormed, gate, up, activated) and the probabilities
    /// ([B, n_h, 1, L]) are at each sequence's last row only.
    package struct DecoderLayerActivations: Sendable {
        /// x [R, H], the layer's input.
        package internal(set) var input: [Float] = []
        /// RMSNorm₁(x) [R, H].
        package internal(set) var normed: [Float] = []
        /// After RoPE: [R, n_h·d] and [R, n_kv·d]; v [R, n_kv·d].
        package internal(set) var q: [Float] = [], k: [Float] = [], v: [Float] = []
        /// Softmax weights [B, n_h, L, L] (`Kernels.attention`).
        package internal(set) var probabilities: [Float] = []
        /// softmax·v [R, n_h·d].
        package internal(set) var attended: [Float] = []
        /// r = x + o(attended) [R, H].
        package internal(set) var residual: [Float] = []
        /// RMSNorm₂(r) [R, H].
        package internal(set) var mlpNormed: [Float] = []
        /// gate(h2) before silu and up(h2) [R, I]; activated = silu(gate) ⊙ up [R, I].
        package internal(set) var gate: [Float] = [], up: [Float] = [], activated: [Float] = []
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

    /// The activations of one decoder layer for a fixed number of rows, allocated once per forward pass
    /// and reused by every layer (no allocation or first-touch page faults per layer).
    struct LayerWorkspace {
        var normed: [Float]
        var q: [Float]
        var k: [Float]
        var v: [Float]
        var attended: [Float]
        var gate: [Float]
        var up: [Float]

        /// Buffers for `rows` rows, of which `queryRows` (default all) are computed past the keys and values.
        init(rows: Int, queryRows: Int? = nil, model: PixelGPTModel) {
            let h = model.hiddenSize, qWidth = model.heads * model.headDim, kvWidth = model.kvHeads * model.headDim
            let i = model.config.intermediateSize, queries = queryRows ?? rows
            normed = Self.buffer(rows * h)
            q = Self.buffer(queries * qWidth)
            k = Self.buffer(rows * kvWidth)
            v = Self.buffer(rows * kvWidth)
            attended = Self.buffer(queries * qWidth)
            gate = Self.buffer(queries * i)
            up = Self.buffer(queries * i)
        }

        /// A buffer left unfilled: every kernel writes all of its output before anything reads it, so
        /// zero-filling tens of megabytes per pass would be wasted (Float is a trivial type).
        static func buffer(_ count: Int) -> [Float] {
            [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        }
    }

    /// Pre-norm decoder layer (SPEC 3.6): r = x + Attn(RMSNorm₁(x)); out = r + MLP(RMSNorm₂(r)). Both
    /// residual adds happen inside the o_proj and down_proj GEMMs (beta = 1). Without a cache the step
    /// covers the whole sequence and attention reads this layer's keys and values in place; a last-rows step
    /// (`DecoderStep.lastRowsOnly`) leaves x with each sequence's last row only. With `record`, the layer
    /// also keeps what its backward pass reads (`DecoderLayerActivations`); every row computed has the same
    /// bits either way (row-wise kernels, and attention that depends on a query's visible keys alone).
    func decoderLayer(_ layer: PackedWeights.Layer, _ x: inout [Float], step: DecoderStep, cache: inout LayerCache?,
                      workspace ws: inout LayerWorkspace, record: inout DecoderLayerActivations?) {
        let rows = step.batch * step.newRows, w = layer.tensors
        // Attention: projections over all rows at once, RoPE on q and k, GQA, causal + padding mask.
        record?.input = x
        KernelCalls.rmsNorm(into: &ws.normed, x, w.inputNorm, eps: rmsEps)
        record?.normed = ws.normed
        var queryRows = rows
        if step.lastRowsOnly {
            // Keys and values from every row; the query and everything after it at each sequence's last row.
            precondition(cache == nil && step.offset == 0, "a last-rows step covers whole sequences")
            let last = (1...step.batch).map { $0 * step.newRows - 1 }
            queryRows = step.batch
            KernelCalls.linears(ws.normed, rows: rows, into: &ws.k, layer.k, &ws.v, layer.v)
            KernelCalls.linear(into: &ws.q, gatherRows(ws.normed, rows: last), rows: queryRows, layer.q)
            KernelCalls.rotary(&ws.q, heads: heads, headDim: headDim, positions: last.map { step.positions[$0] }, cos: step.cos, sin: step.sin)
            x = gatherRows(x, rows: last)
        } else {
            KernelCalls.linears(ws.normed, rows: rows, into: &ws.q, layer.q, &ws.k, layer.k, &ws.v, layer.v)
            KernelCalls.rotary(&ws.q, heads: heads, headDim: headDim, positions: step.positions, cos: step.cos, sin: step.sin)
        }
        KernelCalls.rotary(&ws.k, heads: kvHeads, headDim: headDim, positions: step.positions, cos: step.cos, sin: step.sin)
        if cache == nil {
            precondition(step.offset == 0, "a decoder step after position 0 needs the key cache")
            let shape = AttentionShape(batch: step.batch, queryLength: step.queryLength, keyLength: step.newRows,
                                       queryOffset: step.newRows - step.queryLength, heads: heads, kvHeads: kvHeads, headDim: headDim)
            if record != nil {
                var probabilities = [Float](repeating: 0, count: step.batch * heads * step.queryLength * step.newRows)
                KernelCalls.attention(into: &ws.attended, probabilities: &probabilities, q: ws.q, k: ws.k, v: ws.v, keyMask: step.keyMask, shape: shape)
                record!.probabilities = probabilities
            } else {
                KernelCalls.attention(into: &ws.attended, q: ws.q, k: ws.k, v: ws.v, keyMask: step.keyMask, shape: shape)
            }
        } else {
            precondition(record == nil, "recording covers whole sequences, without the key cache")
            cache!.append(keys: ws.k, values: ws.v, newRows: step.newRows, offset: step.offset)
            let shape = AttentionShape(batch: step.batch, queryLength: step.newRows, keyLength: step.keyLength,
                                       keyCapacity: cache!.capacity, queryOffset: step.offset,
                                       heads: heads, kvHeads: kvHeads, headDim: headDim)
            KernelCalls.attention(into: &ws.attended, q: ws.q, k: cache!.keys, v: cache!.values, keyMask: step.keyMask, shape: shape)
        }
        KernelCalls.linear(into: &x, ws.attended, rows: queryRows, layer.o, accumulate: true)
        record?.residual = x

        // MLP: down(silu(gate(h)) ⊙ up(h)), no biases.
        KernelCalls.rmsNorm(into: &ws.normed, x, w.postAttentionNorm, eps: rmsEps)
        KernelCalls.linears(ws.normed, rows: queryRows, into: &ws.gate, layer.gate, &ws.up, layer.up)
        record?.gate = ws.gate
        KernelCalls.swiGLU(gate: &ws.gate, up: ws.up)
        KernelCalls.linear(into: &x, ws.gate, rows: queryRows, layer.down, accumulate: true)
    }

    /// One decoder layer with the given weights over whole sequences (`DecoderStep(batch:length:...)`),
    /// and with `keepingActivations` what its backward pass reads: the trainable tail's forward pass. The
    /// same function, and so the same bits, as the inference forward.
    package func decoderLayer(_ layer: DecoderLayerWeights, _ x: inout [Float], step: DecoderStep,
                             keepingActivations keep: Bool) -> DecoderLayerActivations? {
        let queryRows = step.batch * step.queryLength
        var workspace = LayerWorkspace(rows: step.batch * step.newRows, queryRows: queryRows, model: self)
        var noCache: LayerCache?
        var record: DecoderLayerActivations? = keep ? DecoderLayerActivations() : nil
        decoderLayer(layer, &x, step: step, cache: &noCache, workspace: &workspace, record: &record)
        guard var activations = record else { return nil }
        (activations.q, activations.k, activations.v, activations.attended) = (workspace.q, workspace.k, workspace.v, workspace.attended)
        // The MLP's norm reused the attention's (all-rows) buffer: its first rows are the query rows'.
        activations.mlpNormed = Array(workspace.normed.prefix(queryRows * hiddenSize))
        (activations.up, activations.activated) = (workspace.up, workspace.gate)
        return activations
    }

    /// Rows `rows` of a [_, H] array, as [rows.count, H].
    func gatherRows(_ x: [Float], rows: [Int]) -> [Float] {
        let h = hiddenSize
        var out: [Float] = []
        out.reserveCapacity(rows.count * h)
        for r in rows { out += x[(r * h)..<((r + 1) * h)] }
        return out
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
