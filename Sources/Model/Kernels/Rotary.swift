extension Kernels {
    /// RoPE in place, HF rotate-half convention (SPEC 3.6.4, 11.2): in every head, dimension m is paired
    /// with m + d/2: (x₁, x₂) → (x₁·cos − x₂·sin, x₂·cos + x₁·sin). Row r sits at `positions[r]`; the
    /// tables hold d/2 values per position (the upstream tables repeat them twice).
    public static func rotary(
        _ x: UnsafeMutableBufferPointer<Float>, rows: Int, heads: Int, headDim: Int, positions: UnsafeBufferPointer<Int>,
        cos: UnsafeBufferPointer<Float>, sin: UnsafeBufferPointer<Float>
    ) {
        let half = headDim / 2, width = heads * headDim
        precondition(positions.count == rows && x.count >= rows * width)
        for r in 0..<rows {
            let table = positions[r] * half
            for h in 0..<heads {
                let base = r * width + h * headDim
                for m in 0..<half {
                    let x1 = x[base + m], x2 = x[base + m + half]
                    let c = cos[table + m], s = sin[table + m]
                    x[base + m] = x1 * c - x2 * s
                    x[base + m + half] = x2 * c + x1 * s
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
