import Foundation

/// The metrics the original reports (SPEC 7.1, HF `evaluate`'s glue metric): accuracy, binary F1 with
/// positive class 1, Matthews correlation (0 when undefined, as scikit-learn), Pearson and Spearman (average
/// ranks for ties, as scipy). Values are fractions; reports multiply by 100.
public enum MetricName: String, Decodable, Sendable, CaseIterable {
    case acc, f1, mcc, pearson, spearmanr

    public var isRegression: Bool { self == .pearson || self == .spearmanr }
}

public enum Metrics {
    public static func accuracy(predictions: [Int], labels: [Int]) -> Double {
        precondition(predictions.count == labels.count)
        guard !labels.isEmpty else { return 0 }
        return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// Binary F1 of class 1: 2TP / (2TP + FP + FN); 0 when there are no positives at all.
    public static func f1(predictions: [Int], labels: [Int]) -> Double {
        var tp = 0, fp = 0, fn = 0
        for (p, l) in zip(predictions, labels) {
            if p == 1 && l == 1 { tp += 1 } else if p == 1 { fp += 1 } else if l == 1 { fn += 1 }
        }
        let denominator = 2 * tp + fp + fn
        return denominator == 0 ? 0 : Double(2 * tp) / Double(denominator)
    }

    /// Matthews correlation for any number of classes (scikit-learn's multiclass formula, which reduces to
    /// the binary one); 0 when a denominator is 0.
    public static func matthewsCorrelation(predictions: [Int], labels: [Int]) -> Double {
        let classes = Set(predictions).union(labels).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var truth = [Double](repeating: 0, count: classes.count), predicted = truth
        var correct = 0.0
        for (p, l) in zip(predictions, labels) {
            truth[index[l]!] += 1
            predicted[index[p]!] += 1
            if p == l { correct += 1 }
        }
        let samples = Double(labels.count)
        let covariance = correct * samples - zip(truth, predicted).reduce(0) { $0 + $1.0 * $1.1 }
        let predictedSpread = samples * samples - predicted.reduce(0) { $0 + $1 * $1 }
        let truthSpread = samples * samples - truth.reduce(0) { $0 + $1 * $1 }
        guard predictedSpread > 0, truthSpread > 0 else { return 0 }
        return covariance / (predictedSpread * truthSpread).squareRoot()
    }

    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count)
        let n = Double(x.count)
        guard n > 1 else { return .nan }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        guard sxx > 0, syy > 0 else { return .nan }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Spearman's rho: Pearson on ranks, tied values sharing their average rank (scipy.stats.spearmanr).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        pearson(averageRanks(x), averageRanks(y))
    }

    static func averageRanks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let rank = Double(start + end) / 2 + 1
            for k in start...end { ranks[order[k]] = rank }
            start = end + 1
        }
        return ranks
    }

    /// The value of `metric` for classification predictions or regression scores.
    public static func value(_ metric: MetricName, predictions: [Double], labels: [Double]) -> Double {
        switch metric {
        case .acc: accuracy(predictions: predictions.map { Int($0) }, labels: labels.map { Int($0) })
        case .f1: f1(predictions: predictions.map { Int($0) }, labels: labels.map { Int($0) })
        case .mcc: matthewsCorrelation(predictions: predictions.map { Int($0) }, labels: labels.map { Int($0) })
        case .pearson: pearson(predictions, labels)
        case .spearmanr: spearman(predictions, labels)
        }
    }

    /// HF's combined_score: the mean of a task's metrics when it has more than one.
    public static func combinedScore(_ values: [Double]) -> Double? {
        values.count > 1 ? values.reduce(0, +) / Double(values.count) : nil
    }

    /// Mean and sample standard deviation (ddof = 1, numpy.std(ddof=1)) of per-seed values; the deviation
    /// is nil for fewer than two values.
    public static func meanAndSampleStandardDeviation(_ values: [Double]) -> (mean: Double, standardDeviation: Double?) {
        guard !values.isEmpty else { return (.nan, nil) }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, nil) }
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (mean, (squares / Double(values.count - 1)).squareRoot())
    }
}
