/// Array front-ends of the kernels for the forward pass: each allocates its output and hands the kernel
/// buffers, so that the model code stays free of pointers.
enum KernelCalls {
    /// y = x·Wᵀ (+ b) over `rows` rows; W is [out, in] (or any shape whose trailing dims flatten to `in`).
    static func linear(_ x: [Float], rows: Int, _ w: WeightTensor, bias: WeightTensor? = nil) -> [Float] {
        KernelProfile.measure("linear") {
            let outFeatures = w.shape[0], inFeatures = w.elementCount / max(outFeatures, 1)
            return [Float](unsafeUninitializedCapacity: rows * outFeatures) { out, initialized in
                x.withUnsafeBufferPointer { xs in
                    w.withFloat32 { ws in
                        if let bias {
                            bias.withFloat32 { Kernels.linear(out, xs, ws, bias: $0, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures) }
                        } else {
                            Kernels.linear(out, xs, ws, bias: nil, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
                        }
                    }
                }
                initialized = rows * outFeatures
            }
        }
    }

    static func rmsNorm(_ x: [Float], _ w: WeightTensor, eps: Float) -> [Float] {
        KernelProfile.measure("rmsNorm") {
            let width = w.elementCount, rows = x.count / width
            return [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
                x.withUnsafeBufferPointer { xs in
                    w.withFloat32 { Kernels.rmsNorm(out, xs, weight: $0, rows: rows, width: width, eps: eps) }
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

    static func rotary(_ x: inout [Float], heads: Int, headDim: Int, positions: [Int], cos: [Float], sin: [Float]) {
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
                up.withUnsafeBufferPointer { u in Kernels.swiGLU(g, gate: UnsafeBufferPointer(g), up: u) }
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
    static func linear(into out: inout [Float], _ x: [Float], rows: Int, _ w: WeightTensor, bias: WeightTensor? = nil, accumulate: Bool = false) {
        KernelProfile.measure("linear") {
            let outFeatures = w.shape[0], inFeatures = w.elementCount / max(outFeatures, 1)
            precondition(out.count >= rows * outFeatures && x.count >= rows * inFeatures)
            x.withUnsafeBufferPointer { xs in
                out.withUnsafeMutableBufferPointer { o in
                    w.withFloat32 { ws in
                        if let bias {
                            bias.withFloat32 { Kernels.linear(o, xs, ws, bias: $0, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, accumulate: accumulate) }
                        } else {
                            Kernels.linear(o, xs, ws, bias: nil, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, accumulate: accumulate)
                        }
                    }
                }
            }
        }
    }

    static func rmsNorm(into out: inout [Float], _ x: [Float], _ w: WeightTensor, eps: Float) {
        KernelProfile.measure("rmsNorm") {
            let width = w.elementCount, rows = x.count / width
            precondition(out.count >= x.count)
            x.withUnsafeBufferPointer { xs in
                out.withUnsafeMutableBufferPointer { o in
                    w.withFloat32 { Kernels.rmsNorm(o, xs, weight: $0, rows: rows, width: width, eps: eps) }
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
                            out.withUnsafeMutableBufferPointer { Kernels.attention($0, q: qs, k: ks, v: vs, keyMask: m, shape: shape) }
                        }
                    }
                }
            }
        }
    }

    static func add(_ x: inout [Float], _ y: [Float]) {
        KernelProfile.measure("residual add") {
            precondition(x.count == y.count)
            for i in x.indices { x[i] += y[i] }
        }
    }
}
