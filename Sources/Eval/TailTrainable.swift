import Model
import Training

/// `--train-layers K` (K ≥ 1) as a `Trainable`: a `TrainableTail` (the last K decoder layers, the final norm
/// and `score`, SPEC 3.6, 3.7, 4) over a table of `TailExample`s, the frozen inputs of layer N − K. Example
/// indices refer to `examples` / `targets`, as `ScoreHead`'s refer to its feature rows, so `HeadTrainer`
/// and the planning in FinetunedHeads.swift treat both alike.
public final class TailTrainable: Trainable {
    public let tail: TrainableTail
    let examples: [TailExample]
    /// Class id (classification) or score (regression) per example.
    let targets: [Double]
    let problem: SequenceClassificationLoss.Problem
    public let weightDecayMask: [Bool]

    /// A tail copied from `model`'s last `trainLayers` layers and final norm, with `score` drawn from
    /// N(0, 0.02²) by `seed` exactly as `ScoreHead` draws it (SPEC 2.2, 11.9): the same seed starts K = 0 and
    /// K ≥ 1 runs from the same head.
    public init(model: PixelGPTModel, trainLayers: Int, examples: [TailExample], targets: [Double], outputCount: Int, isRegression: Bool,
                seed: UInt64, initializerRange: Float = 0.02) throws(ModelError) {
        precondition(examples.count == targets.count && outputCount >= 1)
        let score = ScoreHead.normal(count: outputCount * model.config.hiddenSize, std: initializerRange, seed: seed)
        tail = try TrainableTail(model: model, trainLayers: trainLayers, numLabels: outputCount, score: score)
        self.examples = examples
        self.targets = targets
        problem = isRegression ? .regression : .classification
        weightDecayMask = tail.weightDecayMask
    }

    public var parameters: [Float] {
        get { tail.parameters }
        set { tail.parameters = newValue }
    }

    public var outputCount: Int { tail.numLabels }

    public func lossAndGradient(examples indices: [Int]) -> (loss: Double, gradient: [Float]) {
        tail.lossAndGradient(indices.map { examples[$0] }, targets: indices.map { targets[$0] }, problem: problem)
    }

    public func logits(examples indices: [Int]) -> [Float] {
        // In chunks: one forward keeps every activation of its rows.
        var out: [Float] = []
        out.reserveCapacity(indices.count * outputCount)
        for start in stride(from: 0, to: indices.count, by: Self.chunk) {
            out += tail.logits(indices[start..<min(indices.count, start + Self.chunk)].map { examples[$0] })
        }
        return out
    }

    static let chunk = 32

    /// Bytes a table of examples holds: the hidden rows (F32) plus positions (Int) and key mask (F32).
    static func bytes(of example: TailExample) -> Int {
        example.hidden.count * MemoryLayout<Float>.size + example.length * (MemoryLayout<Int>.size + MemoryLayout<Float>.size)
    }
}
