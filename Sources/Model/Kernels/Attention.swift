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
    /// Causal self-attention with the padding mask (SPEC 3.5, 3.6.5-6). Key j is visible to a query at
    /// position p when j ≤ p and keyMask[b, j] == 1. Scores are q·kᵀ divided by √d, softmax in fp32.
    ///
    /// Only keys up to the row's last unmasked one are multiplied: every key after it has weight exactly 0
    /// (exp(min − max) underflows, SPEC 3.8), so this is exact. A query with no visible key (a leading
    /// left-padding position) gets what the eager upstream computes with its additive finfo.min mask: all
    /// scores equal, so uniform weights over all keys, the mean of v.
    public static func attention(
        _ out: UnsafeMutableBufferPointer<Float>, q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>,
        v: UnsafeBufferPointer<Float>, keyMask: UnsafeBufferPointer<Float>, shape s: AttentionShape,
        scratch: UnsafeMutableBufferPointer<Float>
    ) {
        let d = s.headDim, qWidth = s.heads * d, kvWidth = s.kvHeads * d
        precondition(q.count >= s.batch * s.queryLength * qWidth && out.count >= s.batch * s.queryLength * qWidth)
        precondition(k.count >= s.batch * s.keyCapacity * kvWidth && v.count >= k.count && keyMask.count >= s.batch * s.keyLength)
        precondition(scratch.count >= s.queryLength * s.keyLength && s.keyLength <= s.keyCapacity)
        let scale = Float(d).squareRoot()
        for b in 0..<s.batch {
            let mask = UnsafeBufferPointer(rebasing: keyMask[(b * s.keyLength)..<((b + 1) * s.keyLength)])
            var lastKey = -1
            for j in mask.indices where mask[j] == 1 { lastKey = j }
            let keys = lastKey + 1
            for head in 0..<s.heads {
                let g = s.kvHead(ofQueryHead: head)
                let qBase = q.baseAddress! + (b * s.queryLength) * qWidth + head * d
                let kBase = k.baseAddress! + (b * s.keyCapacity) * kvWidth + g * d
                let vBase = v.baseAddress! + (b * s.keyCapacity) * kvWidth + g * d
                let oBase = out.baseAddress! + (b * s.queryLength) * qWidth + head * d
                var fullyMasked: [Int] = []
                if keys > 0 {
                    // S[i, j] = q_i · k_j for j < keys, one GEMM.
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(s.queryLength), Int32(keys), Int32(d),
                                1, qBase, Int32(qWidth), kBase, Int32(kvWidth), 0, scratch.baseAddress, Int32(keys))
                }
                for i in 0..<s.queryLength {
                    let limit = min(s.queryOffset + i, lastKey)
                    let row = UnsafeMutableBufferPointer(rebasing: scratch[(i * keys)..<((i + 1) * keys)])
                    var maximum = -Float.infinity
                    for j in 0..<keys {
                        if j <= limit && mask[j] == 1 {
                            row[j] /= scale
                            maximum = max(maximum, row[j])
                        } else {
                            row[j] = -.infinity
                        }
                    }
                    guard maximum > -.infinity else {
                        fullyMasked.append(i)
                        row.update(repeating: 0)
                        continue
                    }
                    var sum: Float = 0
                    for j in 0..<keys {
                        let e = row[j] == -.infinity ? 0 : expf(row[j] - maximum)
                        row[j] = e
                        sum += e
                    }
                    for j in 0..<keys { row[j] /= sum }
                }
                if keys > 0 {
                    // O = P · V, written straight into this head's columns of out.
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(s.queryLength), Int32(d), Int32(keys),
                                1, scratch.baseAddress, Int32(keys), vBase, Int32(kvWidth), 0, oBase, Int32(qWidth))
                } else {
                    for i in 0..<s.queryLength { (oBase + i * qWidth).update(repeating: 0, count: d) }
                }
                if !fullyMasked.isEmpty {
                    var mean = [Float](repeating: 0, count: d)
                    for j in 0..<s.keyLength { for m in 0..<d { mean[m] += vBase[j * kvWidth + m] } }
                    for m in 0..<d { mean[m] /= Float(s.keyLength) }
                    for i in fullyMasked { for m in 0..<d { oBase[i * qWidth + m] = mean[m] } }
                }
            }
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
