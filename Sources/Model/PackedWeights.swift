import Dispatch

/// The matrices of `PixelGPTWeights` packed for the GEMM (`PackedMatrix`), once per model: every
/// projection (with its bias), the patch projection and the heads. The norms and the token embedding table
/// are read where they are. After packing, the source pages of a memory-mapped checkpoint are handed back to
/// the kernel, so the packed copy replaces the mapping in memory instead of doubling it.
struct PackedWeights: Sendable {
    typealias Layer = DecoderLayerWeights

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
                shared.slots[i] = Layer(weights.layers[i], pack: pack)
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

/// One decoder layer's weights as the forward pass reads them (`PixelGPTModel.decoderLayer`): the norm
/// gains in place, every projection packed for the GEMM with its bias. The model packs its layers once; the
/// trainable tail packs the layers it trains from their current values before each forward pass.
package struct DecoderLayerWeights: Sendable {
    /// Norm gains, read in place.
    let tensors: PixelGPTWeights.DecoderLayer
    let q: PackedMatrix, k: PackedMatrix, v: PackedMatrix, o: PackedMatrix
    let gate: PackedMatrix, up: PackedMatrix, down: PackedMatrix

    /// Packs `layer`'s projections.
    package init(_ layer: PixelGPTWeights.DecoderLayer) {
        self.init(layer) { PackedMatrix($0, bias: $1) }
    }

    init(_ l: PixelGPTWeights.DecoderLayer, pack: (WeightTensor, WeightTensor?) -> PackedMatrix) {
        tensors = l
        (q, k, v, o) = (pack(l.qProj, l.qBias), pack(l.kProj, l.kBias), pack(l.vProj, l.vBias), pack(l.oProj, l.oBias))
        (gate, up, down) = (pack(l.gateProj, nil), pack(l.upProj, nil), pack(l.downProj, nil))
    }
}
