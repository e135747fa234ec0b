import Foundation
import Model
@testable import Training

/// The tail's forward pass written once more, in Double, row by row from the SPEC formulas and without
/// any of the fast path's shortcuts (every row through every layer, attention with an explicit mask). It
/// lives with the tests: the tail itself runs the model's decoder layer.
/// Tests hold `TrainableTail` against it and take finite differences of it, which are exact enough in
/// Double to check the Float gradients.
extension TrainableTail {
    /// score at the pooled row of `example`, with `parameters` in place of the tail's own.
    func referenceLogits(_ example: TailExample, parameters p: [Double]) -> [Double] {
        precondition(p.count == parameters.count)
        let h = hiddenSize, d = headDim, half = d / 2, length = example.length
        let (cosTable, sinTable) = rotary.tables(positions: example.positions.max()! + 1, sequenceLength: example.sequenceLength)

        func rmsNorm(_ x: [Double], _ w: TailTensor) -> [Double] {
            let inverse = 1 / (x.reduce(0) { $0 + $1 * $1 } / Double(x.count) + Double(eps)).squareRoot()
            return x.indices.map { p[w.range.lowerBound + $0] * x[$0] * inverse }
        }
        func linear(_ x: [Double], _ w: TailTensor, bias: TailTensor? = nil) -> [Double] {
            (0..<w.shape[0]).map { n in
                var sum = bias.map { p[$0.range.lowerBound + n] } ?? 0
                for i in 0..<w.shape[1] { sum += p[w.range.lowerBound + n * w.shape[1] + i] * x[i] }
                return sum
            }
        }
        // q⊙cos + rotate_half(q)⊙sin per head, the tables' d/2 values repeated twice (SPEC 3.6.4).
        func rope(_ x: [Double], heads: Int, position: Int) -> [Double] {
            var out = x
            for head in 0..<heads {
                for i in 0..<d {
                    let c = Double(cosTable[position * half + i % half]), s = Double(sinTable[position * half + i % half])
                    let rotated = i < half ? -x[head * d + i + half] : x[head * d + i - half]
                    out[head * d + i] = x[head * d + i] * c + rotated * s
                }
            }
            return out
        }

        var x = (0..<length).map { r in example.hidden[(r * h)..<((r + 1) * h)].map(Double.init) }
        for layer in layers {
            let normed = x.map { rmsNorm($0, layer.inputNorm) }
            let q = (0..<length).map { rope(linear(normed[$0], layer.q, bias: layer.qBias), heads: heads, position: example.positions[$0]) }
            let k = (0..<length).map { rope(linear(normed[$0], layer.k, bias: layer.kBias), heads: kvHeads, position: example.positions[$0]) }
            let v = normed.map { linear($0, layer.v, bias: layer.vBias) }
            x = (0..<length).map { i in
                var attended = [Double](repeating: 0, count: heads * d)
                for head in 0..<heads {
                    let g = head / (heads / kvHeads)  // GQA, repeat-interleave (SPEC 3.6.5)
                    // Key j is visible when j ≤ i and unmasked; with none visible, upstream's additive
                    // finfo.min mask leaves all scores equal: uniform weights over every key (SPEC 3.5).
                    let visible = (0..<length).map { j in j <= i && example.keyMask[j] == 1 }
                    var weights: [Double]
                    if visible.contains(true) {
                        let scores = (0..<length).map { j in
                            visible[j] ? (0..<d).reduce(0.0) { $0 + q[i][head * d + $1] * k[j][g * d + $1] } / Double(d).squareRoot() : -Double.infinity
                        }
                        let maximum = scores.max()!
                        weights = scores.map { exp($0 - maximum) }
                        let sum = weights.reduce(0, +)
                        weights = weights.map { $0 / sum }
                    } else {
                        weights = [Double](repeating: 1 / Double(length), count: length)
                    }
                    for j in 0..<length { for m in 0..<d { attended[head * d + m] += weights[j] * v[j][g * d + m] } }
                }
                let o = linear(attended, layer.o, bias: layer.oBias)
                let r = (0..<h).map { x[i][$0] + o[$0] }
                let h2 = rmsNorm(r, layer.postAttentionNorm)
                let gate = linear(h2, layer.gate), up = linear(h2, layer.up)
                let activated = gate.indices.map { gate[$0] / (1 + exp(-gate[$0])) * up[$0] }
                let down = linear(activated, layer.down)
                return (0..<h).map { r[$0] + down[$0] }
            }
        }
        return linear(rmsNorm(x[example.pooledRow], finalNorm), score)
    }

    /// `loss` computed by `referenceLogits`.
    func referenceLoss(_ batch: [TailExample], targets: [Double], problem: SequenceClassificationLoss.Problem, parameters p: [Double]) -> Double {
        let logits = batch.flatMap { referenceLogits($0, parameters: p) }
        return SequenceClassificationLoss.meanLoss(logits: logits, numLabels: numLabels, targets: targets, problem: problem).loss
    }
}
