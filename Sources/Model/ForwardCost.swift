import COpenBLAS
import Foundation

/// What one forward pass costs in floating-point operations, and what OpenBLAS sgemm achieves on the same
/// matrix shapes: the yardstick `pixelgpt bench` holds the whole forward pass against.
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

    public var productFlops: Double { products.reduce(0) { $0 + $1.flops } }
    public var totalFlops: Double { productFlops + attentionFlops }

    /// The matrix products of a forward pass over `batch` rows of `length` positions, `patches` of which are
    /// pixel patches (the patch projection is a [768 -> H] product on them). Heads are not applied.
    public init(config: PixelGPTConfig, batch: Int, length: Int, patches: Int) {
        let h = config.hiddenSize, kv = config.keyValueHeads * config.headDimension, n = config.numHiddenLayers
        let tokens = batch * length
        var products = [
            Product(name: "q_proj", rows: tokens, inner: h, columns: h, count: n),
            Product(name: "k_proj+v_proj", rows: tokens, inner: h, columns: 2 * kv, count: n),
            Product(name: "o_proj", rows: tokens, inner: h, columns: h, count: n),
            Product(name: "gate_proj+up_proj", rows: tokens, inner: h, columns: 2 * config.intermediateSize, count: n),
            Product(name: "down_proj", rows: tokens, inner: config.intermediateSize, columns: h, count: n),
        ]
        if patches > 0 {
            products.append(Product(name: "patch_projection", rows: batch * patches, inner: 768, columns: h, count: 1))
        }
        self.products = products
        attentionFlops = 2 * Double(batch) * Double(length) * Double(length) * Double(h) * Double(n)
    }

    /// sgemm's rate on each product's shape (median of `repeats` timed calls after one warm-up), and the
    /// time all products would take at those rates.
    public func measureSGEMM(repeats: Int = 5) -> (perProduct: [Product: Double], seconds: Double) {
        var rates: [Product: Double] = [:]
        var seconds = 0.0
        for product in products {
            let a = [Float](repeating: 0.5, count: product.rows * product.inner)
            let b = [Float](repeating: 0.25, count: product.columns * product.inner)
            var c = [Float](repeating: 0, count: product.rows * product.columns)
            var times: [Double] = []
            for run in 0...repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(product.rows), Int32(product.columns), Int32(product.inner),
                            1, a, Int32(product.inner), b, Int32(product.inner), 0, &c, Int32(product.columns))
                if run > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
            }
            let median = times.sorted()[times.count / 2]
            rates[product] = 2 * Double(product.rows) * Double(product.inner) * Double(product.columns) / median / 1e9
            seconds += median * Double(product.count)
        }
        return (rates, seconds)
    }
}
