extension Kernels {
    /// RMSNorm over rows of `width` (SPEC 3.6.2, 11.1): y = w · (x / √(mean(x²) + eps)); the weight applied
    /// after normalising, no bias and no mean subtraction. Statistics in fp32 over 16 partial sums, as
    /// torch keeps them in fp32 (SPEC 3.8); rows split over threads when there are many.
    public static func rmsNorm(
        _ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>,
        rows: Int, width: Int, eps: Float, threads: Int = 1
    ) {
        precondition(weight.count == width && x.count >= rows * width && out.count >= rows * width)
        let lanes = FloatVector.scalarCount, vectorWidth = width - width % lanes
        // Row splits only pay for themselves on large passes (≥ 1M values a worker: 2048 rows of a
        // base-size layer split, the small preset's 2048 × 256 does not; measured with pixelgpt bench).
        KernelThreads.parallelRanges(rows, threads: threads, minimumPerWorker: max(1, 1_048_576 / max(width, 1))) { range in
            for r in range {
                let xs = x.baseAddress! + r * width, ys = out.baseAddress! + r * width
                var squares = FloatVector()
                var i = 0
                while i < vectorWidth {
                    let v = UnsafeRawPointer(xs + i).loadUnaligned(as: FloatVector.self)
                    squares += v * v
                    i += lanes
                }
                var sumSquares = squares.sum()
                for j in vectorWidth..<width { sumSquares += xs[j] * xs[j] }
                let scale = 1 / (sumSquares / Float(width) + eps).squareRoot()
                i = 0
                while i < vectorWidth {
                    let v = UnsafeRawPointer(xs + i).loadUnaligned(as: FloatVector.self)
                    let w = UnsafeRawPointer(weight.baseAddress! + i).loadUnaligned(as: FloatVector.self)
                    UnsafeMutableRawPointer(ys + i).storeBytes(of: w * (v * scale), as: FloatVector.self)
                    i += lanes
                }
                for j in vectorWidth..<width { ys[j] = weight[j] * (xs[j] * scale) }
            }
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
