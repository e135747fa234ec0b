extension Kernels {
    /// RMSNorm over rows of `width` (SPEC 3.6.2, 11.1): y = w · (x / √(mean(x²) + eps)); statistics in
    /// fp64, the weight applied after normalising, no bias and no mean subtraction.
    public static func rmsNorm(
        _ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>,
        rows: Int, width: Int, eps: Float
    ) {
        precondition(weight.count == width && x.count >= rows * width && out.count >= rows * width)
        for r in 0..<rows {
            let base = r * width
            var sumSquares: Double = 0
            for i in 0..<width {
                let v = Double(x[base + i])
                sumSquares += v * v
            }
            // torch: rsqrt(variance + eps) in fp32; fp64 here then rounded once.
            let scale = Float(1 / (sumSquares / Double(width) + Double(eps)).squareRoot())
            for i in 0..<width { out[base + i] = weight[i] * (x[base + i] * scale) }
        }
    }

    /// Scalar reference of `rmsNorm`, written from the formula with a two-pass fp64 evaluation.
    public static func rmsNormReference(
        _ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>,
        rows: Int, width: Int, eps: Float
    ) {
        for r in 0..<rows {
            let row = (0..<width).map { Double(x[r * width + $0]) }
            let meanSquare = row.reduce(0) { $0 + $1 * $1 } / Double(width)
            let inverse = 1 / (meanSquare + Double(eps)).squareRoot()
            for i in 0..<width { out[r * width + i] = Float(Double(weight[i]) * row[i] * inverse) }
        }
    }
}
