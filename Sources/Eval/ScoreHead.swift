import Checkpoints
import Foundation
import Support
import Model
import Training

/// The bias-free `score` layer of ErniePixelForSequenceClassification (SPEC 2.2, 4) on cached pooled
/// features: logits = W x, W [outputCount, H]. Cross-entropy for classification, MSE on the single output
/// for regression (STS-B), each the mean over the batch as torch computes it. The first `Trainable`.
public final class ScoreHead: Trainable {
    public let featureSize: Int
    public let outputCount: Int
    public let isRegression: Bool
    /// Row-major [rows, featureSize]: the example table that example indices refer to.
    let features: [Float]
    /// Class id (classification) or score (regression) per example.
    let targets: [Double]
    public var parameters: [Float]
    public var weightDecayMask: [Bool] { [Bool](repeating: true, count: parameters.count) }

    /// A head with W drawn from N(0, 0.02²) (transformers' `_init_weights` with initializer_range 0.02,
    /// SPEC 2.2, 11.9) from `seed`, so a seed fixes the whole run.
    public init(features: [Float], featureSize: Int, targets: [Double], outputCount: Int, isRegression: Bool, seed: UInt64,
                initializerRange: Float = 0.02) {
        precondition(features.count == targets.count * featureSize && outputCount >= 1)
        self.features = features
        self.featureSize = featureSize
        self.targets = targets
        self.outputCount = outputCount
        self.isRegression = isRegression
        parameters = Self.normal(count: outputCount * featureSize, std: initializerRange, seed: seed)
    }

    /// Box-Muller pairs from SplitMix64 (the project's seeded generator).
    static func normal(count: Int, std: Float, seed: UInt64) -> [Float] {
        var generator = SplitMix64(state: seed)
        var values: [Float] = []
        values.reserveCapacity(count + 1)
        while values.count < count {
            let (cosine, sine) = generator.nextNormalPair()
            values += [Float(cosine) * std, Float(sine) * std]
        }
        return Array(values.prefix(count))
    }

    /// Logits of example `i` in Double (the accumulation `LinearProbe` uses too).
    func logitsOf(_ i: Int, into z: inout [Double]) {
        features.withUnsafeBufferPointer { x in
            parameters.withUnsafeBufferPointer { w in
                let row = i * featureSize
                for k in 0..<outputCount {
                    var sum = 0.0
                    let base = k * featureSize
                    for j in 0..<featureSize { sum += Double(w[base + j]) * Double(x[row + j]) }
                    z[k] = sum
                }
            }
        }
    }

    public func lossAndGradient(examples: [Int]) -> (loss: Double, gradient: [Float]) {
        var logits = [Double](repeating: 0, count: examples.count * outputCount)
        var z = [Double](repeating: 0, count: outputCount)
        for (b, i) in examples.enumerated() {
            logitsOf(i, into: &z)
            for k in 0..<outputCount { logits[b * outputCount + k] = z[k] }
        }
        // The losses of SPEC 4, shared with the trainable tail; dW = Σ_b dlogits_b ⊗ x_b.
        let (loss, dLogits) = SequenceClassificationLoss.meanLoss(logits: logits, numLabels: outputCount, targets: examples.map { targets[$0] },
                                                                  problem: isRegression ? .regression : .classification)
        var gradient = [Double](repeating: 0, count: parameters.count)
        features.withUnsafeBufferPointer { x in
            for (b, i) in examples.enumerated() {
                let row = i * featureSize
                for k in 0..<outputCount where dLogits[b * outputCount + k] != 0 {
                    let base = k * featureSize, d = dLogits[b * outputCount + k]
                    for j in 0..<featureSize { gradient[base + j] += d * Double(x[row + j]) }
                }
            }
        }
        return (loss, gradient.map(Float.init))
    }

    public func logits(examples: [Int]) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(examples.count * outputCount)
        var z = [Double](repeating: 0, count: outputCount)
        for i in examples {
            logitsOf(i, into: &z)
            out += z.map(Float.init)
        }
        return out
    }

    /// The trained head as the probe type the evaluation applies (same arithmetic as `--head checkpoint`
    /// on a saved head, so predictions reproduce exactly).
    public var linearProbe: LinearProbe {
        LinearProbe(numLabels: outputCount, featureSize: featureSize, weight: parameters.map(Double.init))
    }
}
