import Support
import Checkpoints

/// The HF Trainer's loop (SPEC 8) for any `Trainable`: shuffled mini-batches (a new permutation per
/// epoch, last partial batch kept), linear warmup and decay, grad-norm clipping, AdamW; evaluation on the
/// selection examples every `evalEvery` steps and after the last, keeping the best parameters
/// (load_best_model_at_end, greater is better) and stopping after `patience` evaluations without a
/// strictly better value (EarlyStoppingCallback).
public struct HeadTrainer: Sendable {
    public let settings: HeadTrainingSettings

    public init(settings: HeadTrainingSettings) { self.settings = settings }

    public struct Evaluation: Codable, Sendable, Equatable {
        public let step: Int
        public let value: Double
    }

    public struct Outcome: Sendable, Equatable {
        /// The step whose parameters were kept (the last step when there is nothing to select on).
        public let bestStep: Int
        /// The selection value there; nil without selection examples (or when it was never finite).
        public let bestValue: Double?
        public let stepsRun: Int
        public let maxSteps: Int
        public let stoppedEarly: Bool
        public let evaluations: [Evaluation]
        /// Mean training loss of the last batch.
        public let finalLoss: Double
    }

    /// Trains `model` in place on `trainExamples`; leaves the best parameters in it. `selectionValue` turns
    /// the logits of `selectionExamples` (row-major) into the selection metric (greater is better; NaN
    /// counts as worst).
    public func train(_ model: some Trainable, trainExamples: [Int], selectionExamples: [Int], seed: UInt64,
                      selectionValue: ([Float]) -> Double) -> Outcome {
        precondition(!trainExamples.isEmpty)
        let maxSteps = settings.steps(trainingRows: trainExamples.count)
        let schedule = LinearSchedule(peak: settings.learningRate, warmupSteps: settings.warmupSteps, maxSteps: maxSteps)
        var optimizer = AdamW(parameterCount: model.parameters.count, weightDecay: Float(settings.weightDecay))
        let mask = model.weightDecayMask
        var generator = SplitMix64(state: seed ^ 0x5EED_0F_7EA1_4E5D)
        var order: [Int] = []
        var cursor = 0
        var best: (step: Int, value: Double, parameters: [Float])?
        var evaluations: [Evaluation] = []
        var sinceImprovement = 0
        var finalLoss = Double.nan
        var step = 0
        var stoppedEarly = false
        func evaluate() -> Bool {
            let raw = selectionValue(model.logits(examples: selectionExamples))
            let value = raw.isNaN ? -Double.infinity : raw
            evaluations.append(Evaluation(step: step, value: raw))
            if best == nil || value > best!.value {
                best = (step, value, model.parameters)
                sinceImprovement = 0
            } else {
                sinceImprovement += 1
            }
            return sinceImprovement >= settings.patience
        }
        while step < maxSteps {
            if cursor >= order.count {
                order = trainExamples
                for i in stride(from: order.count - 1, to: 0, by: -1) {  // Fisher-Yates
                    order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
                }
                cursor = 0
            }
            let batch = Array(order[cursor..<min(order.count, cursor + settings.batchSize)])
            cursor += batch.count
            var (loss, gradient) = model.lossAndGradient(examples: batch)
            finalLoss = loss
            AdamW.clipGradientNorm(&gradient, maxNorm: Float(settings.maxGradNorm))
            var parameters = model.parameters
            optimizer.update(&parameters, gradient: gradient, learningRate: Float(schedule.learningRate(atStep: step)), decayMask: mask)
            model.parameters = parameters
            step += 1
            if !selectionExamples.isEmpty && (step % settings.evalEvery == 0 || step == maxSteps) {
                if evaluate() && step < maxSteps {
                    stoppedEarly = true
                    break
                }
            }
        }
        if let best { model.parameters = best.parameters }
        return Outcome(bestStep: best?.step ?? step, bestValue: best.flatMap { $0.value.isFinite ? $0.value : nil }, stepsRun: step,
                       maxSteps: maxSteps, stoppedEarly: stoppedEarly, evaluations: evaluations, finalLoss: finalLoss)
    }
}
