import CGEMM

/// The model's kernels: plain functions over buffers, each beside a scalar reference that the tests hold
/// it against (llm.c's dev/cpu layout). Every kernel computes each output element with one fixed order of
/// operations that depends on nothing but that element's own inputs: not on the batch, the row's place in
/// it, the padding, or the thread count (`threads`, split by `KernelThreads`). That is what makes the
/// forward pass batch- and thread-invariant (docs/numerics.md).
public enum Kernels {}

extension Kernels {
    /// A Linear layer over many rows: out[r, n] = Σ_k x[r, k] · w[n, k] + bias[n], i.e. y = x·Wᵀ + b with W
    /// stored [out_features, in_features] (SPEC 2.3) and packed once with its bias (`PackedMatrix`). Each
    /// sum is one chain of fused multiply-adds from zero in k order; the bias is added after it, and with
    /// `accumulate` the result is added to what `out` holds (the residual connection of SPEC 3.6.1, in the
    /// GEMM's epilogue instead of a separate pass over the activations).
    public static func linear(
        _ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, _ w: PackedMatrix,
        rows: Int, accumulate: Bool = false, threads: Int = 1
    ) {
        linears(x, rows: rows, [LinearOutput(out, w, accumulate: accumulate)], threads: threads)
    }

    /// One product of `linears`.
    public struct LinearOutput {
        let out: UnsafeMutableBufferPointer<Float>
        let weight: PackedMatrix
        let accumulate: Bool

        public init(_ out: UnsafeMutableBufferPointer<Float>, _ weight: PackedMatrix, accumulate: Bool = false) {
            (self.out, self.weight, self.accumulate) = (out, weight, accumulate)
        }
    }

    /// Several Linear layers over the same input (q, k and v; gate and up): x is packed once for all of them.
    /// The same bits as one `linear` each.
    public static func linears(_ x: UnsafeBufferPointer<Float>, rows: Int, _ outputs: [LinearOutput], threads: Int = 1) {
        guard let first = outputs.first, rows > 0 else { return }
        let k = first.weight.columns, isa = first.weight.instructionSet
        precondition(outputs.count <= 8 && x.count >= rows * k)
        for o in outputs {
            precondition(o.weight.columns == k && o.weight.instructionSet == isa && o.out.count >= rows * o.weight.rows)
        }
        let targets = outputs.map {
            pgpt_gemm_target(out: $0.out.baseAddress, ldo: Int64($0.weight.rows), packed: $0.weight.values, n: Int64($0.weight.rows),
                             bias: $0.weight.bias, init: $0.accumulate ? PGPT_INIT_OUT : PGPT_INIT_ZERO)
        }
        let widest = outputs.map(\.weight.rows).max()!, panels = (widest + isa.panelWidth - 1) / isa.panelWidth
        // Below about a million multiply-adds a second thread costs more than it saves.
        let workers = rows * outputs.reduce(0) { $0 + $1.weight.rows } * k < 1 << 20 ? 1 : threads
        // Split the rows when there are enough (each worker packs only its own rows; the packed weights
        // are shared), else the output columns of a single product; either split leaves every element's
        // chain as it is.
        let rowTiles = (rows + isa.rowTile - 1) / isa.rowTile
        let byPanels = outputs.count == 1 && rowTiles < 4 * workers && panels > rowTiles
        targets.withUnsafeBufferPointer { t in
            KernelThreads.parallelRanges(byPanels ? panels : rowTiles, threads: workers) { range in
                let rowRange = byPanels ? 0..<rows : (range.lowerBound * isa.rowTile)..<min(rows, range.upperBound * isa.rowTile)
                let panelRange = byPanels ? range : 0..<panels
                let status = pgpt_gemm_many(isa.c, x.baseAddress, Int64(k), Int64(k), t.baseAddress, Int32(t.count),
                                            Int64(rowRange.lowerBound), Int64(rowRange.upperBound),
                                            Int64(panelRange.lowerBound), Int64(panelRange.upperBound))
                precondition(status == 0, "out of memory for the GEMM's row panels")
            }
        }
    }

    /// The same with W (and the bias) given unpacked, W [out, in] row-major, packed for this call: weights
    /// that change between calls (the training tail's parameters).
    public static func linear(
        _ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
        bias: UnsafeBufferPointer<Float>?, rows: Int, inFeatures: Int, outFeatures: Int, accumulate: Bool = false,
        threads: Int = 1
    ) {
        precondition(w.count == outFeatures * inFeatures)
        let packed = PackedMatrix(w, rows: outFeatures, columns: inFeatures, bias: bias)
        linear(out, x, packed, rows: rows, accumulate: accumulate, threads: threads)
    }

    /// out = x·Wᵀ over the first `n` rows of a packed W, x row-major (leading dimension ldx) and read in place:
    /// attention's scores against a prefix of its keys. One thread; the same chains as `linear`.
    static func gemm(_ out: UnsafeMutablePointer<Float>, leading ldo: Int, _ x: UnsafePointer<Float>, leading ldx: Int,
                     _ w: PackedMatrix, rows: Int, n: Int) {
        precondition(n <= w.rows)
        let panel = w.instructionSet.panelWidth
        let status = pgpt_gemm_direct(w.instructionSet.c, out, Int64(ldo), x, Int64(ldx), w.values, Int64(w.columns * panel),
                                      Int64(panel), Int64(rows), Int64(n), Int64(w.columns))
        precondition(status == 0, "out of memory for the GEMM's scratch rows")
    }

    /// out = x·M for x row-major [rows, k] and M k-major [k, ≥ n] (leading dimension ldm, a whole number of
    /// GEMM panels wide, zeros past n), both read in place: attention's probabilities times its values.
    static func gemm(_ out: UnsafeMutablePointer<Float>, leading ldo: Int, _ x: UnsafePointer<Float>, leading ldx: Int,
                     kMajor m: UnsafePointer<Float>, leading ldm: Int, rows: Int, n: Int, k: Int, instructionSet isa: GEMMInstructionSet) {
        precondition(ldm % isa.panelWidth == 0 && ldm >= n)
        let status = pgpt_gemm_direct(isa.c, out, Int64(ldo), x, Int64(ldx), m, Int64(isa.panelWidth), Int64(ldm),
                                      Int64(rows), Int64(n), Int64(k))
        precondition(status == 0, "out of memory for the GEMM's scratch rows")
    }

    /// Scalar reference of `linear`: the same arithmetic written out, one fused multiply-add per product in
    /// k order from zero, then the bias, then (with `accumulate`) the residual held in `out`. The GEMM must
    /// equal it bit for bit on every instruction set.
    public static func linearReference(
        _ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
        bias: UnsafeBufferPointer<Float>?, rows: Int, inFeatures: Int, outFeatures: Int, accumulate: Bool = false
    ) {
        for r in 0..<rows {
            for n in 0..<outFeatures {
                var sum: Float = 0
                for k in 0..<inFeatures { sum = sum.addingProduct(x[r * inFeatures + k], w[n * inFeatures + k]) }
                if let bias { sum = sum + bias[n] }
                out[r * outFeatures + n] = accumulate ? out[r * outFeatures + n] + sum : sum
            }
        }
    }
}
