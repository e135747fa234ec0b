extension Kernels {
    /// LayerNorm over rows of `width` with gain and bias (the patch embedding's, SPEC 3.2, eps 1e-5):
    /// (x − μ)/√(σ² + eps) · γ + β with the biased variance; statistics in fp64.
    public static func layerNorm(
        _ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>,
        weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>, rows: Int, width: Int, eps: Float
    ) {
        precondition(weight.count == width && bias.count == width && x.count >= rows * width && out.count >= rows * width)
        for r in 0..<rows {
            let base = r * width
            var sum: Double = 0
            for i in 0..<width { sum += Double(x[base + i]) }
            let mean = sum / Double(width)
            var squares: Double = 0
            for i in 0..<width {
                let d = Double(x[base + i]) - mean
                squares += d * d
            }
            let rstd = Float(1 / (squares / Double(width) + Double(eps)).squareRoot())
            let meanF = Float(mean)
            for i in 0..<width { out[base + i] = (x[base + i] - meanF) * rstd * weight[i] + bias[i] }
        }
    }

    /// Scalar reference of `layerNorm`: the formula in fp64 throughout.
    public static func layerNormReference(
        _ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>,
        weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>, rows: Int, width: Int, eps: Float
    ) {
        for r in 0..<rows {
            let row = (0..<width).map { Double(x[r * width + $0]) }
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
            for i in 0..<width {
                out[r * width + i] = Float((row[i] - mean) / (variance + Double(eps)).squareRoot() * Double(weight[i]) + Double(bias[i]))
            }
        }
    }
}
