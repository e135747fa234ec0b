import Foundation

/// The geometry of one attention call. Queries of batch row b are rows b·queryLength ..< (b+1)·queryLength
/// of q (width heads·headDim) and sit at positions queryOffset ..< queryOffset + queryLength; keys and
/// values of batch row b are rows b·keyCapacity ..< b·keyCapacity + keyLength of k and v (width
/// kvHeads·headDim) and sit at positions 0 ..< keyLength.
public struct AttentionShape: Sendable, Equatable {
    public var batch: Int
    public var queryLength: Int
    public var keyLength: Int
    public var keyCapacity: Int
    public var queryOffset: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int

    public init(batch: Int, queryLength: Int, keyLength: Int, keyCapacity: Int? = nil, queryOffset: Int = 0,
                heads: Int, kvHeads: Int, headDim: Int) {
        self.batch = batch
        self.queryLength = queryLength
        self.keyLength = keyLength
        self.keyCapacity = keyCapacity ?? keyLength
        self.queryOffset = queryOffset
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
    }

    /// GQA: query head j reads KV head ⌊j / (n_h / n_kv)⌋, repeat-interleave, not j mod n_kv (SPEC 3.6.5, 11.3).
    public func kvHead(ofQueryHead j: Int) -> Int { j / (heads / kvHeads) }
}

extension Kernels {
    /// Queries per block: each block's scores are one GEMM over the keys up to its last query, so about
    /// (1 + 1/blocks)/2 of the causal square is computed and no [L, L] matrix exists.
    static let attentionQueryBlock = 48

