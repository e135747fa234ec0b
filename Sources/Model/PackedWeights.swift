import Dispatch

/// The matrices of `PixelGPTWeights` packed for the GEMM (`PackedMatrix`), once per model: every
/// projection (with its bias), the patch projection and the heads. The norms and the token embedding table
/// are read where they are. After packing, the source pages of a memory-mapped checkpoint are handed back to
/// the kernel, so the packed copy replaces the mapping in memory instead of doubling it.
struct PackedWeights: Sendable {
    struct Layer: Sendable {
        /// Norm gains, read in place.
        let tensors: PixelGPTWeights.DecoderLayer
        let q: PackedMatrix, k: PackedMatrix, v: PackedMatrix, o: PackedMatrix
        let gate: PackedMatrix, up: PackedMatrix, down: PackedMatrix
    }

    let patchProjection: PackedMatrix?
    let layers: [Layer]
    let tokenHead: PackedMatrix?
    let pixelHead: PackedMatrix?
    let score: PackedMatrix?

    init(_ weights: PixelGPTWeights, threads: Int) {
        func pack(_ tensor: WeightTensor, bias: WeightTensor? = nil) -> PackedMatrix {
            let packed = PackedMatrix(tensor, bias: bias)
            tensor.storage.releaseResidentPages()
            return packed
        }
        // Layers pack concurrently, each into its own slot.
        let slots = UnsafeMutableBufferPointer<Layer?>.allocate(capacity: weights.layers.count)
        slots.initialize(repeating: nil)
        defer { slots.deallocate() }
        let shared = LayerSlots(slots: slots)
        KernelThreads.parallelRanges(weights.layers.count, threads: threads) { range in
            for i in range {
                let l = weights.layers[i]
                shared.slots[i] = Layer(tensors: l, q: pack(l.qProj, bias: l.qBias), k: pack(l.kProj, bias: l.kBias),
                                        v: pack(l.vProj, bias: l.vBias), o: pack(l.oProj, bias: l.oBias),
                                        gate: pack(l.gateProj), up: pack(l.upProj), down: pack(l.downProj))
            }
        }
        layers = slots.map { $0! }
        patchProjection = weights.patchEmbedding.map { pack($0.projection, bias: $0.projectionBias) }
        tokenHead = weights.tokenHead.map { pack($0) }
        pixelHead = weights.pixelHead.map { pack($0) }
        score = weights.score.map { pack($0) }
    }

    /// @unchecked: each worker writes only the slots of its own range, and all end before they are read.
    private struct LayerSlots: @unchecked Sendable {
        let slots: UnsafeMutableBufferPointer<Layer?>
    }
}
