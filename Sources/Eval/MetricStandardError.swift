import Foundation
import Support

/// The standard error of each reported metric over the evaluated rows (lm-evaluation-harness's
/// `acc_stderr`, `mcc_stderr`, …): how much the value would move on another sample of rows of the same
/// distribution. Not the spread over fine-tuning seeds (`metrics_std`), which is another question.
///
/// - Accuracy is a mean of per-row values, so its standard error is analytic, lm-eval's `mean_stderr`:
///   the sample standard deviation (ddof = 1) of the per-row values over √n, i.e. √(p(1 − p) / (n − 1)) for
///   one head. With several seeds the per-row value is the fraction of seeds that got the row right, whose
///   mean is the reported mean accuracy.
/// - F1, MCC, Pearson and Spearman are not means of per-row values: their standard error is bootstrapped
///   (lm-eval's `bootstrap_stderr`): `resamples` resamples of the n rows drawn with replacement, the metric
///   (the mean over seeds with several seeds) on each, and the sample standard deviation (ddof = 1) of
///   those values. lm-eval draws 100 000 resamples from Python's `random`; here a fixed 1000 from
///   SplitMix64 with a fixed seed, so that a run's value is the same on every machine and every run.
///   Resamples whose metric is undefined (Pearson of a constant resample) are left out.
///
/// A standard error that cannot be computed (fewer than 2 rows, an undefined metric, fewer than 2 defined
/// resamples) is absent, never NaN.
public enum MetricStandardError {
    /// Resamples per bootstrap (the method's name says it: "bootstrap-1000").
    public static let bootstrapResamples = 1000
    /// The resampling stream's seed: the same for every task and run, so the same rows give the same value.
    public static let bootstrapSeed = SplitMix64.seed(named: "pixelgpt.metric-stderr.bootstrap")

    /// How a metric's standard error is computed; `name` is what results.json's `stderr_method` says.
    public enum Method: Sendable, Equatable {
        case analytic
        case bootstrap(resamples: Int)

        public var name: String {
            switch self {
            case .analytic: "analytic"
            case .bootstrap(let resamples): "bootstrap-\(resamples)"
            }
        }

        public static func of(_ metric: MetricName) -> Method {
            metric == .acc ? .analytic : .bootstrap(resamples: bootstrapResamples)
        }
    }

    /// Standard errors of `metrics` for predictions of one or more heads (one array per seed, each aligned
    /// with `labels`) and the method of each. The reported value of a metric is the mean over the seeds.
    public static func standardErrors(_ metrics: [MetricName], predictionsBySeed: [[Double]], labels: [Double],
                                      resamples: Int = bootstrapResamples, seed: UInt64 = bootstrapSeed)
        -> (values: [String: Double], methods: [String: String]) {
        precondition(!predictionsBySeed.isEmpty && predictionsBySeed.allSatisfy { $0.count == labels.count })
        var values: [String: Double] = [:], methods: [String: String] = [:]
        var bootstrapped: [MetricName] = []
        for metric in metrics {
            switch Method.of(metric) {
            case .analytic:
                methods[metric.rawValue] = Method.analytic.name
                let correct = labels.indices.map { row in
                    Double(predictionsBySeed.filter { Int($0[row]) == Int(labels[row]) }.count) / Double(predictionsBySeed.count)
                }
                values[metric.rawValue] = meanStandardError(correct)
            case .bootstrap:
                methods[metric.rawValue] = Method.bootstrap(resamples: resamples).name
                bootstrapped.append(metric)
            }
        }
        let bootstrap = bootstrapStandardErrors(bootstrapped, rows: labels.count, resamples: resamples, seed: seed,
                                                statistic: resampledStatistic(predictionsBySeed: predictionsBySeed, labels: labels))
        values.merge(bootstrap) { first, _ in first }
        return (values, methods)
    }

    /// The mean over seeds of a metric on a resample (row indices, with repeats). F1 and MCC depend only on
    /// the counts of (label, prediction) pairs, so a classification resample is counted into a confusion
    /// matrix over all the task's classes (a class a resample lacks adds zeros only) instead of copied;
    /// correlations are computed on the resampled values.
    static func resampledStatistic(predictionsBySeed: [[Double]], labels: [Double]) -> (MetricName, [Int]) -> Double {
        let classIDs = labels.map { Int($0) }
        let predictedIDs = predictionsBySeed.map { $0.map { Int($0) } }
        let classes = ConfusionMatrix(classes: Set(predictedIDs.joined()).union(classIDs).sorted())
        let cellsBySeed = predictedIDs.map { classes.cells(predictions: $0, labels: classIDs) }
        return { metric, rows in
            let perSeed = predictionsBySeed.indices.map { seed -> Double in
                switch metric {
                case .f1, .mcc:
                    var confusion = classes
                    for row in rows { confusion.counts[cellsBySeed[seed][row]] += 1 }
                    return metric == .f1 ? Metrics.f1(confusion) : Metrics.matthewsCorrelation(confusion)
                case .acc, .pearson, .spearmanr:
                    return Metrics.value(metric, predictions: rows.map { predictionsBySeed[seed][$0] }, labels: rows.map { labels[$0] })
                }
            }
            return perSeed.reduce(0, +) / Double(perSeed.count)
        }
    }

    /// lm-eval's `mean_stderr`: the sample standard deviation (ddof = 1) over √n; nil below 2 values.
    public static func meanStandardError(_ values: [Double]) -> Double? {
        guard values.count > 1, let deviation = Metrics.meanAndSampleStandardDeviation(values).standardDeviation else { return nil }
        return deviation / Double(values.count).squareRoot()
    }

    /// The bootstrap standard error of each of `metrics`, whose value on a resample (row indices, with
    /// repeats) `statistic` gives. Every metric sees the same resamples. nil (absent) for a metric whose value on
    /// all rows is undefined or that has fewer than 2 defined resamples.
    static func bootstrapStandardErrors(_ metrics: [MetricName], rows: Int, resamples: Int, seed: UInt64,
                                        statistic: (MetricName, [Int]) -> Double) -> [String: Double] {
        guard rows > 1, !metrics.isEmpty else { return [:] }
        let all = Array(0..<rows)
        let measured = metrics.filter { statistic($0, all).isFinite }
        var replicates = [[Double]](repeating: [], count: measured.count)
        for index in replicates.indices { replicates[index].reserveCapacity(resamples) }
        var generator = SplitMix64(state: seed)
        var sample = [Int](repeating: 0, count: rows)
        for _ in 0..<resamples {
            for k in 0..<rows { sample[k] = uniformIndex(below: rows, &generator) }
            for (index, metric) in measured.enumerated() {
                let value = statistic(metric, sample)
                if value.isFinite { replicates[index].append(value) }
            }
        }
        var out: [String: Double] = [:]
        for (index, metric) in measured.enumerated() where replicates[index].count > 1 {
            out[metric.rawValue] = Metrics.meanAndSampleStandardDeviation(replicates[index]).standardDeviation
        }
        return out
    }

    /// An index in 0..<n from one 64-bit draw by multiply-high (Lemire), spelled out rather than the standard
    /// library's `Int.random(in:using:)`, whose algorithm no Swift version promises to keep. Its bias, below
    /// n / 2⁶⁴, is far under anything a bootstrap can see.
    static func uniformIndex(below n: Int, _ generator: inout SplitMix64) -> Int {
        Int(generator.next().multipliedFullWidth(by: UInt64(n)).high)
    }
}
