import Foundation

extension Kernels {
    /// The SwiGLU gate (SPEC 3.6.7): out = silu(gate) ⊙ up with silu(z) = z·σ(z) = z / (1 + e^−z), 16 lanes
    /// at a time with the vector exp; split over threads when large. `out` may alias `gate`.
    public static func swiGLU(_ out: UnsafeMutableBufferPointer<Float>, gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>, threads: Int = 1) {
        precondition(gate.count == up.count && out.count >= gate.count)
        let lanes = FloatVector.scalarCount, count = gate.count
        let blocks = count / lanes
        KernelThreads.parallelRanges(blocks, threads: threads, minimumPerWorker: 32_768) { range in
            let g = gate.baseAddress!, u = up.baseAddress!, o = out.baseAddress!
            for block in range {
                let i = block * lanes
                let z = UnsafeRawPointer(g + i).loadUnaligned(as: FloatVector.self)
                let v = UnsafeRawPointer(u + i).loadUnaligned(as: FloatVector.self)
                UnsafeMutableRawPointer(o + i).storeBytes(of: z / (1 + exp(-z)) * v, as: FloatVector.self)
            }
        }
        // The last partial vector through the same vector exp, so an element's result never depends on
        // where the buffer ends (the number of rows in the batch).
        let rest = count - blocks * lanes
        if rest > 0 {
            var z = FloatVector(), u = FloatVector()
            for j in 0..<rest { (z[j], u[j]) = (gate[blocks * lanes + j], up[blocks * lanes + j]) }
            let y = z / (1 + exp(-z)) * u
            for j in 0..<rest { out[blocks * lanes + j] = y[j] }
        }
    }

    /// Scalar reference of `swiGLU` in fp64.
    public static func swiGLUReference(_ out: UnsafeMutableBufferPointer<Float>, gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>) {
        for i in 0..<gate.count {
            let z = Double(gate[i])
            out[i] = Float(z * (1 / (1 + Foundation.exp(-z))) * Double(up[i]))
        }
    }
}
