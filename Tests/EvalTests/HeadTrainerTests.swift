import Checkpoints
import Foundation
import Support
import Testing
@testable import Eval

/// The fine-tuning pieces against what they imitate: torch's AdamW and clip_grad_norm_, transformers'
/// linear schedule and early stopping, and a head that must separate separable data.
@Suite struct HeadTrainerTests {
    /// `n` points per class around orthogonal centres in `d` dimensions: linearly separable by a bias-free head.
    static func separable(classes: Int, perClass n: Int, d: Int, seed: UInt64) -> (features: [Float], labels: [Double]) {
        var generator = SplitMix64(state: seed)
        var features: [Float] = [], labels: [Double] = []
        for i in 0..<(classes * n) {
            let label = i % classes
            for j in 0..<d {
                let noise = Float(generator.nextOpenUnit() - 0.5) * 0.6
                features.append((j == label ? 2 : 0) + noise)
            }
            labels.append(Double(label))
        }
        return (features, labels)
    }

    @Test func separableProblemReachesFullAccuracy() {
        let (features, labels) = Self.separable(classes: 3, perClass: 60, d: 8, seed: 7)
        let head = ScoreHead(features: features, featureSize: 8, targets: labels, outputCount: 3, isRegression: false, seed: 1)
        let train = Array(0..<150), selection = Array(150..<180)
        func accuracy(_ examples: [Int]) -> Double {
            let logits = head.logits(examples: examples)
            let predictions = examples.indices.map { i in Double((0..<3).max { logits[3 * i + $0] < logits[3 * i + $1] }!) }
            return Metrics.value(.acc, predictions: predictions, labels: examples.map { labels[$0] })
        }
        let before = accuracy(selection)
        var settings = HeadTrainingSettings()
        (settings.maxSteps, settings.warmupSteps, settings.evalEvery, settings.batchSize) = (300, 10, 20, 16)
        let outcome = HeadTrainer(settings: settings).train(head, trainExamples: train, selectionExamples: selection, seed: 3) { logits in
            let predictions = selection.indices.map { i in Double((0..<3).max { logits[3 * i + $0] < logits[3 * i + $1] }!) }
            return Metrics.value(.acc, predictions: predictions, labels: selection.map { labels[$0] })
        }
        #expect(before < 0.9)
        #expect(outcome.bestValue == 1)
        #expect(accuracy(selection) == 1 && accuracy(train) == 1)
        // Early stopping: a perfect selection score cannot improve, so training stops `patience` evaluations later.
        #expect(outcome.stoppedEarly && outcome.stepsRun == outcome.bestStep + settings.patience * settings.evalEvery)
    }

    @Test func sameSeedSameHeadOtherSeedOtherHead() {
        let (features, labels) = Self.separable(classes: 2, perClass: 20, d: 4, seed: 2)
        var settings = HeadTrainingSettings()
        (settings.maxSteps, settings.evalEvery) = (40, 10)
        func trained(_ seed: UInt64) -> [Float] {
            let head = ScoreHead(features: features, featureSize: 4, targets: labels, outputCount: 2, isRegression: false, seed: seed)
            _ = HeadTrainer(settings: settings).train(head, trainExamples: Array(0..<30), selectionExamples: Array(30..<40), seed: seed) { _ in 0 }
            return head.parameters
        }
        #expect(trained(1) == trained(1))
        #expect(trained(1) != trained(2))
    }

    @Test(arguments: [false, true])
    func gradientMatchesFiniteDifferences(_ regression: Bool) {
        let (features, labels) = Self.separable(classes: 3, perClass: 4, d: 5, seed: 9)
        let outputs = regression ? 1 : 3
        let head = ScoreHead(features: features, featureSize: 5, targets: labels.map { regression ? $0 * 1.5 : $0 }, outputCount: outputs,
                             isRegression: regression, seed: 4, initializerRange: 0.5)
        let batch = [0, 3, 5, 7, 11]
        let (_, gradient) = head.lossAndGradient(examples: batch)
        let start = head.parameters
        for i in start.indices {
            let h: Float = 1e-2
            head.parameters = start; head.parameters[i] += h
            let plus = head.lossAndGradient(examples: batch).loss
            head.parameters = start; head.parameters[i] -= h
            let minus = head.lossAndGradient(examples: batch).loss
            let numeric = (plus - minus) / Double(2 * h)
            #expect(abs(numeric - Double(gradient[i])) < 2e-3 * max(1, abs(numeric)), "parameter \(i)")
        }
    }

