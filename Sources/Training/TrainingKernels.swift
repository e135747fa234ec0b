import COpenBLAS
import Foundation
import Model

/// The queries of one example in the attention's backward pass: q rows queryStart ..< queryStart + queryCount
/// sit at rows firstQueryRow, firstQueryRow + 1, ... of the example, whose keys and values are rows
/// keyStart ..< keyStart + keyCount of k and v. The query at example row i sees key j when j ≤ i and
/// keyMask[j] == 1 (SPEC 3.5); a query that sees none weighs all keyCount keys equally, like upstream's
/// additive finfo.min mask (`Kernels.attention`).
struct AttentionBlock: Sendable {
    let queryStart: Int
    let queryCount: Int
    let firstQueryRow: Int
    let keyStart: Int
    let keyCount: Int
    /// Where this block's probabilities start: heads × queryCount × keyCount values, head-major.
    let probabilityOffset: Int

    var probabilityCount: Int { queryCount * keyCount }
}

/// The backward passes of the decoder's kernels, for `TrainableTail`. Their forward passes are the model's
/// own (`PixelGPTModel.decoderLayer`, which also hands out the attention's probabilities). The tail's
/// Double reference (Tests/TrainingTests/TailReference.swift) and finite differences are what the tests
/// hold these against.
extension Kernels {
    /// For y = x·Wᵀ + b (W [out, in]): weightGradient += dyᵀ·x, biasGradient += Σ_rows dy, dx = dy·W.
    static func linearBackward(
        dx: UnsafeMutableBufferPointer<Float>, weightGradient: UnsafeMutableBufferPointer<Float>,
        biasGradient: UnsafeMutableBufferPointer<Float>?, dy: UnsafeBufferPointer<Float>, x: UnsafeBufferPointer<Float>,
        w: UnsafeBufferPointer<Float>, rows: Int, inFeatures: Int, outFeatures: Int
    ) {
        precondition(dy.count >= rows * outFeatures && x.count >= rows * inFeatures && dx.count >= rows * inFeatures)
        precondition(w.count == outFeatures * inFeatures && weightGradient.count == w.count)
        guard rows > 0 else { return }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outFeatures), Int32(inFeatures), Int32(rows),
                    1, dy.baseAddress, Int32(outFeatures), x.baseAddress, Int32(inFeatures), 1, weightGradient.baseAddress, Int32(inFeatures))
        if let biasGradient {
            for r in 0..<rows { for n in 0..<outFeatures { biasGradient[n] += dy[r * outFeatures + n] } }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(inFeatures), Int32(outFeatures),
                    1, dy.baseAddress, Int32(outFeatures), w.baseAddress, Int32(inFeatures), 0, dx.baseAddress, Int32(inFeatures))
    }

    /// For y = w ⊙ x·s with s = 1/√(mean(x²) + eps) (SPEC 3.6.2), s recomputed as the forward computes it:
    /// weightGradient += Σ_rows dy ⊙ x·s and dx = s·(w ⊙ dy) − x·s³/width · Σ_i w_i·dy_i·x_i.
    static func rmsNormBackward(
        dx: UnsafeMutableBufferPointer<Float>, weightGradient: UnsafeMutableBufferPointer<Float>,
        dy: UnsafeBufferPointer<Float>, x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>,
        rows: Int, width: Int, eps: Float
    ) {
        precondition(weight.count == width && weightGradient.count == width)
        precondition(x.count >= rows * width && dy.count >= rows * width && dx.count >= rows * width)
        for r in 0..<rows {
            let base = r * width
            var sumSquares: Double = 0, projection: Double = 0
            for i in 0..<width {
                let v = Double(x[base + i])
                sumSquares += v * v
                projection += Double(weight[i]) * Double(dy[base + i]) * v
            }
            let scale = 1 / (sumSquares / Double(width) + Double(eps)).squareRoot()
            let s = Float(scale), correction = Float(projection * scale * scale * scale / Double(width))
            for i in 0..<width {
                weightGradient[i] += dy[base + i] * x[base + i] * s
                dx[base + i] = s * weight[i] * dy[base + i] - x[base + i] * correction
            }
        }
    }

    /// Backward of `Kernels.attention` given its probabilities: writes dq, accumulates into dk and dv (zeroed by the caller). From
    /// O = P·V: dP = dO·Vᵀ and dV += Pᵀ·dO; through the softmax dS = P ⊙ (dP − rowsum(P ⊙ dP)) / √d (0 for
    /// a uniform row, whose weights do not depend on q or k); from S = Q·Kᵀ: dQ = dS·K and dK += dSᵀ·Q.
    static func attentionBackward(
        dq: UnsafeMutableBufferPointer<Float>, dk: UnsafeMutableBufferPointer<Float>, dv: UnsafeMutableBufferPointer<Float>,
        dOut: UnsafeBufferPointer<Float>, q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>,
        probabilities: UnsafeBufferPointer<Float>, keyMask: UnsafeBufferPointer<Float>, blocks: UnsafeBufferPointer<AttentionBlock>,
        heads: Int, kvHeads: Int, headDim: Int
    ) {
        let d = headDim, qWidth = heads * d, kvWidth = kvHeads * d, group = heads / kvHeads
        let scale = Float(d).squareRoot()
        precondition(dq.count == q.count && dOut.count == q.count && dk.count == k.count && dv.count == v.count)
        var scratch = [Float](repeating: 0, count: blocks.map(\.probabilityCount).max() ?? 0)
        scratch.withUnsafeMutableBufferPointer { dS in
            for block in blocks {
                let nq = block.queryCount, nk = block.keyCount
                precondition(q.count >= (block.queryStart + nq) * qWidth && k.count >= (block.keyStart + nk) * kvWidth)
                let mask = UnsafeBufferPointer(rebasing: keyMask[block.keyStart..<(block.keyStart + nk)])
                for head in 0..<heads {
                    let g = head / group
                    let qOffset = block.queryStart * qWidth + head * d, kvOffset = block.keyStart * kvWidth + g * d
                    let pBase = probabilities.baseAddress! + block.probabilityOffset + head * block.probabilityCount
                    let dOBase = dOut.baseAddress! + qOffset
                    // dP = dO·Vᵀ into the scratch, dV += Pᵀ·dO.
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(nq), Int32(nk), Int32(d),
                                1, dOBase, Int32(qWidth), v.baseAddress! + kvOffset, Int32(kvWidth), 0, dS.baseAddress, Int32(nk))
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(nk), Int32(d), Int32(nq),
                                1, pBase, Int32(nk), dOBase, Int32(qWidth), 1, dv.baseAddress! + kvOffset, Int32(kvWidth))
                    for i in 0..<nq {
                        let limit = block.firstQueryRow + i
                        let uniform = !(0..<min(nk, limit + 1)).contains { mask[$0] == 1 }
                        var weighted: Float = 0
                        for j in 0..<nk { weighted += pBase[i * nk + j] * dS[i * nk + j] }
                        for j in 0..<nk { dS[i * nk + j] = uniform ? 0 : pBase[i * nk + j] * (dS[i * nk + j] - weighted) / scale }
                    }
                    // dQ = dS·K, dK += dSᵀ·Q.
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(nq), Int32(d), Int32(nk),
                                1, dS.baseAddress, Int32(nk), k.baseAddress! + kvOffset, Int32(kvWidth), 0, dq.baseAddress! + qOffset, Int32(qWidth))
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(nk), Int32(d), Int32(nq),
                                1, dS.baseAddress, Int32(nk), q.baseAddress! + qOffset, Int32(qWidth), 1, dk.baseAddress! + kvOffset, Int32(kvWidth))
                }
            }
        }
    }

    /// Backward of out = silu(gate) ⊙ up (SPEC 3.6.7): dUp = dout·silu(gate), dGate = dout·up·silu'(gate)
    /// with silu'(z) = σ(z)·(1 + z·(1 − σ(z))).
    static func swiGLUBackward(
        dGate: UnsafeMutableBufferPointer<Float>, dUp: UnsafeMutableBufferPointer<Float>, dOut: UnsafeBufferPointer<Float>,
        gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>
    ) {
        precondition(gate.count == up.count && dOut.count == gate.count && dGate.count >= gate.count && dUp.count >= gate.count)
        for i in 0..<gate.count {
            let z = gate[i], sigma = 1 / (1 + expf(-z))
            dUp[i] = dOut[i] * z * sigma
            dGate[i] = dOut[i] * up[i] * sigma * (1 + z * (1 - sigma))
        }
    }
}
