import Checkpoints
import Foundation
import Support
import Testing
@testable import Model
@testable import Training

/// The trainable tail's gradients are exact (issue 9, item 2): every tensor kind's analytic gradient
/// against central finite differences of the Double reference loss, and plain gradient descent on them
/// lowers the loss.
@Suite struct TrainingGradientTests {
    struct Case: CustomStringConvertible, Sendable {
        let trainLayers: Int
        let attentionBias: Bool
        let problem: SequenceClassificationLoss.Problem
        var description: String { "K=\(trainLayers) bias=\(attentionBias) \(problem)" }
    }

    /// Pair rows (masked pixel slots, text at offset positions, a pooled row that is masked, a pooled row
    /// inside its example), pixel rows (one with no visible key, attending uniformly) and text rows, as one batch, on a random model whose tail parameters are perturbed off their initial values.
    static func problem(_ c: Case) throws -> (tail: TrainableTail, batch: [TailExample], targets: [Double]) {
        let labels = c.problem == .regression ? 1 : 3
        let model = try TrainingFixtures.model(TrainingFixtures.config(layers: 3, attentionBias: c.attentionBias, numLabels: labels))
        let batch = try model.tailExamples(TrainingFixtures.inputs(.pair), trainLayers: c.trainLayers)
            + model.tailExamples(TrainingFixtures.inputs(.pixel), trainLayers: c.trainLayers)
            + model.tailExamples(TrainingFixtures.inputs(.text), trainLayers: c.trainLayers)
            + model.tailExamples(TrainingFixtures.pairPoolingAMaskedSlot(), trainLayers: c.trainLayers)
        let targets: [Double] = c.problem == .regression ? [0.5, 3.1, 1.2, 4.4, 2.0, 0.1, 2.5, 1.7, 3.3, 1.1, 2.9] : [0, 2, 1, 1, 0, 2, 2, 0, 1, 2, 0]
        let tail = try TrainableTail(model: model, trainLayers: c.trainLayers, numLabels: labels)
        TrainingFixtures.perturb(tail, scale: 0.2, seed: 9)
        return (tail, batch, targets)
    }

    /// Per tensor, 4 sampled entries: max |analytic − numeric| over the largest analytic entry of the tensor.
    @Test(arguments: [
        Case(trainLayers: 2, attentionBias: false, problem: .classification),
        Case(trainLayers: 3, attentionBias: true, problem: .regression),
        Case(trainLayers: 0, attentionBias: false, problem: .classification),
    ])
    func gradientsMatchFiniteDifferences(_ c: Case) throws {
        let (tail, batch, targets) = try Self.problem(c)
        let stack = TrainableTail.RowStack(batch, tail: tail)
        let result = tail.backward(stack, targets: targets, problem: c.problem)
        let base = tail.parameters.map(Double.init)
        let referenceLoss = tail.referenceLoss(batch, targets: targets, problem: c.problem, parameters: base)
        #expect(abs(result.loss - referenceLoss) <= 1e-5 * abs(referenceLoss), "\(c): loss \(result.loss) vs \(referenceLoss)")

        let step = 1e-4
        var sampler = SplitMix64(state: 3)
        for tensor in tail.tensorLayout {
            let analytic = result.gradient[tensor.range]
            let scale = Double(analytic.map(abs).max()!)
            #expect(scale > 1e-6, "\(c): \(tensor.name) has no gradient")
            var error = 0.0
            for _ in 0..<4 {
                let i = tensor.range.lowerBound + Int(sampler.next() % UInt64(tensor.range.count))
                var plus = base, minus = base
                plus[i] += step
                minus[i] -= step
                let numeric = (tail.referenceLoss(batch, targets: targets, problem: c.problem, parameters: plus)
                    - tail.referenceLoss(batch, targets: targets, problem: c.problem, parameters: minus)) / (2 * step)
                error = max(error, abs(Double(result.gradient[i]) - numeric) / scale)
            }
            #expect(error < 1e-3, "\(c): \(tensor.name) relative error \(error)")
        }

        // The inputs of layer N − K: the gradient flowing out of the first trained layer.
        let h = 16
        let inputScale = Double(result.inputGradient.map(abs).max()!)
        var inputError = 0.0
        for _ in 0..<6 {
            let e = Int(sampler.next() % UInt64(batch.count)), r = Int(sampler.next() % UInt64(batch[e].length)), j = Int(sampler.next() % UInt64(h))
            func moved(_ delta: Float) -> (batch: [TailExample], delta: Double) {
                var hidden = batch[e].hidden
                let old = hidden[r * h + j]
                hidden[r * h + j] = old + delta
                var moved = batch
                moved[e] = TailExample(hidden: hidden, positions: batch[e].positions, keyMask: batch[e].keyMask,
                                       pooledRow: batch[e].pooledRow, sequenceLength: batch[e].sequenceLength)
                return (moved, Double(hidden[r * h + j]) - Double(old))  // the step Float could represent
            }
            let up = moved(1e-3), down = moved(-1e-3)
            let numeric = (tail.referenceLoss(up.batch, targets: targets, problem: c.problem, parameters: base)
                - tail.referenceLoss(down.batch, targets: targets, problem: c.problem, parameters: base)) / (up.delta - down.delta)
            let row = stack.segments[e].lowerBound + r
            inputError = max(inputError, abs(Double(result.inputGradient[row * h + j]) - numeric) / inputScale)
        }
        #expect(inputError < 1e-3, "\(c): input gradient relative error \(inputError)")
    }

    @Test(arguments: [SequenceClassificationLoss.Problem.classification, .regression])
    func gradientDescentLowersTheLoss(problem: SequenceClassificationLoss.Problem) throws {
        let c = Case(trainLayers: 1, attentionBias: false, problem: problem)
        let (tail, batch, targets) = try Self.problem(c)
        let first = tail.lossAndGradient(batch, targets: targets, problem: problem)
        #expect(tail.lossAndGradient(batch, targets: targets, problem: problem).gradient == first.gradient)  // deterministic
        var losses = [first.loss]
        for _ in 0..<20 {
            let (_, gradient) = tail.lossAndGradient(batch, targets: targets, problem: problem)
            for i in tail.parameters.indices { tail.parameters[i] -= 0.05 * gradient[i] }
            losses.append(tail.loss(batch, targets: targets, problem: problem))
        }
        #expect(losses[1] < losses[0] && losses.last! < 0.5 * losses[0], "\(problem): \(losses)")
    }
}
