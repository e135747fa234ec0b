import Foundation

extension Kernels {
    /// In-place softmax of one row in fp32 (SPEC 3.6.6): subtract the max, exponentiate, normalise.
    public static func softmax(_ row: UnsafeMutableBufferPointer<Float>) {
        guard !row.isEmpty else { return }
        var maximum = -Float.infinity
        for v in row where v > maximum { maximum = v }
        var sum: Float = 0
        for i in row.indices {
            let e = expf(row[i] - maximum)
            row[i] = e
            sum += e
        }
        for i in row.indices { row[i] /= sum }
    }

    /// Scalar reference of `softmax` in fp64.
    public static func softmaxReference(_ row: UnsafeMutableBufferPointer<Float>) {
        guard let maximum = row.max() else { return }
        let exps = row.map { exp(Double($0) - Double(maximum)) }
        let sum = exps.reduce(0, +)
        for i in row.indices { row[i] = Float(exps[i] / sum) }
    }
}
