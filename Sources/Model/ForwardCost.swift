import COpenBLAS
import Foundation

/// What one forward pass costs in floating-point operations and memory, and what OpenBLAS sgemm achieves
/// on the same matrix shapes: the yardstick `pixelgpt bench` holds the whole forward pass against.
public struct ForwardCost: Sendable {
    /// One matrix product of the forward pass: [rows, inner] x [inner, columns]^T.
    public struct Product: Sendable, Hashable {
        public let name: String
        public let rows: Int
        public let inner: Int
        public let columns: Int
        /// How many times per forward pass (once per layer).
        public let count: Int
        public var flops: Double { 2 * Double(rows) * Double(inner) * Double(columns) * Double(count) }
    }

    public let products: [Product]
    /// Causal attention: QK^T and softmax·V over the lower triangle, 2·B·L²·H per layer (heads × d = H).
    public let attentionFlops: Double
    /// Bytes of the activations one pass holds at its peak: the residual stream, one layer's workspace
    /// (normed input, q, k, v, attention output, gate, up) and the embedding's temporaries.
    public let activationBytes: Double

    public var productFlops: Double { products.reduce(0) { $0 + $1.flops } }
    public var totalFlops: Double { productFlops + attentionFlops }

    /// The matrix products of a forward pass over `batch` rows of `length` positions, `patches` of which are
    /// pixel patches (the patch projection is a [768 -> H] product on them). Heads are not applied.
    public init(config: PixelGPTConfig, batch: Int, length: Int, patches: Int) {
        let h = config.hiddenSize, kv = config.keyValueHeads * config.headDimension, n = config.numHiddenLayers
        let q = config.numAttentionHeads * config.headDimension, i = config.intermediateSize
        let tokens = batch * length
        var products = [
            Product(name: "q_proj", rows: tokens, inner: h, columns: q, count: n),
            Product(name: "k_proj+v_proj", rows: tokens, inner: h, columns: 2 * kv, count: n),
            Product(name: "o_proj", rows: tokens, inner: q, columns: h, count: n),
            Product(name: "gate_proj+up_proj", rows: tokens, inner: h, columns: 2 * i, count: n),
            Product(name: "down_proj", rows: tokens, inner: i, columns: h, count: n),
        ]
        if patches > 0 {
            products.append(Product(name: "patch_projection", rows: batch * patches, inner: 768, columns: h, count: 1))
        }
        self.products = products
        attentionFlops = 2 * Double(batch) * Double(length) * Double(length) * Double(q) * Double(n)
        let residual = h, workspace = h + 2 * q + 2 * kv + 2 * i
        let embedding = patches > 0 ? Double(batch * patches) * Double(768 + 2 * h) : Double(tokens * h)
        activationBytes = 4 * (Double(tokens) * Double(residual + workspace) + embedding)
    }
}

/// sgemm on a fixed set of product shapes with buffers allocated and touched once, so that it can be timed
/// again and again between forward passes (on a shared machine, interleaving keeps both measurements under
/// the same load).
public final class SGEMMYardstick {
    public let products: [ForwardCost.Product]
    private var buffers: [(a: [Float], b: [Float], c: [Float])]

    public init(_ products: [ForwardCost.Product]) {
        self.products = products
        buffers = products.map { p in
            ([Float](repeating: 0.5, count: p.rows * p.inner), [Float](repeating: 0.25, count: p.columns * p.inner),
             [Float](repeating: 0, count: p.rows * p.columns))
        }
        _ = timeEachProduct()   // warm-up: OpenBLAS's thread pool and buffers, the pages of c
    }

    /// Seconds of one sgemm call per product, in `products` order.
    public func timeEachProduct() -> [Double] {
        products.indices.map { i in
            let start = DispatchTime.now().uptimeNanoseconds
            multiply(i, times: 1)
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
    }

    /// Seconds sgemm takes for all products of one forward pass, each shape run as many times as the pass
    /// runs it, so that the yardstick lasts about as long as the pass and sees the same load.
    public func timeForwardProducts() -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for (i, p) in products.enumerated() { multiply(i, times: p.count) }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// C = A·Bᵀ for product `i`, `times` times (the projections' layout, `Kernels.linear`).
    private func multiply(_ i: Int, times: Int) {
        let p = products[i]
        let a = buffers[i].a, b = buffers[i].b   // shared storage, no copy; c is written in place
        buffers[i].c.withUnsafeMutableBufferPointer { c in
            for _ in 0..<times {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(p.rows), Int32(p.columns), Int32(p.inner),
                            1, a, Int32(p.inner), b, Int32(p.inner), 0, c.baseAddress, Int32(p.columns))
            }
        }
    }
}
