import Foundation
import Support
import TestSupport
import Testing
@testable import Eval

/// Standard errors of the metrics (results.json `metrics_stderr`): lm-evaluation-harness's `mean_stderr` for
/// accuracy, a seeded bootstrap for the others, checked against formulas worked out here and against a
/// scikit-learn/scipy bootstrap of the same rows.
@Suite struct MetricStandardErrorTests {
    /// lm-eval's mean_stderr of 0/1 values is sqrt(p (1 - p) / (n - 1)): 7 of 10 right gives sqrt(0.21 / 9).
    @Test func accuracyIsTheAnalyticStandardErrorOfTheMean() throws {
        let labels: [Double] = [0, 1, 1, 0, 1, 0, 0, 1, 1, 1]
        let predictions: [Double] = [0, 1, 1, 0, 1, 0, 1, 0, 0, 1]  // rows 6, 7, 8 wrong
        let (values, methods) = MetricStandardError.standardErrors([.acc], predictionsBySeed: [predictions], labels: labels)
        #expect(methods == ["acc": "analytic"])
        let expected = (0.7 * 0.3 / 9).squareRoot()
        #expect(abs(try #require(values["acc"]) - expected) < 1e-15)
        // sample std (ddof 1) / sqrt(n), written out: mean 0.7, squares 7 * 0.09 + 3 * 0.49 = 2.1.
        #expect(abs(try #require(MetricStandardError.meanStandardError([1, 1, 1, 1, 1, 1, 0, 0, 0, 1])) - (2.1 / 9).squareRoot() / 10.0.squareRoot()) < 1e-15)
        #expect(MetricStandardError.meanStandardError([1]) == nil)
    }

    /// With two seeds a row's value is the fraction of seeds that got it right (1, 0.5 or 0); the standard
    /// error is that of their mean, the reported mean accuracy.
    @Test func seedsAverageEachRowBeforeTheStandardError() throws {
        let labels: [Double] = [0, 1, 1, 0]
        let seeds: [[Double]] = [[0, 1, 0, 0], [0, 0, 0, 1]]  // per row: 1, 0.5, 0, 0.5
        let values = MetricStandardError.standardErrors([.acc], predictionsBySeed: seeds, labels: labels).values
        // mean 0.5; squares 0.25 + 0 + 0.25 + 0 = 0.5; ddof 1: 0.5 / 3; over sqrt(4).
        #expect(abs(try #require(values["acc"]) - (0.5 / 3).squareRoot() / 2) < 1e-15)
    }

    /// The bootstrap draws the same resamples every time (a fixed seed), names its count, leaves undefined
    /// values out instead of writing NaN, and depends on the seed it is given.
    @Test func theBootstrapIsSeededAndNamesItsResamples() throws {
        let labels = (0..<120).map { Double($0 % 2) }
        let predictions = labels.enumerated().map { $0.offset % 7 == 0 ? 1 - $0.element : $0.element }
        let metrics: [MetricName] = [.mcc, .f1]
        let first = MetricStandardError.standardErrors(metrics, predictionsBySeed: [predictions], labels: labels)
        let second = MetricStandardError.standardErrors(metrics, predictionsBySeed: [predictions], labels: labels)
        #expect(first.values == second.values)
        #expect(first.methods == ["mcc": "bootstrap-1000", "f1": "bootstrap-1000"])
        #expect(first.values.keys.sorted() == ["f1", "mcc"])
        let otherSeed = MetricStandardError.standardErrors(metrics, predictionsBySeed: [predictions], labels: labels, seed: 7)
        #expect(otherSeed.values["mcc"] != first.values["mcc"])

        // Pearson of constant predictions is undefined: no standard error, and no NaN.
        let constant = MetricStandardError.standardErrors([.pearson, .spearmanr], predictionsBySeed: [[Double](repeating: 2, count: 50)],
                                                          labels: (0..<50).map(Double.init))
        #expect(constant.values.isEmpty && constant.methods.count == 2)
        // One row: nothing to resample.
        #expect(MetricStandardError.standardErrors([.acc, .mcc], predictionsBySeed: [[1]], labels: [1]).values.isEmpty)
    }

