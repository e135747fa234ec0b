import Foundation

extension Kernels {
    /// The SwiGLU gate (SPEC 3.6.7): out = silu(gate) ⊙ up with silu(z) = z·σ(z) = z / (1 + e^−z), 16 lanes
    /// at a time with the vector exp; split over threads when large. `out` may alias `gate`.
    public static func swiGLU(_ out: UnsafeMutableBufferPointer<Float>, gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>) {
        precondition(gate.count == up.count && out.count >= gate.count)
        let lanes = FloatVector.scalarCount, count = gate.count
        let blocks = count / lanes
        KernelThreads.parallelRanges(blocks, minimumPerWorker: 32_768) { range in
            let g = gate.baseAddress!, u = up.baseAddress!, o = out.baseAddress!
            for block in range {
                let i = block * lanes
                let z = UnsafeRawPointer(g + i).loadUnaligned(as: FloatVector.self)
                let v = UnsafeRawPointer(u + i).loadUnaligned(as: FloatVector.self)
                UnsafeMutableRawPointer(o + i).storeBytes(of: z / (1 + exp(-z)) * v, as: FloatVector.self)
            }
        }
        for i in (blocks * lanes)..<count {
            let z = gate[i]
            out[i] = z / (1 + expf(-z)) * up[i]
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
