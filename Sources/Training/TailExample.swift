import Model

/// One row's input to the trainable tail (`TrainableTail`): the hidden states entering decoder layer N − K,
/// reduced to the rows the pooled output depends on. Causality (SPEC 3.5) means the pooled row only sees
/// keys at or before it, and a masked key is seen by no row, so only the unmasked rows up to the pooled
/// one, and the pooled row itself, matter. Their RoPE positions are kept, so dropping the padded pixel
/// slots of pair mode leaves the text at its positions P, P + 1, ... (SPEC 3.4).
public struct TailExample: Sendable {
    /// [length, H], the rows in sequence order; with K = 0, the last layer's output at the pooled row only.
    public let hidden: [Float]
    /// [length]: each row's position id in the full sequence (0 ..< L, SPEC 3.4).
    public let positions: [Int]
    /// [length]: 1 where the row is a key the others attend to, 0 where it is masked (SPEC 3.5).
    public let keyMask: [Float]
    /// The row `score` reads (SPEC 4): the last one, unless it has no visible key (see `tailExamples`).
    public let pooledRow: Int
    /// L of the full sequence: RoPE's dynamic-scaling base depends on it (SPEC 1.1, `RotaryEmbedding`).
    public let sequenceLength: Int

    public var length: Int { positions.count }

    public init(hidden: [Float], positions: [Int], keyMask: [Float], pooledRow: Int, sequenceLength: Int) {
        precondition(!positions.isEmpty && keyMask.count == positions.count && hidden.count % positions.count == 0,
                     "TailExample: \(hidden.count) hidden values, \(positions.count) positions, \(keyMask.count) mask values")
        precondition(positions.indices.contains(pooledRow), "TailExample: pooled row \(pooledRow) outside 0..<\(positions.count)")
        self.hidden = hidden
        self.positions = positions
        self.keyMask = keyMask
        self.pooledRow = pooledRow
        self.sequenceLength = sequenceLength
    }
}

extension PixelGPTModel {
    /// The inputs of the last `k` decoder layers for every row of `inputs`, at the rows the pooled output
    /// depends on (see `TailExample`), from one frozen forward pass. `k` = 0 gives the last layer's output
    /// at the pooled row, for training the final norm and `score` only.
    ///
    /// A pooled row with no visible key (e.g. an all-zero mask) attends uniformly to every key of the
    /// sequence, future ones included (upstream's additive mask, `Kernels.attention`); such a row keeps the
    /// whole sequence and its mask.
    public func tailExamples(_ inputs: ForwardInputs, trainLayers k: Int, pooling: PoolingRule = .upstream) throws(ModelError) -> [TailExample] {
        let n = config.numHiddenLayers
        guard (0...n).contains(k) else { throw .unsupported("train layers \(k) is outside 0...\(n) (the model has \(n) decoder layers)") }
        // Only the positions the pooled rows depend on, through the first N − K layers (the pooled path of
        // the evaluation; a batch with a pooled row that sees no key runs in full).
        let pooled = Pooling.poolingIndex(inputs, padTokenId: padTokenId, rule: pooling)
        let (kept, states) = try pooledStream(inputs, at: pooled, layers: n - k)
        let slot = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
        let mask = inputs.attentionMask
        let length = inputs.sequenceLength, h = config.hiddenSize, keptCount = kept.count
        return (0..<inputs.batchSize).map { b in
            let rowMask = Array(mask[(b * length)..<((b + 1) * length)])
            let p = pooled[b]
            let rows: [Int]
            if k == 0 {
                rows = [p]
            } else if rowMask[0...p].contains(1) {
                rows = (0..<p).filter { rowMask[$0] == 1 } + [p]
            } else {
                rows = Array(0..<length)
            }
            var hidden: [Float] = []
            hidden.reserveCapacity(rows.count * h)
            for r in rows {
                let row = b * keptCount + slot[r]!
                hidden += states[(row * h)..<((row + 1) * h)]
            }
            return TailExample(hidden: hidden, positions: rows, keyMask: rows.map { rowMask[$0] },
                               pooledRow: rows.firstIndex(of: p)!, sequenceLength: length)
        }
    }
}
