/// Array front-ends of the kernels for the forward pass: each allocates its output and hands the kernel
/// buffers, so that the model code stays free of pointers.
package enum KernelCalls {
    /// y = x·Wᵀ (+ b) over `rows` rows; W packed [out, in] with its bias.
    static func linear(_ x: [Float], rows: Int, _ w: PackedMatrix) -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * w.rows) { out, initialized in
            initialized = rows * w.rows
            linears(x, rows: rows, [Kernels.LinearOutput(out, w)])
        }
    }

    static func rmsNorm(_ x: [Float], _ w: WeightTensor, eps: Float) -> [Float] {
        KernelProfile.measure("rmsNorm") {
            let width = w.elementCount, rows = x.count / width
            return [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
                x.withUnsafeBufferPointer { xs in
                    w.withFloat32 { Kernels.rmsNorm(out, xs, weight: $0, rows: rows, width: width, eps: eps, threads: KernelThreads.current) }
                }
                initialized = x.count
            }
        }
    }

    static func layerNorm(_ x: [Float], weight: WeightTensor, bias: WeightTensor, eps: Float) -> [Float] {
        KernelProfile.measure("layerNorm") {
            let width = weight.elementCount, rows = x.count / width
            return [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
                x.withUnsafeBufferPointer { xs in
                    weight.withFloat32 { ws in
                        bias.withFloat32 { Kernels.layerNorm(out, xs, weight: ws, bias: $0, rows: rows, width: width, eps: eps) }
                    }
                }
                initialized = x.count
            }
        }
    }

    package static func rotary(_ x: inout [Float], heads: Int, headDim: Int, positions: [Int], cos: [Float], sin: [Float]) {
        KernelProfile.measure("rotary") {
            x.withUnsafeMutableBufferPointer { xs in
                positions.withUnsafeBufferPointer { ps in
                    cos.withUnsafeBufferPointer { c in
                        sin.withUnsafeBufferPointer { s in
                            Kernels.rotary(xs, rows: ps.count, heads: heads, headDim: headDim, positions: ps, cos: c, sin: s)
                        }
                    }
                }
            }
        }
    }

    static func swiGLU(gate: inout [Float], up: [Float]) {
        KernelProfile.measure("swiGLU") {
            gate.withUnsafeMutableBufferPointer { g in
                up.withUnsafeBufferPointer { u in Kernels.swiGLU(g, gate: UnsafeBufferPointer(g), up: u, threads: KernelThreads.current) }
            }
        }
    }

    static func attention(q: [Float], k: [Float], v: [Float], keyMask: [Float], shape: AttentionShape) -> [Float] {
        let count = shape.batch * shape.queryLength * shape.heads * shape.headDim
        var out = [Float](repeating: 0, count: count)
        attention(into: &out, q: q, k: k, v: v, keyMask: keyMask, shape: shape)
        return out
    }

    // MARK: - Into preallocated outputs (the forward pass's workspace: no allocation or page faults per layer)

    /// out[0 ..< rows·out] = x·Wᵀ (+ b), or `+=` with `accumulate` (the residual add folded into the GEMM).
    static func linear(into out: inout [Float], _ x: [Float], rows: Int, _ w: PackedMatrix, accumulate: Bool = false) {
        out.withUnsafeMutableBufferPointer { linears(x, rows: rows, [Kernels.LinearOutput($0, w, accumulate: accumulate)]) }
    }

    /// a = x·Waᵀ, b = x·Wbᵀ (and c = x·Wcᵀ): the projections that read one normed input, which the GEMM packs once.
    static func linears(_ x: [Float], rows: Int, into a: inout [Float], _ wa: PackedMatrix, _ b: inout [Float], _ wb: PackedMatrix,
                        _ c: inout [Float], _ wc: PackedMatrix) {
        a.withUnsafeMutableBufferPointer { a in
            b.withUnsafeMutableBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    linears(x, rows: rows, [Kernels.LinearOutput(a, wa), Kernels.LinearOutput(b, wb), Kernels.LinearOutput(c, wc)])
                }
            }
        }
    }

    static func linears(_ x: [Float], rows: Int, into a: inout [Float], _ wa: PackedMatrix, _ b: inout [Float], _ wb: PackedMatrix) {
        a.withUnsafeMutableBufferPointer { a in
            b.withUnsafeMutableBufferPointer { b in linears(x, rows: rows, [Kernels.LinearOutput(a, wa), Kernels.LinearOutput(b, wb)]) }
        }
    }

    private static func linears(_ x: [Float], rows: Int, _ outputs: [Kernels.LinearOutput]) {
        KernelProfile.measure("linear") {
            x.withUnsafeBufferPointer { Kernels.linears($0, rows: rows, outputs, threads: KernelThreads.current) }
        }
    }

    static func rmsNorm(into out: inout [Float], _ x: [Float], _ w: WeightTensor, eps: Float) {
        KernelProfile.measure("rmsNorm") {
            let width = w.elementCount, rows = x.count / width
            precondition(out.count >= x.count)
            x.withUnsafeBufferPointer { xs in
                out.withUnsafeMutableBufferPointer { o in
                    w.withFloat32 { Kernels.rmsNorm(o, xs, weight: $0, rows: rows, width: width, eps: eps, threads: KernelThreads.current) }
                }
            }
        }
    }

    static func attention(into out: inout [Float], q: [Float], k: [Float], v: [Float], keyMask: [Float], shape: AttentionShape) {
        KernelProfile.measure("attention") {
            q.withUnsafeBufferPointer { qs in
                k.withUnsafeBufferPointer { ks in
                    v.withUnsafeBufferPointer { vs in
                        keyMask.withUnsafeBufferPointer { m in
                            out.withUnsafeMutableBufferPointer { Kernels.attention($0, q: qs, k: ks, v: vs, keyMask: m, shape: shape, threads: KernelThreads.current) }
                        }
                    }
                }
            }
        }
    }

    /// `attention(into:)` that also writes the softmax weights [B, heads, queryLength, keyLength].
    static func attention(into out: inout [Float], probabilities: inout [Float], q: [Float], k: [Float], v: [Float], keyMask: [Float],
                          shape: AttentionShape) {
        q.withUnsafeBufferPointer { qs in
            k.withUnsafeBufferPointer { ks in
                v.withUnsafeBufferPointer { vs in
                    keyMask.withUnsafeBufferPointer { m in
                        probabilities.withUnsafeMutableBufferPointer { p in
                            out.withUnsafeMutableBufferPointer {
                                Kernels.attention($0, q: qs, k: ks, v: vs, keyMask: m, shape: shape, threads: KernelThreads.current, probabilities: p)
                            }
                        }
                    }
                }
            }
        }
    }

    package static func add(_ x: inout [Float], _ y: [Float]) {
        KernelProfile.measure("residual add") {
            precondition(x.count == y.count)
            for i in x.indices { x[i] += y[i] }
        }
    }
}
