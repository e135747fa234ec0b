import COpenBLAS
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
    /// Queries per block of the block-wise attention: each block meets only the keys up to its last query's
    /// position, so about (1 + 1/blocks)/2 of the causal square is computed and no [L, L] matrix exists.
    static let attentionQueryBlock = 64

    /// Causal self-attention with the padding mask (SPEC 3.5, 3.6.5-6). Key j is visible to a query at
    /// position p when j ≤ p and keyMask[b, j] == 1. Scores are q·kᵀ/√d (the 1/√d in the GEMM's alpha: for
    /// d = 64 a power of two, so bit-identical to dividing after), softmax in fp32.
    ///
    /// Work is split by (batch row, KV head): the query heads sharing a KV head (GQA, SPEC 3.6.5) are
    /// stacked into one GEMM per block of queries, blocks of `attentionQueryBlock` queries read only keys
    /// up to the block's end and the row's last unmasked key (every later key has weight exactly 0:
    /// exp(min − max) underflows, SPEC 3.8), and the (row, KV head) pieces run on Swift threads with
    /// single-threaded GEMMs. A query with no visible key (a leading left-padding position) gets what the
    /// eager upstream computes with its additive finfo.min mask: all scores equal, so uniform weights over
    /// all keys, the mean of v.
    public static func attention(
        _ out: UnsafeMutableBufferPointer<Float>, q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>,
        v: UnsafeBufferPointer<Float>, keyMask: UnsafeBufferPointer<Float>, shape s: AttentionShape
    ) {
        let d = s.headDim, qWidth = s.heads * d, kvWidth = s.kvHeads * d, group = s.heads / s.kvHeads
        precondition(s.heads % s.kvHeads == 0 && q.count >= s.batch * s.queryLength * qWidth && out.count >= s.batch * s.queryLength * qWidth)
        precondition(k.count >= s.batch * s.keyCapacity * kvWidth && v.count >= k.count && keyMask.count >= s.batch * s.keyLength)
        precondition(s.keyLength <= s.keyCapacity && s.queryOffset + s.queryLength <= s.keyLength)
        guard s.batch > 0, s.queryLength > 0, d > 0 else { return }
        let block = min(attentionQueryBlock, s.queryLength), stacked = group * block
        let alpha = 1 / Float(d).squareRoot()
        KernelThreads.parallelRanges(s.batch * s.kvHeads) { tasks in
            // Per-worker scratch: stacked queries, their scores against at most keyLength keys, outputs,
            // and the row's additive mask (0 or −∞).
            var packedQueries = [Float](repeating: 0, count: stacked * d)
            var scores = [Float](repeating: 0, count: stacked * max(1, s.keyLength))
            var packedOutputs = [Float](repeating: 0, count: stacked * d)
            var additive = [Float](repeating: 0, count: max(1, s.keyLength))
            var meanValue = [Float](repeating: 0, count: d)
            packedQueries.withUnsafeMutableBufferPointer { qp in
            scores.withUnsafeMutableBufferPointer { sp in
            packedOutputs.withUnsafeMutableBufferPointer { op in
            additive.withUnsafeMutableBufferPointer { ap in
            meanValue.withUnsafeMutableBufferPointer { mean in
                var previousRow = -1, lastKey = -1
                for task in tasks {
                    let b = task / s.kvHeads, g = task % s.kvHeads
                    if b != previousRow {
                        previousRow = b
                        lastKey = -1
                        for j in 0..<s.keyLength {
                            let visible = keyMask[b * s.keyLength + j] == 1
                            ap[j] = visible ? 0 : -.infinity
                            if visible { lastKey = j }
                        }
                    }
                    let kBase = k.baseAddress! + (b * s.keyCapacity) * kvWidth + g * d
                    let vBase = v.baseAddress! + (b * s.keyCapacity) * kvWidth + g * d
                    var meanReady = false
                    var start = 0
                    while start < s.queryLength {
                        let n = min(block, s.queryLength - start), rows = group * n
                        let keys = min(s.queryOffset + start + n - 1, lastKey) + 1
                        // Stack the group's heads: packed row hh·n + i is query start + i of head g·group + hh.
                        for hh in 0..<group {
                            for i in 0..<n {
                                let source = q.baseAddress! + (b * s.queryLength + start + i) * qWidth + (g * group + hh) * d
                                (qp.baseAddress! + (hh * n + i) * d).update(from: source, count: d)
                            }
                        }
                        var fullyMasked = [Int]()
                        if keys > 0 {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(keys), Int32(d),
                                        alpha, qp.baseAddress, Int32(d), kBase, Int32(kvWidth), 0, sp.baseAddress, Int32(keys))
                            for row in 0..<rows {
                                let visible = min(s.queryOffset + start + row % n, lastKey) + 1
                                let ok = maskedSoftmax(sp.baseAddress! + row * keys, visible: visible, total: keys, additive: ap.baseAddress!)
                                if !ok { fullyMasked.append(row) }
                            }
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(d), Int32(keys),
                                        1, sp.baseAddress, Int32(keys), vBase, Int32(kvWidth), 0, op.baseAddress, Int32(d))
                        } else {
                            fullyMasked = Array(0..<rows)
                        }
                        if !fullyMasked.isEmpty && !meanReady {
                            mean.update(repeating: 0)
                            for j in 0..<s.keyLength { for m in 0..<d { mean[m] += vBase[j * kvWidth + m] } }
                            for m in 0..<d { mean[m] /= Float(s.keyLength) }
                            meanReady = true
                        }
                        for row in fullyMasked { (op.baseAddress! + row * d).update(from: mean.baseAddress!, count: d) }
                        for hh in 0..<group {
                            for i in 0..<n {
                                let target = out.baseAddress! + (b * s.queryLength + start + i) * qWidth + (g * group + hh) * d
                                target.update(from: op.baseAddress! + (hh * n + i) * d, count: d)
                            }
                        }
                        start += n
                    }
                }
            }}}}}
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
