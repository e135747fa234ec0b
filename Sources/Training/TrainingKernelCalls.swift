import Model

/// Array front-ends of the kernels for `TrainableTail`, as `KernelCalls` is for the forward pass: weights
/// are `TailTensor` slices of the flat parameter vector, weight gradients accumulate into the same slices
/// of a gradient vector, and the tail's code stays free of pointers.
enum TrainingCalls {
    /// y = x·Wᵀ (+ b), the model's GEMM kernel.
    static func linear(_ x: [Float], rows: Int, _ parameters: [Float], _ w: TailTensor, bias: TailTensor? = nil) -> [Float] {
        let outFeatures = w.shape[0], inFeatures = w.shape[1]
        return [Float](unsafeUninitializedCapacity: rows * outFeatures) { out, initialized in
            x.withUnsafeBufferPointer { xs in
                parameters.withUnsafeBufferPointer { p in
                    let ws = UnsafeBufferPointer(rebasing: p[w.range])
                    let bs = bias.map { UnsafeBufferPointer(rebasing: p[$0.range]) }
                    Kernels.linear(out, xs, ws, bias: bs, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, threads: KernelThreads.current)
                }
            }
            initialized = rows * outFeatures
        }
    }

    /// Accumulates dW (and db) into `gradient`, returns dx.
    static func linearBackward(_ dy: [Float], x: [Float], rows: Int, _ parameters: [Float], _ w: TailTensor, bias: TailTensor? = nil,
                               gradient: inout [Float]) -> [Float] {
        let outFeatures = w.shape[0], inFeatures = w.shape[1]
        return [Float](unsafeUninitializedCapacity: rows * inFeatures) { dx, initialized in
            dy.withUnsafeBufferPointer { dys in
                x.withUnsafeBufferPointer { xs in
                    parameters.withUnsafeBufferPointer { p in
                        gradient.withUnsafeMutableBufferPointer { g in
                            Kernels.linearBackward(dx: dx, weightGradient: UnsafeMutableBufferPointer(rebasing: g[w.range]),
                                                   biasGradient: bias.map { UnsafeMutableBufferPointer(rebasing: g[$0.range]) },
                                                   dy: dys, x: xs, w: UnsafeBufferPointer(rebasing: p[w.range]),
                                                   rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
                        }
                    }
                }
            }
            initialized = rows * inFeatures
        }
    }

    static func rmsNorm(_ x: [Float], _ parameters: [Float], _ w: TailTensor, eps: Float) -> [Float] {
        let width = w.range.count
        return [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { xs in
                parameters.withUnsafeBufferPointer { p in
                    Kernels.rmsNorm(out, xs, weight: UnsafeBufferPointer(rebasing: p[w.range]), rows: x.count / width, width: width, eps: eps)
                }
            }
            initialized = x.count
        }
    }

    /// Accumulates dw into `gradient`, returns dx.
    static func rmsNormBackward(_ dy: [Float], x: [Float], _ parameters: [Float], _ w: TailTensor, eps: Float, gradient: inout [Float]) -> [Float] {
        let width = w.range.count
        return [Float](unsafeUninitializedCapacity: x.count) { dx, initialized in
            dy.withUnsafeBufferPointer { dys in
                x.withUnsafeBufferPointer { xs in
                    parameters.withUnsafeBufferPointer { p in
                        gradient.withUnsafeMutableBufferPointer { g in
                            Kernels.rmsNormBackward(dx: dx, weightGradient: UnsafeMutableBufferPointer(rebasing: g[w.range]), dy: dys, x: xs,
                                                    weight: UnsafeBufferPointer(rebasing: p[w.range]), rows: x.count / width, width: width, eps: eps)
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    static func attentionBackward(_ dOut: [Float], q: [Float], k: [Float], v: [Float], probabilities: [Float], keyMask: [Float],
                                  blocks: [AttentionBlock], heads: Int, kvHeads: Int, headDim: Int) -> (dq: [Float], dk: [Float], dv: [Float]) {
        var dq = [Float](repeating: 0, count: q.count), dk = [Float](repeating: 0, count: k.count), dv = dk
        dq.withUnsafeMutableBufferPointer { dqs in
            dk.withUnsafeMutableBufferPointer { dks in
                dv.withUnsafeMutableBufferPointer { dvs in
                    dOut.withUnsafeBufferPointer { d in
                        q.withUnsafeBufferPointer { qs in
                            k.withUnsafeBufferPointer { ks in
                                v.withUnsafeBufferPointer { vs in
                                    probabilities.withUnsafeBufferPointer { p in
                                        keyMask.withUnsafeBufferPointer { m in
                                            blocks.withUnsafeBufferPointer {
                                                Kernels.attentionBackward(dq: dqs, dk: dks, dv: dvs, dOut: d, q: qs, k: ks, v: vs, probabilities: p,
                                                                          keyMask: m, blocks: $0, heads: heads, kvHeads: kvHeads, headDim: headDim)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dq, dk, dv)
    }

    static func swiGLUBackward(_ dOut: [Float], gate: [Float], up: [Float]) -> (dGate: [Float], dUp: [Float]) {
        var dGate = [Float](repeating: 0, count: gate.count), dUp = dGate
        dGate.withUnsafeMutableBufferPointer { dg in
            dUp.withUnsafeMutableBufferPointer { du in
                dOut.withUnsafeBufferPointer { d in
                    gate.withUnsafeBufferPointer { g in
                        up.withUnsafeBufferPointer { Kernels.swiGLUBackward(dGate: dg, dUp: du, dOut: d, gate: g, up: $0) }
                    }
                }
            }
        }
        return (dGate, dUp)
    }
}
