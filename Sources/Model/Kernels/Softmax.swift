import Foundation

extension Kernels {
    /// In-place softmax of one row in fp32 (SPEC 3.6.6): subtract the max, exponentiate, normalise.
    public static func softmax(_ row: UnsafeMutableBufferPointer<Float>) {
        guard !row.isEmpty else { return }
        maskedSoftmax(row.baseAddress!, visible: row.count, total: row.count)
    }

    /// The attention's softmax of one score row, 16 lanes at a time: entries 0 ..< visible (the query's
    /// visible keys) are normalised, entries visible ..< total (keys only later queries of its block see)
    /// are set to 0. A row whose entries are all −∞ is left untouched.
    @inline(__always)
    static func maskedSoftmax(_ row: UnsafeMutablePointer<Float>, visible: Int, total: Int) {
        let lanes = FloatVector.scalarCount, vectorCount = visible - visible % lanes
        var maxima = FloatVector(repeating: -.infinity)
        var i = 0
        while i < vectorCount {
            maxima = Kernels.maximum(maxima, UnsafeRawPointer(row + i).loadUnaligned(as: FloatVector.self))
            i += lanes
        }
        var maximum = largestLane(maxima)
        for j in vectorCount..<visible { maximum = Swift.max(maximum, row[j]) }
        guard maximum > -.infinity else { return }
        var sums = FloatVector()
        i = 0
        while i < vectorCount {
            let e = exp(UnsafeRawPointer(row + i).loadUnaligned(as: FloatVector.self) - maximum)
            UnsafeMutableRawPointer(row + i).storeBytes(of: e, as: FloatVector.self)
            sums += e
            i += lanes
        }
        var sum = sums.sum()
        for j in vectorCount..<visible {
            let e = row[j] == -.infinity ? 0 : expf(row[j] - maximum)
            row[j] = e
            sum += e
        }
        let inverse = 1 / sum
        i = 0
        while i < vectorCount {
            let value = UnsafeRawPointer(row + i).loadUnaligned(as: FloatVector.self) * inverse
            UnsafeMutableRawPointer(row + i).storeBytes(of: value, as: FloatVector.self)
            i += lanes
        }
        for j in vectorCount..<visible { row[j] *= inverse }
        if total > visible { (row + visible).update(repeating: 0, count: total - visible) }
    }

    /// Scalar reference of `softmax` in fp64.
    public static func softmaxReference(_ row: UnsafeMutableBufferPointer<Float>) {
        guard let maximum = row.max() else { return }
        let exps = row.map { Foundation.exp(Double($0) - Double(maximum)) }
        let sum = exps.reduce(0, +)
        for i in row.indices { row[i] = Float(exps[i] / sum) }
    }
}