    /// Causal self-attention with the padding mask (SPEC 3.5, 3.6.5-6). Key j is visible to a query at
    /// position p when j ≤ p and keyMask[b, j] == 1. Scores are q·kᵀ/√d, softmax in fp32.
    ///
    /// Invariant by construction: a query's output is computed from its own visible keys only, numbered
    /// among themselves (masked keys are dropped, not weighted by 0), so it does not move with the padding,
    /// the batch, the positions another row keeps, the query block or the thread count. Each score is one
    /// GEMM chain over d, the softmax reduces a row's visible scores in one fixed order, and each output
    /// element is one GEMM chain over the visible keys in order (a block's shorter rows carry exact zeros
    /// past their own keys, which leave the chain unchanged). Work is split by (batch row, KV head); the
    /// query heads sharing a KV head (GQA, SPEC 3.6.5) are stacked into one GEMM per block. A query with no
    /// visible key (a leading left-padding position) gets what the eager upstream computes with its
    /// additive finfo.min mask: uniform weights over all keys, the mean of v.
    ///
    /// With `probabilities` ([B, heads, queryLength, keyLength], zero-filled by the caller) the softmax
    /// weights are also written there at their keys' places, 1/keyLength everywhere for a query with no
    /// visible key: what a backward pass reads (the trainable tail).
    public static func attention(
        _ out: UnsafeMutableBufferPointer<Float>, q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>,
        v: UnsafeBufferPointer<Float>, keyMask: UnsafeBufferPointer<Float>, shape s: AttentionShape, threads: Int = 1,
        probabilities: UnsafeMutableBufferPointer<Float>? = nil
    ) {
        let d = s.headDim, qWidth = s.heads * d, kvWidth = s.kvHeads * d, group = s.heads / s.kvHeads
        precondition(s.heads % s.kvHeads == 0 && q.count >= s.batch * s.queryLength * qWidth && out.count >= s.batch * s.queryLength * qWidth)
        precondition(k.count >= s.batch * s.keyCapacity * kvWidth && v.count >= k.count && keyMask.count >= s.batch * s.keyLength)
        precondition(s.keyLength <= s.keyCapacity && s.queryOffset + s.queryLength <= s.keyLength)
        precondition(probabilities.map { $0.count >= s.batch * s.heads * s.queryLength * s.keyLength } ?? true)
        guard s.batch > 0, s.queryLength > 0, d > 0 else { return }
        let block = min(attentionQueryBlock, s.queryLength), stacked = group * block
        // Scores are (q·k)/√d as upstream divides them. When √d is a power of two (d = 16, 64, 256) scaling the
        // query first gives the same bits (a power-of-two scale commutes with every rounding of the chain) and
        // saves a pass over the scores.
        let scale = Float(d).squareRoot()
        let queryScale: Float? = scale.significandBitPattern == 0 ? 1 / scale : nil
        KernelThreads.parallelRanges(s.batch * s.kvHeads, threads: threads) { tasks in
            // Per-worker scratch: the row's visible keys and values gathered, stacked queries, their scores,
            // outputs, each query's visible-key count.
            var visibleKeys = [Int](), counts = [Int](repeating: 0, count: block)
            // Values are gathered k-major with rows padded to whole GEMM panels (zeros), which the direct GEMM
            // reads in place.
            let isa = GEMMInstructionSet.current, valueStride = (d + isa.panelWidth - 1) / isa.panelWidth * isa.panelWidth
            var keys = [Float](repeating: 0, count: max(1, s.keyLength * d))
            var values = [Float](repeating: 0, count: max(1, s.keyLength * valueStride))
            var packedQueries = [Float](repeating: 0, count: stacked * d)
            var scores = [Float](repeating: 0, count: stacked * max(1, s.keyLength))
            var packedOutputs = [Float](repeating: 0, count: stacked * d)
            var meanValue = [Float](repeating: 0, count: d)
            keys.withUnsafeMutableBufferPointer { kp in
            values.withUnsafeMutableBufferPointer { vp in
            packedQueries.withUnsafeMutableBufferPointer { qp in
            scores.withUnsafeMutableBufferPointer { sp in
            packedOutputs.withUnsafeMutableBufferPointer { op in
            meanValue.withUnsafeMutableBufferPointer { mean in
                var previousRow = -1
                for task in tasks {
                    let b = task / s.kvHeads, g = task % s.kvHeads
                    if b != previousRow {
                        previousRow = b
                        visibleKeys = (0..<s.keyLength).filter { keyMask[b * s.keyLength + $0] == 1 }
                    }
                    let kBase = k.baseAddress! + (b * s.keyCapacity) * kvWidth + g * d
                    let vBase = v.baseAddress! + (b * s.keyCapacity) * kvWidth + g * d
                    for (t, j) in visibleKeys.enumerated() {
                        (kp.baseAddress! + t * d).update(from: kBase + j * kvWidth, count: d)
                        (vp.baseAddress! + t * valueStride).update(from: vBase + j * kvWidth, count: d)
                    }
                    let nv = visibleKeys.count
                    let packedKeys = PackedMatrix(UnsafeBufferPointer(kp), rows: nv, columns: d, instructionSet: isa)
                    var meanReady = false
                    var seen = 0, start = 0
                    while start < s.queryLength {
                        let n = min(block, s.queryLength - start), rows = group * n
                        for i in 0..<n {
                            let position = s.queryOffset + start + i
                            while seen < nv && visibleKeys[seen] <= position { seen += 1 }
                            counts[i] = seen
                        }
                        let keyCount = counts[n - 1]
                        // Stack the group's heads: packed row hh·n + i is query start + i of head g·group + hh.
                        for hh in 0..<group {
                            for i in 0..<n {
                                let source = q.baseAddress! + (b * s.queryLength + start + i) * qWidth + (g * group + hh) * d
                                let target = qp.baseAddress! + (hh * n + i) * d
                                if let queryScale {
                                    for m in 0..<d { target[m] = source[m] * queryScale }
                                } else {
                                    target.update(from: source, count: d)
                                }
                            }
                        }
                        if keyCount > 0 {
                            gemm(sp.baseAddress!, leading: keyCount, qp.baseAddress!, leading: d, packedKeys, rows: rows, n: keyCount)
                            for row in 0..<rows where counts[row % n] > 0 {
                                let scoresRow = sp.baseAddress! + row * keyCount, visible = counts[row % n]
                                if queryScale == nil { for j in 0..<visible { scoresRow[j] /= scale } }
                                maskedSoftmax(scoresRow, visible: visible, total: keyCount)
                            }
                            gemm(op.baseAddress!, leading: d, sp.baseAddress!, leading: keyCount, kMajor: UnsafePointer(vp.baseAddress!),
                                 leading: valueStride, rows: rows, n: d, k: keyCount, instructionSet: isa)
                        }
                        if let probabilities {
                            // Packed row hh·n + i is query start + i of head g·group + hh; its entry t is key visibleKeys[t].
                            for hh in 0..<group {
                                for i in 0..<n {
                                    let target = probabilities.baseAddress! + (((b * s.heads + g * group + hh) * s.queryLength) + start + i) * s.keyLength
                                    if counts[i] == 0 {
                                        target.update(repeating: 1 / Float(s.keyLength), count: s.keyLength)
                                    } else {
                                        let source = sp.baseAddress! + (hh * n + i) * keyCount
                                        for t in 0..<counts[i] { target[visibleKeys[t]] = source[t] }
                                    }
                                }
                            }
                        }
                        for row in 0..<rows where counts[row % n] == 0 {
                            if !meanReady {
                                mean.update(repeating: 0)
                                for j in 0..<s.keyLength { for m in 0..<d { mean[m] += vBase[j * kvWidth + m] } }
                                for m in 0..<d { mean[m] /= Float(s.keyLength) }
                                meanReady = true
                            }
                            (op.baseAddress! + row * d).update(from: mean.baseAddress!, count: d)
                        }
                        for hh in 0..<group {
                            for i in 0..<n {
                                let target = out.baseAddress! + (b * s.queryLength + start + i) * qWidth + (g * group + hh) * d
                                target.update(from: op.baseAddress! + (hh * n + i) * d, count: d)
                            }
                        }
                        start += n
                    }
                }
            }}}}}}
        }
    }

