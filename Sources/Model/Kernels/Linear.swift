import COpenBLAS

/// The model's kernels: plain functions over buffers, each beside a scalar reference that the tests hold
/// it against (llm.c's dev/cpu layout). One level of parallelism: OpenBLAS threads inside the GEMMs.
public enum Kernels {}

extension Kernels {
    /// A Linear layer over many rows: out[r, n] = Σ_k x[r, k] · w[n, k] + bias[n], i.e. y = x·Wᵀ + b with W
    /// stored [out_features, in_features] (SPEC 2.3). One OpenBLAS SGEMM.
    public static func linear(
        _ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
        bias: UnsafeBufferPointer<Float>?, rows: Int, inFeatures: Int, outFeatures: Int
    ) {
        precondition(x.count >= rows * inFeatures && w.count == outFeatures * inFeatures && out.count >= rows * outFeatures)
        guard rows > 0, outFeatures > 0 else { return }
        var beta: Float = 0
        if let bias {
            precondition(bias.count == outFeatures)
            for r in 0..<rows {
                _ = UnsafeMutableBufferPointer(rebasing: out[(r * outFeatures)..<((r + 1) * outFeatures)]).update(fromContentsOf: bias)
            }
            beta = 1
        }
        guard inFeatures > 0 else {
            if bias == nil { out.update(repeating: 0) }
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