    /// A classification resample is counted into a confusion matrix instead of copied: on every fixture case
    /// and resample, the value equals the metric of the copied rows exactly, and with two seeds their mean.
    @Test func countedResamplesGiveTheMetricOfTheCopiedRows() throws {
        var generator = SplitMix64(state: 11)
        for c in try MetricsTests.cases() where c["kind"] as? String == "classification" {
            let labels = (c["labels"] as! [NSNumber]).map(\.doubleValue), predictions = (c["predictions"] as! [NSNumber]).map(\.doubleValue)
            let flipped = predictions.map { $0 == 0 ? 1 : 0 } as [Double]
            let one = MetricStandardError.resampledStatistic(predictionsBySeed: [predictions], labels: labels)
            let two = MetricStandardError.resampledStatistic(predictionsBySeed: [predictions, flipped], labels: labels)
            for _ in 0..<20 {
                let rows = labels.indices.map { _ in MetricStandardError.uniformIndex(below: labels.count, &generator) }
                for metric in [MetricName.f1, .mcc] {
                    let copied = Metrics.value(metric, predictions: rows.map { predictions[$0] }, labels: rows.map { labels[$0] })
                    let copiedFlipped = Metrics.value(metric, predictions: rows.map { flipped[$0] }, labels: rows.map { labels[$0] })
                    #expect(one(metric, rows) == copied, "\(metric) of \(labels.count) rows")
                    #expect(two(metric, rows) == (copied + copiedFlipped) / 2, "\(metric) of \(labels.count) rows, two seeds")
                }
            }
        }
    }

    @Test func resampledIndicesStayInRangeAndCoverIt() {
        var generator = SplitMix64(state: 3)
        var seen = [Int](repeating: 0, count: 7)
        for _ in 0..<7000 { seen[MetricStandardError.uniformIndex(below: 7, &generator)] += 1 }
        #expect(seen.allSatisfy { (850...1150).contains($0) }, "\(seen)")
    }

    /// Against a bootstrap of the same rows by scikit-learn and scipy (their own random resamples, 2000 of
    /// them): two bootstraps agree to within Monte-Carlo noise (under 5% here when measured); 20% allows it
    /// with a wide margin while a wrong bootstrap (predictions and labels resampled apart, the variance instead
    /// of the deviation, too few rows per resample) lands far outside.
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("numpy, scipy, sklearn")))
    func bootstrapAgreesWithAScikitLearnBootstrap() throws {
        let cases = try MetricsTests.cases().filter { ($0["labels"] as! [Any]).count >= 150 }
        #expect(cases.count == 3)
        let script = """
        import json, sys
        import numpy as np
        from scipy.stats import pearsonr, spearmanr
        from sklearn.metrics import f1_score, matthews_corrcoef
        cases = json.load(open(sys.argv[1]))
        functions = {"mcc": matthews_corrcoef, "f1": f1_score, "pearson": lambda y, p: pearsonr(y, p)[0], "spearmanr": lambda y, p: spearmanr(y, p)[0]}
        out = []
        for case in cases:
            y, p = np.array(case["labels"]), np.array(case["predictions"])
            rng = np.random.default_rng(5)
            draws = [rng.integers(0, len(y), len(y)) for _ in range(2000)]
            out.append({m: float(np.std([functions[m](y[d], p[d]) for d in draws], ddof=1)) for m in case["metrics"]})
        print(json.dumps(out))
        """
        var inputs: [[String: Any]] = []
        var ours: [[String: Double]] = []
        for c in cases {
            let labels = (c["labels"] as! [NSNumber]).map(\.doubleValue), predictions = (c["predictions"] as! [NSNumber]).map(\.doubleValue)
            let metrics = MetricName.allCases.filter { $0 != .acc && c[$0.rawValue] != nil }
            inputs.append(["labels": labels, "predictions": predictions, "metrics": metrics.map(\.rawValue)])
            ours.append(MetricStandardError.standardErrors(metrics, predictionsBySeed: [predictions], labels: labels).values)
        }
        let input = try JSONSerialization.data(withJSONObject: inputs)
        let dir = try TemporaryDirectory()
        try input.write(to: URL(fileURLWithPath: dir.file("cases.json")))
        let output = try PythonReference.run(["-c", script, dir.file("cases.json")])
        let reference = try #require(try JSONSerialization.jsonObject(with: output) as? [[String: Double]])
        var compared = 0
        for (i, expected) in reference.enumerated() {
            for (metric, value) in expected {
                let mine = try #require(ours[i][metric], "case \(i) \(metric)")
                #expect(abs(mine - value) / value < 0.2, "case \(i) \(metric): ours \(mine), scikit-learn/scipy \(value)")
                compared += 1
            }
        }
        #expect(compared == 2 + 1 + 2)  // binary: mcc, f1; 3-class: mcc; regression: pearson, spearmanr
    }
}
