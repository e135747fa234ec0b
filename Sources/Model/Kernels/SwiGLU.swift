import Foundation

extension Kernels {
    /// The SwiGLU gate (SPEC 3.6.7): out = silu(gate) ⊙ up with silu(z) = z·σ(z). `out` may alias `gate`.
    public static func swiGLU(_ out: UnsafeMutableBufferPointer<Float>, gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>) {
        precondition(gate.count == up.count && out.count >= gate.count)
        for i in 0..<gate.count {
            let z = gate[i]
            out[i] = z / (1 + expf(-z)) * up[i]
        }
    }

    /// Scalar reference of `swiGLU` in fp64.
    public static func swiGLUReference(_ out: UnsafeMutableBufferPointer<Float>, gate: UnsafeBufferPointer<Float>, up: UnsafeBufferPointer<Float>) {
        for i in 0..<gate.count {
            let z = Double(gate[i])
            out[i] = Float(z * (1 / (1 + exp(-z))) * Double(up[i]))
        }
    }
}
