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
        f1(ConfusionMatrix(predictions: predictions, labels: labels))
    }

    static func f1(_ confusion: ConfusionMatrix) -> Double {
        guard let positive = confusion.classes.firstIndex(of: 1) else { return 0 }
        let tp = confusion.count(label: positive, prediction: positive)
        let fp = confusion.columnSum(positive) - tp, fn = confusion.rowSum(positive) - tp
        let denominator = 2 * tp + fp + fn
        return denominator == 0 ? 0 : Double(2 * tp) / Double(denominator)
    }

    /// Matthews correlation for any number of classes (scikit-learn's multiclass formula, which reduces to
    /// the binary one); 0 when a denominator is 0.
    public static func matthewsCorrelation(predictions: [Int], labels: [Int]) -> Double {
        matthewsCorrelation(ConfusionMatrix(predictions: predictions, labels: labels))
    }

    /// Classes with no row add zeros only, so a matrix over more classes than occur gives the same value.
    static func matthewsCorrelation(_ confusion: ConfusionMatrix) -> Double {
        let k = confusion.classes.count
        let truth = (0..<k).map { Double(confusion.rowSum($0)) }, predicted = (0..<k).map { Double(confusion.columnSum($0)) }
        let correct = Double((0..<k).reduce(0) { $0 + confusion.count(label: $1, prediction: $1) })
        let samples = Double(confusion.total)
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

/// Rows counted by (label, prediction) class: all that F1 and Matthews correlation depend on, so that a
/// bootstrap resample costs one count per row (`MetricStandardError`).
struct ConfusionMatrix {
    /// The class ids, ascending.
    let classes: [Int]
    /// Row-major by label then prediction, over `classes`' positions.
    var counts: [Int]

    init(classes: [Int]) {
        self.classes = classes
        counts = [Int](repeating: 0, count: classes.count * classes.count)
    }

    /// Over the classes that occur in either list.
    init(predictions: [Int], labels: [Int]) {
        precondition(predictions.count == labels.count)
        self.init(classes: Set(predictions).union(labels).sorted())
        for cell in cells(predictions: predictions, labels: labels) { counts[cell] += 1 }
    }

    /// Each row's position in `counts`; every id must be one of `classes`.
    func cells(predictions: [Int], labels: [Int]) -> [Int] {
        let position = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        return zip(labels, predictions).map { position[$0]! * classes.count + position[$1]! }
    }

    var total: Int { counts.reduce(0, +) }
    func count(label: Int, prediction: Int) -> Int { counts[label * classes.count + prediction] }
    func rowSum(_ label: Int) -> Int { (0..<classes.count).reduce(0) { $0 + count(label: label, prediction: $1) } }
    func columnSum(_ prediction: Int) -> Int { (0..<classes.count).reduce(0) { $0 + count(label: $1, prediction: prediction) } }
}