    /// torch.optim.AdamW, two steps by hand: p ← p(1 − lr·wd), then p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε).
    @Test func adamWFollowsTorch() {
        var optimizer = AdamW(parameterCount: 2, weightDecay: 0.01)
        var p: [Float] = [1, -2]
        optimizer.update(&p, gradient: [0.5, 0.25], learningRate: 0.1, decayMask: [true, false])
        // Step 1: m̂ = g, v̂ = g², so the Adam step is lr·g/(|g| + ε) = ±lr (up to ε).
        #expect(abs(p[0] - (1 * (1 - 0.1 * 0.01) - 0.1)) < 1e-6)
        #expect(abs(p[1] - (-2 - 0.1)) < 1e-6)
        optimizer.update(&p, gradient: [-0.5, 0.25], learningRate: 0.1, decayMask: [true, false])
        // Step 2 for element 0: m = 0.9·0.05 + 0.1·(−0.5) = −0.005; v = 0.999·0.00025 + 0.001·0.25 = 0.0004997.
        let m: Double = -0.005, v = 0.00049975
        let step = 0.1 / (1 - 0.81) * m / ((v / (1 - 0.998001)).squareRoot() + 1e-8)
        let expected = (Double(1 * (1 - 0.1 * 0.01) - 0.1)) * (1 - 0.001) - step
        #expect(abs(Double(p[0]) - expected) < 1e-5)
    }

    @Test func clippingScalesToTheMaximumNorm() {
        var g: [Float] = [3, 4]
        let norm = AdamW.clipGradientNorm(&g, maxNorm: 1)
        #expect(norm == 5)
        #expect(abs(g[0] - 0.6) < 1e-6 && abs(g[1] - 0.8) < 1e-6)
        var small: [Float] = [0.3, 0.4]
        AdamW.clipGradientNorm(&small, maxNorm: 1)
        #expect(small == [0.3, 0.4])
    }

    @Test func scheduleWarmsUpThenDecaysToZero() {
        let schedule = LinearSchedule(peak: 1, warmupSteps: 10, maxSteps: 110)
        #expect(schedule.learningRate(atStep: 0) == 0)
        #expect(schedule.learningRate(atStep: 5) == 0.5)
        #expect(schedule.learningRate(atStep: 10) == 1)
        #expect(schedule.learningRate(atStep: 60) == 0.5)
        #expect(schedule.learningRate(atStep: 110) == 0)
        #expect(LinearSchedule(peak: 2, warmupSteps: 0, maxSteps: 4).learningRate(atStep: 0) == 2)
    }

    @Test func earlyStoppingKeepsTheBestEvaluation() {
        let (features, labels) = Self.separable(classes: 2, perClass: 10, d: 3, seed: 5)
        let head = ScoreHead(features: features, featureSize: 3, targets: labels, outputCount: 2, isRegression: false, seed: 1)
        var settings = HeadTrainingSettings()
        (settings.maxSteps, settings.evalEvery, settings.patience) = (1000, 5, 3)
        var calls = 0
        var seen: [[Float]] = []
        // Selection values 1, 3, 2, 2, 2, ...: the best is the second evaluation (step 10).
        let outcome = HeadTrainer(settings: settings).train(head, trainExamples: Array(0..<20), selectionExamples: [0], seed: 1) { _ in
            calls += 1
            seen.append(head.parameters)
            return calls == 1 ? 1 : calls == 2 ? 3 : 2
        }
        #expect(outcome.bestStep == 10 && outcome.bestValue == 3)
        #expect(outcome.stoppedEarly && outcome.stepsRun == 25 && calls == 5)
        #expect(head.parameters == seen[1])
    }

    @Test func epochsSetTheStepCount() {
        var settings = HeadTrainingSettings()
        settings.batchSize = 32
        #expect(settings.steps(trainingRows: 100) == settings.maxSteps)
        settings.epochs = 2
        #expect(settings.steps(trainingRows: 100) == 8)
        var overrides = HeadTrainingSettings.Overrides()
        overrides.maxSteps = 7
        #expect(settings.applying(overrides).steps(trainingRows: 100) == 7)
        overrides.patience = 0
        #expect(settings.applying(overrides).problems == ["patience: must be at least 1"])
    }

    @Test func seedStatisticsUseTheSampleDeviation() {
        let summary = Metrics.meanAndSampleStandardDeviation([0.5, 0.7, 0.9])
        #expect(abs(summary.mean - 0.7) < 1e-12)
        #expect(abs(summary.standardDeviation! - 0.2) < 1e-12)
        #expect(Metrics.meanAndSampleStandardDeviation([0.4]).standardDeviation == nil)
    }

    @Test func foldsAreContiguousAndKeepPremiseTriplesTogether() {
        let folds = ContiguousFolds(count: 5, rows: 2490)
        let assignment = (0..<2490).map(folds.fold(ofPosition:))
        #expect(assignment == assignment.sorted())
        #expect(Set(assignment) == Set(0..<5))
        // 2490 rows = 830 premises x 3 consecutive rows; no premise is split across folds.
        #expect((0..<830).allSatisfy { p in Set((0..<3).map { assignment[3 * p + $0] }).count == 1 })
        #expect(folds.selectionFold(for: 4) == 0)
    }
}