    /// Scalar reference of `attention`, the upstream eager formula literally: scores over every key plus an
    /// additive mask of 0 or finfo(fp32).min, softmax over all keys, weighted sum of v.
    public static func attentionReference(
        _ out: UnsafeMutableBufferPointer<Float>, q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>,
        v: UnsafeBufferPointer<Float>, keyMask: UnsafeBufferPointer<Float>, shape s: AttentionShape
    ) {
        let d = s.headDim, qWidth = s.heads * d, kvWidth = s.kvHeads * d
        for b in 0..<s.batch {
            for head in 0..<s.heads {
                let g = s.kvHead(ofQueryHead: head)
                for i in 0..<s.queryLength {
                    let qRow = (b * s.queryLength + i) * qWidth + head * d
                    var scores = [Float](repeating: 0, count: s.keyLength)
                    for j in 0..<s.keyLength {
                        let kRow = (b * s.keyCapacity + j) * kvWidth + g * d
                        var dot: Double = 0
                        for m in 0..<d { dot += Double(q[qRow + m]) * Double(k[kRow + m]) }
                        let visible = j <= s.queryOffset + i && keyMask[b * s.keyLength + j] == 1
                        scores[j] = Float(dot) / Float(d).squareRoot() + (visible ? 0 : -Float.greatestFiniteMagnitude)
                    }
                    scores.withUnsafeMutableBufferPointer { softmaxReference($0) }
                    for m in 0..<d {
                        var sum: Double = 0
                        for j in 0..<s.keyLength { sum += Double(scores[j]) * Double(v[(b * s.keyCapacity + j) * kvWidth + g * d + m]) }
                        out[qRow + m] = Float(sum)
                    }
                }
            }
        }
    }
}
