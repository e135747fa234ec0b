import Foundation

extension Kernels {
    /// In-place softmax of one row in fp32 (SPEC 3.6.6): subtract the max, exponentiate, normalise.
    public static func softmax(_ row: UnsafeMutableBufferPointer<Float>) {
        guard !row.isEmpty else { return }
        let zeros = [Float](repeating: 0, count: row.count)
        zeros.withUnsafeBufferPointer { _ = maskedSoftmax(row.baseAddress!, visible: row.count, total: row.count, additive: $0.baseAddress!) }
    }

    /// The attention's softmax of one score row, 16 lanes at a time: entries 0 ..< visible plus
    /// `additive` (0, or −∞ for a masked key) are normalised, entries visible ..< total (keys after the
    /// query's position) are set to 0. Returns false, leaving the row untouched, when no entry is visible.
    @inline(__always)
    static func maskedSoftmax(_ row: UnsafeMutablePointer<Float>, visible: Int, total: Int, additive: UnsafePointer<Float>) -> Bool {
        let lanes = FloatVector.scalarCount, vectorCount = visible - visible % lanes
        var maxima = FloatVector(repeating: -.infinity)
        var i = 0
        while i < vectorCount {
            let value = UnsafeRawPointer(row + i).loadUnaligned(as: FloatVector.self) + UnsafeRawPointer(additive + i).loadUnaligned(as: FloatVector.self)
            UnsafeMutableRawPointer(row + i).storeBytes(of: value, as: FloatVector.self)
            maxima = Kernels.maximum(maxima, value)
            i += lanes
        }
        var maximum = largestLane(maxima)
        for j in vectorCount..<visible {
            row[j] += additive[j]
            maximum = Swift.max(maximum, row[j])
        }
        guard maximum > -.infinity else { return false }
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
        return true
    }

    /// Scalar reference of `softmax` in fp64.
    public static func softmaxReference(_ row: UnsafeMutableBufferPointer<Float>) {
        guard let maximum = row.max() else { return }
        let exps = row.map { Foundation.exp(Double($0) - Double(maximum)) }
        let sum = exps.reduce(0, +)
        for i in row.indices { row[i] = Float(exps[i] / sum) }
    }
}
