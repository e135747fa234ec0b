import Foundation
import Testing
@testable import Model

/// Every fast kernel against its scalar reference on random data with awkward sizes (llm.c dev/cpu style).
@Suite struct KernelTests {
    static let tolerance: Float = 2e-5

    func expectClose(_ a: [Float], _ b: [Float], _ what: String, tolerance: Float = KernelTests.tolerance) {
        #expect(a.count == b.count, "\(what): sizes")
        let error = relativeError(a, b)
        #expect(error < Double(tolerance), "\(what): max|diff|/max|ref| = \(error)")
    }

    @Test(arguments: [(1, 1, 1), (7, 48, 13), (33, 100, 65)])
    func linear(rows: Int, inFeatures: Int, outFeatures: Int) {
        var random = TestRandom(state: UInt64(rows * 1000 + inFeatures))
        let x = random.array(rows * inFeatures), w = random.array(outFeatures * inFeatures), bias = random.array(outFeatures)
        for useBias in [false, true] {
            var fast = [Float](repeating: .nan, count: rows * outFeatures), reference = fast
            x.withUnsafeBufferPointer { xs in
                w.withUnsafeBufferPointer { ws in
                    bias.withUnsafeBufferPointer { bs in
                        fast.withUnsafeMutableBufferPointer {
                            Kernels.linear($0, xs, ws, bias: useBias ? bs : nil, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
                        }
                        reference.withUnsafeMutableBufferPointer {
                            Kernels.linearReference($0, xs, ws, bias: useBias ? bs : nil, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
                        }
                    }
                }
            }
            expectClose(fast, reference, "linear \(rows)x\(inFeatures)->\(outFeatures) bias \(useBias)")
        }
    }

    @Test func normalisations() {
        var random = TestRandom(state: 7)
        let rows = 5, width = 48
        let x = random.array(rows * width, scale: 3).map { $0 + 0.5 }, weight = random.array(width), bias = random.array(width)
        var fast = [Float](repeating: .nan, count: rows * width), reference = fast
        for eps: Float in [1e-5, 1e-6] {
            x.withUnsafeBufferPointer { xs in
                weight.withUnsafeBufferPointer { ws in
                    fast.withUnsafeMutableBufferPointer { Kernels.rmsNorm($0, xs, weight: ws, rows: rows, width: width, eps: eps) }
                    reference.withUnsafeMutableBufferPointer { Kernels.rmsNormReference($0, xs, weight: ws, rows: rows, width: width, eps: eps) }
                }
            }
            expectClose(fast, reference, "rmsNorm eps \(eps)")
            x.withUnsafeBufferPointer { xs in
                weight.withUnsafeBufferPointer { ws in
                    bias.withUnsafeBufferPointer { bs in
                        fast.withUnsafeMutableBufferPointer { Kernels.layerNorm($0, xs, weight: ws, bias: bs, rows: rows, width: width, eps: eps) }
                        reference.withUnsafeMutableBufferPointer { Kernels.layerNormReference($0, xs, weight: ws, bias: bs, rows: rows, width: width, eps: eps) }
                    }
                }
            }
            expectClose(fast, reference, "layerNorm eps \(eps)")
        }
    }

    @Test func swiGLUAndSoftmax() {
        var random = TestRandom(state: 11)
        let gate = random.array(301, scale: 8), up = random.array(301)
        var fast = [Float](repeating: .nan, count: 301), reference = fast
        gate.withUnsafeBufferPointer { g in
            up.withUnsafeBufferPointer { u in
                fast.withUnsafeMutableBufferPointer { Kernels.swiGLU($0, gate: g, up: u) }
                reference.withUnsafeMutableBufferPointer { Kernels.swiGLUReference($0, gate: g, up: u) }
            }
        }
        expectClose(fast, reference, "swiGLU")
        var row = random.array(77, scale: 30), rowReference = row
        row.withUnsafeMutableBufferPointer { Kernels.softmax($0) }
        rowReference.withUnsafeMutableBufferPointer { Kernels.softmaxReference($0) }
        expectClose(row, rowReference, "softmax")
        #expect(abs(row.reduce(0, +) - 1) < 1e-5)
    }

    /// RoPE against the literal q⊙cos + rotate_half(q)⊙sin, with tables from RotaryEmbedding, and the
    /// tables themselves against inv_freq[m] = θ^(−2m/d) at a few positions.
    @Test func rotary() {
        var config = PixelGPTConfig.preset(.tiny)
        config.hiddenSize = 40
        config.numAttentionHeads = 4
        config.numKeyValueHeads = 2
        let rope = RotaryEmbedding(config: config)
        let rows = 9, heads = 4, d = 10
        let (cos, sin) = rope.tables(positions: rows, sequenceLength: rows)
        for (p, m) in [(0, 0), (3, 1), (8, 4)] {
            let angle = Double(p) * pow(10000, -Double(2 * m) / Double(d))
            #expect(abs(Double(cos[p * d / 2 + m]) - Foundation.cos(angle)) < 1e-5)
            #expect(abs(Double(sin[p * d / 2 + m]) - Foundation.sin(angle)) < 1e-5)
        }
        var random = TestRandom(state: 3)
        var fast = random.array(rows * heads * d), reference = fast
        let positions = (0..<rows).map { ($0 * 5) % rows }
        positions.withUnsafeBufferPointer { ps in
            cos.withUnsafeBufferPointer { c in
                sin.withUnsafeBufferPointer { s in
                    fast.withUnsafeMutableBufferPointer { Kernels.rotary($0, rows: rows, heads: heads, headDim: d, positions: ps, cos: c, sin: s) }
                    reference.withUnsafeMutableBufferPointer { Kernels.rotaryReference($0, rows: rows, heads: heads, headDim: d, positions: ps, cos: c, sin: s) }
                }
            }
        }
        expectClose(fast, reference, "rotary")
    }

    /// Dynamic NTK changes the base only past max_position_embeddings; linear scaling divides positions.
    @Test func ropeScaling() {
        var config = PixelGPTConfig.preset(.tiny)
        config.maxPositionEmbeddings = 16
        config.ropeScaling = .init(type: "dynamic", factor: 2)
        let dynamic = RotaryEmbedding(config: config)
        #expect(dynamic.base(sequenceLength: 16) == config.ropeTheta)
        let d = Double(config.headDimension)
        #expect(abs(dynamic.base(sequenceLength: 32) - config.ropeTheta * pow(2.0 * 32 / 16 - 1, d / (d - 2))) < 1e-6)
        config.ropeScaling = .init(type: "linear", factor: 4)
        let linear = RotaryEmbedding(config: config).tables(positions: 9, sequenceLength: 9)
        config.ropeScaling = nil
        let plain = RotaryEmbedding(config: config).tables(positions: 9, sequenceLength: 9)
        let half = config.headDimension / 2
        for m in 0..<half { #expect(abs(linear.cos[8 * half + m] - plain.cos[2 * half + m]) < 1e-6) }
    }

    /// Attention (BLAS, only keys up to the last unmasked one) against the eager additive-mask formula,
    /// with GQA, padding on both sides, a fully masked row, and a query offset into a key cache.
    @Test(arguments: [(4, 2), (3, 3), (4, 1)])
    func attention(heads: Int, kvHeads: Int) {
        var random = TestRandom(state: UInt64(heads * 10 + kvHeads))
        let batch = 3, length = 7, d = 6
        let mask: [Float] = [1, 1, 1, 1, 1, 0, 0,   0, 0, 1, 1, 1, 1, 1,   1, 0, 1, 1, 0, 1, 1]
        let q = random.array(batch * length * heads * d, scale: 2)
        let k = random.array(batch * length * kvHeads * d, scale: 2), v = random.array(batch * length * kvHeads * d)
        let shape = AttentionShape(batch: batch, queryLength: length, keyLength: length, heads: heads, kvHeads: kvHeads, headDim: d)
        expectClose(run(q, k, v, mask, shape, reference: false), run(q, k, v, mask, shape, reference: true), "attention \(heads)/\(kvHeads)")

        // The last 2 queries of each row against a cache of capacity 9 holding 7 keys.
        var cachedK = [Float](repeating: 99, count: batch * 9 * kvHeads * d), cachedV = cachedK
        for b in 0..<batch {
            for i in 0..<(length * kvHeads * d) {
                cachedK[b * 9 * kvHeads * d + i] = k[b * length * kvHeads * d + i]
                cachedV[b * 9 * kvHeads * d + i] = v[b * length * kvHeads * d + i]
            }
        }
        let width = heads * d
        func lastTwoRows(_ x: [Float]) -> [Float] {
            var rows: [Float] = []
            for b in 0..<batch {
                let start: Int = (b * length + 5) * width
                rows += x[start..<(start + 2 * width)]
            }
            return rows
        }
        let stepShape = AttentionShape(batch: batch, queryLength: 2, keyLength: length, keyCapacity: 9, queryOffset: 5,
                                       heads: heads, kvHeads: kvHeads, headDim: d)
        let full = run(q, k, v, mask, shape, reference: true)
        expectClose(run(lastTwoRows(q), cachedK, cachedV, mask, stepShape, reference: false), lastTwoRows(full), "attention with cache")
    }

    /// The vector exp against Foundation's over the range softmax and SiLU use, and exactly 0 for −∞ (a
    /// masked score) and far below the fp32 range.
    @Test func vectorExp() {
        var random = TestRandom(state: 21)
        for _ in 0..<50 {
            let x = FloatVector((0..<16).map { _ in random.next() * 87 })
            let fast = Kernels.exp(x)
            for lane in 0..<16 {
                let reference = Foundation.exp(Double(x[lane]))
                #expect(abs(Double(fast[lane]) - reference) <= 3e-7 * reference, "exp(\(x[lane])) = \(fast[lane]), want \(reference)")
            }
        }
        let edges = Kernels.exp(FloatVector([-.infinity, -200, -88, 0, 1, -1, 0.5, -0.5, 10, -10, 80, -80, 2, -2, 3, -3]))
        #expect(edges[0] == 0 && edges[1] == 0 && edges[2] == 0 && edges[3] == 1)
        #expect(abs(edges[4] - Float(M_E)) < 1e-6 && abs(edges[10] / Float(Foundation.exp(80.0)) - 1) < 1e-6)
    }

    /// Large enough to split over threads, widths that leave scalar tails, and the residual GEMM (beta = 1).
    @Test func largeShapesAndTails() {
        var random = TestRandom(state: 31)
        let rows = 600, width = 1000   // 600k values: the row split engages with two threads
        let x = random.array(rows * width, scale: 2), weight = random.array(width)
        var fast = [Float](repeating: .nan, count: rows * width), reference = fast
        x.withUnsafeBufferPointer { xs in
            weight.withUnsafeBufferPointer { ws in
                fast.withUnsafeMutableBufferPointer { Kernels.rmsNorm($0, xs, weight: ws, rows: rows, width: width, eps: 1e-5, threads: 2) }
                reference.withUnsafeMutableBufferPointer { Kernels.rmsNormReference($0, xs, weight: ws, rows: rows, width: width, eps: 1e-5) }
            }
        }
        expectClose(fast, reference, "rmsNorm 600x1000")

        let count = 2 * 32_768 * 16 + 7
        let gate = random.array(count, scale: 12), up = random.array(count)
        var gated = [Float](repeating: .nan, count: count), gatedReference = gated
        gate.withUnsafeBufferPointer { g in
            up.withUnsafeBufferPointer { u in
                gated.withUnsafeMutableBufferPointer { Kernels.swiGLU($0, gate: g, up: u, threads: 2) }
                gatedReference.withUnsafeMutableBufferPointer { Kernels.swiGLUReference($0, gate: g, up: u) }
            }
        }
        expectClose(gated, gatedReference, "swiGLU \(count)")

        let (m, k, n) = (37, 70, 45)
        let a = random.array(m * k), w = random.array(n * k), bias = random.array(n), residual = random.array(m * n)
        for useBias in [false, true] {
            var accumulated = residual, product = [Float](repeating: .nan, count: m * n)
            a.withUnsafeBufferPointer { xs in
                w.withUnsafeBufferPointer { ws in
                    bias.withUnsafeBufferPointer { bs in
                        accumulated.withUnsafeMutableBufferPointer {
                            Kernels.linear($0, xs, ws, bias: useBias ? bs : nil, rows: m, inFeatures: k, outFeatures: n, accumulate: true)
                        }
                        product.withUnsafeMutableBufferPointer {
                            Kernels.linearReference($0, xs, ws, bias: useBias ? bs : nil, rows: m, inFeatures: k, outFeatures: n)
                        }
                    }
                }
            }
            expectClose(accumulated, zip(residual, product).map { $0 + $1 }, "linear accumulate, bias \(useBias)")
        }
    }

    /// RoPE at the model's head size (the 16-lane path) for several heads and scattered positions.
    @Test func rotaryVectorPath() {
        let config = PixelGPTConfig.preset(.small)   // head_dim 64
        let rows = 33, heads = 3, d = config.headDimension
        let (cos, sin) = RotaryEmbedding(config: config).tables(positions: 300, sequenceLength: 300)
        var random = TestRandom(state: 41)
        var fast = random.array(rows * heads * d), reference = fast
        let positions = (0..<rows).map { ($0 * 37) % 300 }
        positions.withUnsafeBufferPointer { ps in
            cos.withUnsafeBufferPointer { c in
                sin.withUnsafeBufferPointer { s in
                    fast.withUnsafeMutableBufferPointer { Kernels.rotary($0, rows: rows, heads: heads, headDim: d, positions: ps, cos: c, sin: s) }
                    reference.withUnsafeMutableBufferPointer { Kernels.rotaryReference($0, rows: rows, heads: heads, headDim: d, positions: ps, cos: c, sin: s) }
                }
            }
        }
        expectClose(fast, reference, "rotary d=64")
    }

    /// Sequences longer than one query block (64), so that blocks see growing key ranges, with right
    /// padding, left padding (leading queries with no visible key) and holes, on both thread counts.
    @Test(arguments: [1, 2])
    func blockwiseAttention(threads: Int) {
        var random = TestRandom(state: UInt64(50 + threads))
        let batch = 3, length = 150, heads = 4, kvHeads = 2, d = 16
        var mask = [Float](repeating: 1, count: batch * length)
        for j in 100..<length { mask[j] = 0 }                           // row 0: right padding
        for j in 0..<20 { mask[length + j] = 0 }                        // row 1: left padding
        for j in stride(from: 3, to: length, by: 7) { mask[2 * length + j] = 0 }   // row 2: holes
        let q = random.array(batch * length * heads * d, scale: 2)
        let k = random.array(batch * length * kvHeads * d, scale: 2), v = random.array(batch * length * kvHeads * d)
        let shape = AttentionShape(batch: batch, queryLength: length, keyLength: length, heads: heads, kvHeads: kvHeads, headDim: d)
        expectClose(run(q, k, v, mask, shape, reference: false, threads: threads), run(q, k, v, mask, shape, reference: true), "attention L=150, \(threads) threads")
    }

    /// The softmax weights attention hands the trainable tail's backward pass: zero at keys a query does
    /// not see, 1/L everywhere for a query that sees none, rows summing to 1, and out = P·V; asking for them
    /// leaves the output's bits as they are. Several query blocks, left padding and holes, both thread counts.
    @Test(arguments: [1, 2])
    func attentionProbabilities(threads: Int) {
        var random = TestRandom(state: UInt64(70 + threads))
        let batch = 2, length = 100, heads = 4, kvHeads = 2, d = 8
        var mask = [Float](repeating: 1, count: batch * length)
        for j in 0..<10 { mask[j] = 0 }                                             // row 0: left padding
        for j in stride(from: 2, to: length, by: 5) { mask[length + j] = 0 }        // row 1: holes
        let q = random.array(batch * length * heads * d, scale: 2)
        let k = random.array(batch * length * kvHeads * d, scale: 2), v = random.array(batch * length * kvHeads * d)
        let shape = AttentionShape(batch: batch, queryLength: length, keyLength: length, heads: heads, kvHeads: kvHeads, headDim: d)
        var out = [Float](repeating: .nan, count: batch * length * heads * d)
        var probabilities = [Float](repeating: 0, count: batch * heads * length * length)
        KernelThreads.$override.withValue(threads) {
            KernelCalls.attention(into: &out, probabilities: &probabilities, q: q, k: k, v: v, keyMask: mask, shape: shape)
        }
        #expect(out == run(q, k, v, mask, shape, reference: false, threads: threads))
        var worst = 0.0
        for b in 0..<batch {
            for head in 0..<heads {
                let g = shape.kvHead(ofQueryHead: head)
                for i in 0..<length {
                    let row = Array(probabilities[(((b * heads + head) * length + i) * length)..<(((b * heads + head) * length + i + 1) * length)])
                    let visible = (0..<length).map { $0 <= i && mask[b * length + $0] == 1 }
                    if visible.contains(true) {
                        #expect(zip(row, visible).allSatisfy { $1 || $0 == 0 }, "b \(b) head \(head) query \(i): weight on a key it does not see")
                    } else {
                        #expect(row.allSatisfy { $0 == 1 / Float(length) }, "b \(b) head \(head) query \(i): not uniform")
                    }
                    #expect(abs(row.reduce(0) { $0 + Double($1) } - 1) < 1e-5)
                    for m in 0..<d {
                        let weighted = (0..<length).reduce(0.0) { $0 + Double(row[$1]) * Double(v[(b * length + $1) * kvHeads * d + g * d + m]) }
                        worst = max(worst, abs(weighted - Double(out[(b * length + i) * heads * d + head * d + m])))
                    }
                }
            }
        }
        #expect(worst < 1e-5, "out vs P·V: \(worst)")
    }

    /// GQA is repeat-interleave: with 4 query heads on 2 KV heads, head 1 reads KV head 0 (not 1).
    @Test func gqaMapping() {
        let shape = AttentionShape(batch: 1, queryLength: 1, keyLength: 1, heads: 16, kvHeads: 8, headDim: 64)
        #expect((0..<16).map(shape.kvHead(ofQueryHead:)) == (0..<16).map { $0 / 2 })
    }

    func run(_ q: [Float], _ k: [Float], _ v: [Float], _ mask: [Float], _ shape: AttentionShape, reference: Bool, threads: Int = 1) -> [Float] {
        var out = [Float](repeating: .nan, count: shape.batch * shape.queryLength * shape.heads * shape.headDim)
        q.withUnsafeBufferPointer { qs in
            k.withUnsafeBufferPointer { ks in
                v.withUnsafeBufferPointer { vs in
                    mask.withUnsafeBufferPointer { m in
                        out.withUnsafeMutableBufferPointer { o in
                            if reference {
                                Kernels.attentionReference(o, q: qs, k: ks, v: vs, keyMask: m, shape: shape)
                            } else {
                                Kernels.attention(o, q: qs, k: ks, v: vs, keyMask: m, shape: shape, threads: threads)
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
