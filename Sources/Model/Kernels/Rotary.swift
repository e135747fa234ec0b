extension Kernels {
    /// RoPE in place, HF rotate-half convention (SPEC 3.6.4, 11.2): in every head, dimension m is paired
    /// with m + d/2: (x₁, x₂) → (x₁·cos − x₂·sin, x₂·cos + x₁·sin). Row r sits at `positions[r]`; the
    /// tables hold d/2 values per position (the upstream tables repeat them twice). 16 lanes at a time.
    public static func rotary(
        _ x: UnsafeMutableBufferPointer<Float>, rows: Int, heads: Int, headDim: Int, positions: UnsafeBufferPointer<Int>,
        cos: UnsafeBufferPointer<Float>, sin: UnsafeBufferPointer<Float>
    ) {
        let half = headDim / 2, width = heads * headDim, lanes = FloatVector.scalarCount
        let vectorHalf = half - half % lanes
        precondition(positions.count == rows && x.count >= rows * width)
        for r in 0..<rows {
            precondition(cos.count >= (positions[r] + 1) * half && sin.count >= (positions[r] + 1) * half)
            let c = cos.baseAddress! + positions[r] * half, s = sin.baseAddress! + positions[r] * half
            for h in 0..<heads {
                let base = x.baseAddress! + r * width + h * headDim
                var m = 0
                while m < vectorHalf {
                    let x1 = UnsafeRawPointer(base + m).loadUnaligned(as: FloatVector.self)
                    let x2 = UnsafeRawPointer(base + m + half).loadUnaligned(as: FloatVector.self)
                    let cv = UnsafeRawPointer(c + m).loadUnaligned(as: FloatVector.self)
                    let sv = UnsafeRawPointer(s + m).loadUnaligned(as: FloatVector.self)
                    UnsafeMutableRawPointer(base + m).storeBytes(of: x1 * cv - x2 * sv, as: FloatVector.self)
                    UnsafeMutableRawPointer(base + m + half).storeBytes(of: x2 * cv + x1 * sv, as: FloatVector.self)
                    m += lanes
                }
                for m in vectorHalf..<half {
                    let x1 = base[m], x2 = base[m + half]
                    base[m] = x1 * c[m] - x2 * s[m]
                    base[m + half] = x2 * c[m] + x1 * s[m]
                }
            }
        }
    }

    /// Scalar reference of `rotary`, written as upstream does it: q⊙cos + rotate_half(q)⊙sin over the full
    /// head with the tables repeated twice and rotate_half(x) = [−x[d/2:], x[:d/2]].
    public static func rotaryReference(
        _ x: UnsafeMutableBufferPointer<Float>, rows: Int, heads: Int, headDim: Int, positions: UnsafeBufferPointer<Int>,
        cos: UnsafeBufferPointer<Float>, sin: UnsafeBufferPointer<Float>
    ) {
        let half = headDim / 2
        for r in 0..<rows {
            let p = positions[r]
            let fullCos = (0..<headDim).map { cos[p * half + $0 % half] }
            let fullSin = (0..<headDim).map { sin[p * half + $0 % half] }
            for h in 0..<heads {
                let base = r * heads * headDim + h * headDim
                let q = (0..<headDim).map { x[base + $0] }
                let rotated = (0..<headDim).map { $0 < half ? -q[$0 + half] : q[$0 - half] }
                for i in 0..<headDim { x[base + i] = q[i] * fullCos[i] + rotated[i] * fullSin[i] }
            }
        }
    }
}
