import Foundation

/// A bias-free linear head on pooled features, the shape of upstream's `score` (SPEC 4): logits = W x with
/// W [numLabels, H]. `--head probe` trains it here from cached features: multinomial logistic regression
/// (cross-entropy + L2) for classification, ridge least squares for regression (STS-B, one output). Both
/// problems are strictly convex, so the solution is unique and checked against scikit-learn.
public struct LinearProbe: Sendable, Equatable {
    public let numLabels: Int
    public let featureSize: Int
    /// Row-major [numLabels, featureSize].
    public var weight: [Double]

    public func logits(_ features: ArraySlice<Float>) -> [Double] {
        (0..<numLabels).map { k in
            var sum = 0.0
            for (j, x) in features.enumerated() { sum += weight[k * featureSize + j] * Double(x) }
            return sum
        }
    }

    /// Minimises sum_i CE(W x_i, y_i) + (l2 / 2) ||W||^2 (scikit-learn's LogisticRegression with
    /// fit_intercept=False and C = 1 / l2) by L-BFGS.
    public static func logisticRegression(
        features: [Float], labels: [Int], featureSize: Int, numLabels: Int, l2: Double, maxIterations: Int = 500
    ) -> LinearProbe {
        let n = labels.count
        precondition(features.count == n * featureSize && numLabels >= 2)
        let x = features.map(Double.init)
        func objective(_ w: [Double]) -> (Double, [Double]) {
            var loss = 0.0
            var gradient = w.map { $0 * l2 }
            loss += 0.5 * l2 * w.reduce(0) { $0 + $1 * $1 }
            var z = [Double](repeating: 0, count: numLabels)
            for i in 0..<n {
                let row = i * featureSize
                for k in 0..<numLabels {
                    var s = 0.0
                    for j in 0..<featureSize { s += w[k * featureSize + j] * x[row + j] }
                    z[k] = s
                }
                let m = z.max()!
                let sumExp = z.reduce(0) { $0 + exp($1 - m) }
                loss += m + log(sumExp) - z[labels[i]]
                for k in 0..<numLabels {
                    let p = exp(z[k] - m) / sumExp - (k == labels[i] ? 1 : 0)
                    for j in 0..<featureSize { gradient[k * featureSize + j] += p * x[row + j] }
                }
            }
            return (loss, gradient)
        }
        let w = LBFGS.minimize(objective, start: [Double](repeating: 0, count: numLabels * featureSize), maxIterations: maxIterations)
        return LinearProbe(numLabels: numLabels, featureSize: featureSize, weight: w)
    }

    /// Minimises sum_i (w . x_i - y_i)^2 + l2 ||w||^2 (scikit-learn's Ridge with fit_intercept=False and
    /// alpha = l2) in closed form: (X^T X + l2 I) w = X^T y, by Cholesky.
    public static func ridgeRegression(features: [Float], targets: [Double], featureSize: Int, l2: Double) -> LinearProbe {
        let n = targets.count, d = featureSize
        precondition(features.count == n * d)
        var gram = [Double](repeating: 0, count: d * d)
        var rhs = [Double](repeating: 0, count: d)
        for i in 0..<n {
            let row = i * d
            for a in 0..<d {
                let xa = Double(features[row + a])
                rhs[a] += xa * targets[i]
                for b in 0...a { gram[a * d + b] += xa * Double(features[row + b]) }
            }
        }
        for a in 0..<d {
            gram[a * d + a] += l2
            for b in 0..<a { gram[b * d + a] = gram[a * d + b] }
        }
        return LinearProbe(numLabels: 1, featureSize: d, weight: CholeskySolver.solve(gram, rhs, size: d))
    }
}

/// Limited-memory BFGS with a backtracking (Armijo) line search: small, deterministic, and enough for the
/// smooth convex objectives of probe training.
enum LBFGS {
    static func minimize(
        _ f: ([Double]) -> (Double, [Double]), start: [Double], maxIterations: Int, memory: Int = 10, tolerance: Double = 1e-10
    ) -> [Double] {
        var x = start
        var (value, gradient) = f(x)
        var s: [[Double]] = [], y: [[Double]] = []
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        for _ in 0..<maxIterations {
            let gradientNorm = dot(gradient, gradient).squareRoot()
            if gradientNorm <= tolerance * max(1, dot(x, x).squareRoot()) { break }
            // Two-loop recursion for the search direction.
            var q = gradient
            var alphas: [Double] = []
            for (si, yi) in zip(s, y).reversed() {
                let alpha = dot(si, q) / dot(yi, si)
                alphas.append(alpha)
                for j in q.indices { q[j] -= alpha * yi[j] }
            }
            if let sl = s.last, let yl = y.last {
                let scale = dot(sl, yl) / dot(yl, yl)
                for j in q.indices { q[j] *= scale }
            } else {
                for j in q.indices { q[j] /= max(1, gradientNorm) }
            }
            for ((si, yi), alpha) in zip(zip(s, y), alphas.reversed()) {
                let beta = dot(yi, q) / dot(yi, si)
                for j in q.indices { q[j] += si[j] * (alpha - beta) }
            }
            let direction = q.map { -$0 }
            var slope = dot(direction, gradient)
            var descent = direction
            if slope >= 0 {  // not a descent direction (numerical trouble): restart with steepest descent
                s.removeAll(); y.removeAll()
                descent = gradient.map { -$0 }
                slope = -dot(gradient, gradient)
            }
            var step = 1.0
            var next = x, nextValue = value, nextGradient = gradient
            while step > 1e-20 {
                next = zip(x, descent).map { $0 + step * $1 }
                (nextValue, nextGradient) = f(next)
                if nextValue <= value + 1e-4 * step * slope { break }
                step *= 0.5
            }
            if step <= 1e-20 { break }
            let sk = zip(next, x).map { $0 - $1 }, yk = zip(nextGradient, gradient).map { $0 - $1 }
            if dot(sk, yk) > 1e-12 {
                s.append(sk); y.append(yk)
                if s.count > memory { s.removeFirst(); y.removeFirst() }
            }
            let improvement = value - nextValue
            (x, value, gradient) = (next, nextValue, nextGradient)
            if improvement <= 1e-15 * max(1, abs(value)) { break }
        }
        return x
    }
}

/// Solves a symmetric positive definite system A x = b (row-major A) by Cholesky factorisation.
enum CholeskySolver {
    static func solve(_ a: [Double], _ b: [Double], size n: Int) -> [Double] {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var sum = a[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = i == j ? max(sum, 1e-300).squareRoot() : sum / l[j * n + j]
            }
        }
        var z = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var sum = b[i]
            for k in 0..<i { sum -= l[i * n + k] * z[k] }
            z[i] = sum / l[i * n + i]
        }
        var x = [Double](repeating: 0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var sum = z[i]
            for k in (i + 1)..<n { sum -= l[k * n + i] * x[k] }
            x[i] = sum / l[i * n + i]
        }
        return x
    }
}

extension LinearProbe {
    /// Logits by row index of `rows`, whose features lie in `features` in the same order.
    func logits(of features: [Float], rows: [ExampleRow]) -> [Int: [Double]] {
        Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($0.element.index, logits(features[($0.offset * featureSize)..<(($0.offset + 1) * featureSize)])) })
    }
}
