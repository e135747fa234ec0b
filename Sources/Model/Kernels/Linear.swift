import COpenBLAS

/// The model's kernels: plain functions over buffers, each beside a scalar reference that the tests hold
/// it against (llm.c's dev/cpu layout). One level of parallelism at a time: OpenBLAS threads inside the
/// large GEMMs, Swift threads over the pieces of attention and the large elementwise passes (KernelThreads).
public enum Kernels {}

extension Kernels {
    /// A Linear layer over many rows: out[r, n] = Σ_k x[r, k] · w[n, k] + bias[n], i.e. y = x·Wᵀ + b with W
    /// stored [out_features, in_features] (SPEC 2.3). One OpenBLAS SGEMM. With `accumulate` the product is
    /// added to what `out` holds (sgemm's beta = 1): the residual connection of SPEC 3.6.1 without a
    /// separate pass over the activations.
    public static func linear(
        _ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
        bias: UnsafeBufferPointer<Float>?, rows: Int, inFeatures: Int, outFeatures: Int, accumulate: Bool = false
    ) {
        precondition(x.count >= rows * inFeatures && w.count == outFeatures * inFeatures && out.count >= rows * outFeatures)
        guard rows > 0, outFeatures > 0 else { return }
        var beta: Float = accumulate ? 1 : 0
        if let bias {
            precondition(bias.count == outFeatures)
            for r in 0..<rows {
                let row = UnsafeMutableBufferPointer(rebasing: out[(r * outFeatures)..<((r + 1) * outFeatures)])
                if accumulate {
                    for n in 0..<outFeatures { row[n] += bias[n] }
                } else {
                    _ = row.update(fromContentsOf: bias)
                }
            }
            beta = 1
        }
        guard inFeatures > 0 else {
            if bias == nil && !accumulate { out.update(repeating: 0) }
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outFeatures), Int32(inFeatures),
                    1, x.baseAddress, Int32(inFeatures), w.baseAddress, Int32(inFeatures), beta, out.baseAddress, Int32(outFeatures))
    }

    /// Scalar reference of `linear`, accumulating in Double.
    public static func linearReference(
        _ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
        bias: UnsafeBufferPointer<Float>?, rows: Int, inFeatures: Int, outFeatures: Int
    ) {
        for r in 0..<rows {
            for n in 0..<outFeatures {
                var sum = Double(bias?[n] ?? 0)
                for k in 0..<inFeatures { sum += Double(x[r * inFeatures + k]) * Double(w[n * inFeatures + k]) }
                out[r * outFeatures + n] = Float(sum)
            }
        }
    }
}
