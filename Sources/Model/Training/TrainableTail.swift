import Foundation

/// The part of a PixelGPT classifier that `--train-layers K` fine-tunes: the last K decoder layers, the
/// final norm and `score` (SPEC 3.6, 3.7, 4), with exact gradients. Everything before layer N − K stays
/// frozen, so its output is computed once per row (`PixelGPTModel.tailExamples`) and training only runs
/// the tail. K = 0 trains the final norm and `score`.
///
/// Usage: `let tail = try TrainableTail(model: m, trainLayers: 2, numLabels: 3)`; examples from
/// `m.tailExamples(inputs, trainLayers: 2)`; each step `let (loss, g) = tail.lossAndGradient(batch,
/// targets: labels, problem: .classification)`, then update `tail.parameters` with `g` (an optimizer
/// reads `tensorLayout` / `weightDecayMask`); predictions with `tail.logits(example)`; save by writing
/// each `tensorLayout` entry's `parameters[range]` under its name.
///
/// The forward pass keeps every activation its backward pass needs; the backward pass walks the layers in
/// reverse (llama2.c `run.c` order). The examples of a batch are stacked as one list of rows, so every
/// projection is one GEMM over the batch; attention stays within each example. The last layer only
/// computes its pooled rows (the other rows' outputs are never read).
public final class TrainableTail {
    public let config: PixelGPTConfig
    /// K.
    public let trainLayers: Int
    public let numLabels: Int
    /// Every trained value: the last K layers' tensors (checkpoint order), `model.norm.weight`, then
    /// `score.weight`. Update it in place between steps.
    public var parameters: [Float]
    /// Where each named tensor sits in `parameters`.
    public let tensorLayout: [TailTensor]

    let rotary: RotaryEmbedding
    let layers: [Layer]
    let finalNorm: TailTensor
    let score: TailTensor

    /// One decoder layer's tensors in the parameter vector (SPEC 2.1).
    struct Layer {
        let inputNorm: TailTensor
        let q: TailTensor, k: TailTensor, v: TailTensor, o: TailTensor
        let qBias: TailTensor?, kBias: TailTensor?, vBias: TailTensor?, oBias: TailTensor?
        let postAttentionNorm: TailTensor
        let gate: TailTensor, up: TailTensor, down: TailTensor
    }

    /// Copies the last `trainLayers` layers and the final norm from `model`. `score` [numLabels, H]
    /// row-major: nil takes the checkpoint's `score.weight`, which must then exist with numLabels rows;
    /// for a CausalLM checkpoint pass one drawn from N(0, 0.02²) as upstream initialises it (SPEC 2.2; Eval's `ScoreHead.normal`).
    public init(model: PixelGPTModel, trainLayers k: Int, numLabels: Int, score initialScore: [Float]? = nil) throws(ModelError) {
        let config = model.config
        let n = config.numHiddenLayers, h = config.hiddenSize
        guard (0...n).contains(k) else { throw .unsupported("train layers \(k) is outside 0...\(n) (the model has \(n) decoder layers)") }
        guard numLabels >= 1 else { throw .unsupported("num_labels must be at least 1, is \(numLabels)") }
        let scoreValues: [Float]
        if let initialScore {
            guard initialScore.count == numLabels * h else {
                throw .weightShape(name: "score.weight", expected: [numLabels, h], actual: [initialScore.count / max(h, 1), h])
            }
            scoreValues = initialScore
        } else {
            guard let s = model.weights.score else {
                throw .unsupported("the checkpoint has no score.weight; give an initial score drawn from N(0, 0.02²) (SPEC 2.2)")
            }
            guard s.shape == [numLabels, h] else { throw .weightShape(name: "score.weight", expected: [numLabels, h], actual: s.shape) }
            scoreValues = s.withFloat32(Array.init)
        }

        // The tail's tensors in checkpoint order, from the parameter table; the initialisation kind tells
        // norm gains (ones) and biases (zeros), which do not decay, from matrices (normal).
        let first = n - k
        let specs = config.causalLMParameters.filter { spec in
            if spec.name == "model.norm.weight" { return true }
            guard spec.name.hasPrefix("model.layers."), let i = Int(spec.name.split(separator: ".")[2]) else { return false }
            return i >= first
        } + [ParameterSpec(name: "score.weight", shape: [numLabels, h], initialization: .normal)]
        var layout: [TailTensor] = []
        var offset = 0
        for spec in specs {
            layout.append(TailTensor(name: spec.name, shape: spec.shape, range: offset..<(offset + spec.elementCount), decays: spec.initialization == .normal))
            offset += spec.elementCount
        }
        let byName = Dictionary(uniqueKeysWithValues: layout.map { ($0.name, $0) })
        let source = Dictionary(model.weights.allTensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var values = [Float]()
        values.reserveCapacity(offset)
        for tensor in layout {
            if tensor.name == "score.weight" {
                values += scoreValues
            } else {
                guard let weight = source[tensor.name] else { throw .missingWeight(tensor.name) }
                values += weight.withFloat32(Array.init)
            }
        }

        self.config = config
        trainLayers = k
        self.numLabels = numLabels
        parameters = values
        tensorLayout = layout
        rotary = model.rotary
        layers = (first..<n).map { i in
            let p = "model.layers.\(i)."
            return Layer(inputNorm: byName[p + "input_layernorm.weight"]!,
                         q: byName[p + "self_attn.q_proj.weight"]!, k: byName[p + "self_attn.k_proj.weight"]!,
                         v: byName[p + "self_attn.v_proj.weight"]!, o: byName[p + "self_attn.o_proj.weight"]!,
                         qBias: byName[p + "self_attn.q_proj.bias"], kBias: byName[p + "self_attn.k_proj.bias"],
                         vBias: byName[p + "self_attn.v_proj.bias"], oBias: byName[p + "self_attn.o_proj.bias"],
                         postAttentionNorm: byName[p + "post_attention_layernorm.weight"]!,
                         gate: byName[p + "mlp.gate_proj.weight"]!, up: byName[p + "mlp.up_proj.weight"]!,
                         down: byName[p + "mlp.down_proj.weight"]!)
        }
        finalNorm = byName["model.norm.weight"]!
        score = byName["score.weight"]!
    }

    /// Per parameter: whether weight decay applies (`TailTensor.decays`).
    public var weightDecayMask: [Bool] {
        tensorLayout.flatMap { [Bool](repeating: $0.decays, count: $0.range.count) }
    }

    /// The values of one named tensor (`tensorLayout`), nil for a name the tail does not hold.
    public func tensor(named name: String) -> [Float]? {
        tensorLayout.first { $0.name == name }.map { Array(parameters[$0.range]) }
    }

    var hiddenSize: Int { config.hiddenSize }
    var heads: Int { config.numAttentionHeads }
    var kvHeads: Int { config.keyValueHeads }
    var headDim: Int { config.headDimension }
    var eps: Float { Float(config.rmsNormEps) }

    // MARK: - Public passes

    /// score at the pooled row of each example, row-major [batch.count, numLabels] (the model's
    /// `pooledLogits`).
    public func logits(_ batch: [TailExample]) -> [Float] {
        batch.isEmpty ? [] : forward(RowStack(batch, tail: self)).logits
    }

    /// score at the pooled row of `example`, [numLabels].
    public func logits(_ example: TailExample) -> [Float] { logits([example]) }

    /// The mean loss over `batch` (SPEC 4): cross-entropy with class ids as targets, or squared error with
    /// num_labels = 1.
    public func loss(_ batch: [TailExample], targets: [Double], problem: SequenceClassificationLoss.Problem) -> Double {
        let logits = forward(RowStack(batch, tail: self)).logits
        return SequenceClassificationLoss.meanLoss(logits: logits.map(Double.init), numLabels: numLabels, targets: targets, problem: problem).loss
    }

    /// The mean loss over `batch` and its exact gradient with respect to `parameters` (same layout).
    public func lossAndGradient(_ batch: [TailExample], targets: [Double], problem: SequenceClassificationLoss.Problem) -> (loss: Double, gradient: [Float]) {
        let result = backward(RowStack(batch, tail: self), targets: targets, problem: problem)
        return (result.loss, result.gradient)
    }

    // MARK: - The batch as rows

    /// The examples stacked as rows [R, H]: example e owns rows `segments[e]`. Row r's RoPE angles sit
    /// in row r of `cos` / `sin` [R, d/2], built with each example's own sequence length (SPEC 3.6.4).
    struct RowStack {
        let rows: Int
        let segments: [Range<Int>]
        let pooledRows: [Int]
        let hidden: [Float]
        let keyMask: [Float]
        let cos: [Float]
        let sin: [Float]
        /// −sin: RoPE's transpose (rotation by −angle) for the backward pass.
        let negativeSin: [Float]

        init(_ batch: [TailExample], tail: TrainableTail) {
            let h = tail.hiddenSize, half = tail.headDim / 2
            var segments: [Range<Int>] = [], pooled: [Int] = [], hidden: [Float] = [], mask: [Float] = []
            var cos: [Float] = [], sin: [Float] = []
            var tables: [Int: (cos: [Float], sin: [Float])] = [:]
            for example in batch {
                precondition(example.hidden.count == example.length * h,
                             "TailExample has \(example.hidden.count / example.length) values per row, the model's hidden size is \(h)")
                let start = hidden.count / h
                segments.append(start..<(start + example.length))
                pooled.append(start + example.pooledRow)
                hidden += example.hidden
                mask += example.keyMask
                let maxPosition = example.positions.max()!
                if (tables[example.sequenceLength]?.cos.count ?? 0) <= maxPosition * half {
                    tables[example.sequenceLength] = tail.rotary.tables(positions: maxPosition + 1, sequenceLength: example.sequenceLength)
                }
                let table = tables[example.sequenceLength]!
                for p in example.positions {
                    cos += table.cos[(p * half)..<((p + 1) * half)]
                    sin += table.sin[(p * half)..<((p + 1) * half)]
                }
            }
            rows = hidden.count / h
            self.segments = segments
            pooledRows = pooled
            self.hidden = hidden
            keyMask = mask
            self.cos = cos
            self.sin = sin
            negativeSin = sin.map { -$0 }
        }

        /// The attention blocks of `queryRows` (ascending, consecutive within each example), one per example
        /// with queries, each reading all of its example's rows as keys; probabilities packed in order.
        func attentionBlocks(_ queryRows: [Int], heads: Int) -> [AttentionBlock] {
            var blocks: [AttentionBlock] = []
            var offset = 0, next = 0
            for segment in segments {
                let start = next
                while next < queryRows.count && segment.contains(queryRows[next]) { next += 1 }
                guard next > start else { continue }
                precondition(queryRows[next - 1] - queryRows[start] == next - 1 - start, "query rows of an example must be consecutive")
                let block = AttentionBlock(queryStart: start, queryCount: next - start, firstQueryRow: queryRows[start] - segment.lowerBound,
                                           keyStart: segment.lowerBound, keyCount: segment.count, probabilityOffset: offset)
                blocks.append(block)
                offset += heads * block.probabilityCount
            }
            precondition(next == queryRows.count, "query rows must be ascending")
            return blocks
        }
    }

    // MARK: - Forward

    /// What one layer's backward pass reads. Q query rows (all R rows, or the pooled rows in the last layer).
    struct LayerActivations {
        let input: [Float]        // x [R, H]
        let queryRows: [Int]      // [Q] rows of x the layer outputs
        let h: [Float]            // RMSNorm₁(x) [R, H]
        let hQueries: [Float]     // h at the query rows [Q, H]
        let q: [Float]            // after RoPE [Q, n_h·d]
        let k: [Float]            // after RoPE [R, n_kv·d]
        let v: [Float]            // [R, n_kv·d]
        let blocks: [AttentionBlock]
        let probabilities: [Float]
        let attended: [Float]     // softmax·v [Q, n_h·d]
        let residual: [Float]     // r = x + o(attended) [Q, H]
        let h2: [Float]           // RMSNorm₂(r) [Q, H]
        let gate: [Float]         // [Q, I], before silu
        let up: [Float]           // [Q, I]
        let activated: [Float]    // silu(gate) ⊙ up [Q, I]
    }

    struct ForwardPass {
        let layers: [LayerActivations]
        /// The last layer's output at the pooled rows [B, H], before the final norm.
        let pooled: [Float]
        let normed: [Float]
        let logits: [Float]
    }

    func forward(_ stack: RowStack) -> ForwardPass {
        var x = stack.hidden
        var activations: [LayerActivations] = []
        for (i, layer) in layers.enumerated() {
            let queryRows = i == layers.count - 1 ? stack.pooledRows : Array(0..<stack.rows)
            let a = layerForward(layer, x, queryRows: queryRows, stack: stack)
            x = a.output
            activations.append(a.activations)
        }
        let pooled = layers.isEmpty ? gather(x, stack.pooledRows) : x
        // Final RMSNorm, then score (no bias) on the pooled rows only (SPEC 3.7, 4).
        let normed = TrainingCalls.rmsNorm(pooled, parameters, finalNorm, eps: eps)
        let logits = TrainingCalls.linear(normed, rows: stack.pooledRows.count, parameters, score)
        return ForwardPass(layers: activations, pooled: pooled, normed: normed, logits: logits)
    }

    /// Pre-norm decoder layer (SPEC 3.6): r = x + Attn(RMSNorm₁(x)); out = r + MLP(RMSNorm₂(r)), at
    /// `queryRows`; keys and values come from every row.
    func layerForward(_ w: Layer, _ x: [Float], queryRows: [Int], stack: RowStack) -> (output: [Float], activations: LayerActivations) {
        let rows = stack.rows, count = queryRows.count
        let h = TrainingCalls.rmsNorm(x, parameters, w.inputNorm, eps: eps)
        let hQueries = gather(h, queryRows)
        var q = TrainingCalls.linear(hQueries, rows: count, parameters, w.q, bias: w.qBias)
        var k = TrainingCalls.linear(h, rows: rows, parameters, w.k, bias: w.kBias)
        let v = TrainingCalls.linear(h, rows: rows, parameters, w.v, bias: w.vBias)
        KernelCalls.rotary(&q, heads: heads, headDim: headDim, positions: queryRows, cos: stack.cos, sin: stack.sin)
        KernelCalls.rotary(&k, heads: kvHeads, headDim: headDim, positions: Array(0..<rows), cos: stack.cos, sin: stack.sin)
        let blocks = stack.attentionBlocks(queryRows, heads: heads)
        let (attended, probabilities) = TrainingCalls.attention(q: q, k: k, v: v, keyMask: stack.keyMask, blocks: blocks,
                                                                heads: heads, kvHeads: kvHeads, headDim: headDim)
        var residual = gather(x, queryRows)
        KernelCalls.add(&residual, TrainingCalls.linear(attended, rows: count, parameters, w.o, bias: w.oBias))

        // MLP: down(silu(gate(h2)) ⊙ up(h2)), no biases.
        let h2 = TrainingCalls.rmsNorm(residual, parameters, w.postAttentionNorm, eps: eps)
        let gate = TrainingCalls.linear(h2, rows: count, parameters, w.gate)
        let up = TrainingCalls.linear(h2, rows: count, parameters, w.up)
        var activated = gate
        KernelCalls.swiGLU(gate: &activated, up: up)
        var output = residual
        KernelCalls.add(&output, TrainingCalls.linear(activated, rows: count, parameters, w.down))
        let kept = LayerActivations(input: x, queryRows: queryRows, h: h, hQueries: hQueries, q: q, k: k, v: v, blocks: blocks,
                                    probabilities: probabilities, attended: attended, residual: residual, h2: h2,
                                    gate: gate, up: up, activated: activated)
        return (output, kept)
    }

    // MARK: - Backward

    struct BackwardPass {
        let loss: Double
        let gradient: [Float]
        /// d loss / d stack.hidden [R, H]: the gradient with respect to the examples' inputs.
        let inputGradient: [Float]
    }

    func backward(_ stack: RowStack, targets: [Double], problem: SequenceClassificationLoss.Problem) -> BackwardPass {
        let pass = forward(stack)
        let (loss, dLogits) = SequenceClassificationLoss.meanLoss(logits: pass.logits.map(Double.init), numLabels: numLabels, targets: targets, problem: problem)
        var gradient = [Float](repeating: 0, count: parameters.count)
        let batch = stack.pooledRows.count
        let dNormed = TrainingCalls.linearBackward(dLogits.map(Float.init), x: pass.normed, rows: batch, parameters, score, gradient: &gradient)
        var dx = TrainingCalls.rmsNormBackward(dNormed, x: pass.pooled, parameters, finalNorm, eps: eps, gradient: &gradient)
        for (layer, activations) in zip(layers, pass.layers).reversed() {
            dx = layerBackward(layer, activations, dOutput: dx, stack: stack, gradient: &gradient)
        }
        if layers.isEmpty { dx = scatter(dx, rows: stack.pooledRows, into: [Float](repeating: 0, count: stack.hidden.count)) }
        return BackwardPass(loss: loss, gradient: gradient, inputGradient: dx)
    }

    /// Gradients of one layer's tensors into `gradient`; returns d loss / d input [R, H] from
    /// d loss / d output at the query rows [Q, H].
    func layerBackward(_ w: Layer, _ a: LayerActivations, dOutput: [Float], stack: RowStack, gradient: inout [Float]) -> [Float] {
        let rows = stack.rows, count = a.queryRows.count
        // MLP, in reverse: out = r + down(silu(gate) ⊙ up), gate/up = W·RMSNorm₂(r).
        var dResidual = dOutput
        let dActivated = TrainingCalls.linearBackward(dOutput, x: a.activated, rows: count, parameters, w.down, gradient: &gradient)
        let (dGate, dUp) = TrainingCalls.swiGLUBackward(dActivated, gate: a.gate, up: a.up)
        var dh2 = TrainingCalls.linearBackward(dGate, x: a.h2, rows: count, parameters, w.gate, gradient: &gradient)
        KernelCalls.add(&dh2, TrainingCalls.linearBackward(dUp, x: a.h2, rows: count, parameters, w.up, gradient: &gradient))
        KernelCalls.add(&dResidual, TrainingCalls.rmsNormBackward(dh2, x: a.residual, parameters, w.postAttentionNorm, eps: eps, gradient: &gradient))

        // Attention, in reverse: r = x + o(attention(RoPE(q), RoPE(k), v)), q/k/v = W·RMSNorm₁(x).
        let dAttended = TrainingCalls.linearBackward(dResidual, x: a.attended, rows: count, parameters, w.o, bias: w.oBias, gradient: &gradient)
        var (dq, dk, dv) = TrainingCalls.attentionBackward(dAttended, q: a.q, k: a.k, v: a.v, probabilities: a.probabilities,
                                                           keyMask: stack.keyMask, blocks: a.blocks, heads: heads, kvHeads: kvHeads, headDim: headDim)
        // RoPE is a rotation per position; its transpose rotates by −angle.
        KernelCalls.rotary(&dq, heads: heads, headDim: headDim, positions: a.queryRows, cos: stack.cos, sin: stack.negativeSin)
        KernelCalls.rotary(&dk, heads: kvHeads, headDim: headDim, positions: Array(0..<rows), cos: stack.cos, sin: stack.negativeSin)
        var dh = TrainingCalls.linearBackward(dk, x: a.h, rows: rows, parameters, w.k, bias: w.kBias, gradient: &gradient)
        KernelCalls.add(&dh, TrainingCalls.linearBackward(dv, x: a.h, rows: rows, parameters, w.v, bias: w.vBias, gradient: &gradient))
        let dhQueries = TrainingCalls.linearBackward(dq, x: a.hQueries, rows: count, parameters, w.q, bias: w.qBias, gradient: &gradient)
        dh = scatter(dhQueries, rows: a.queryRows, into: dh)
        let dInput = TrainingCalls.rmsNormBackward(dh, x: a.input, parameters, w.inputNorm, eps: eps, gradient: &gradient)
        return scatter(dResidual, rows: a.queryRows, into: dInput)
    }

    // MARK: - Rows

    /// Rows `rows` of x [_, H], as [rows.count, H].
    func gather(_ x: [Float], _ rows: [Int]) -> [Float] {
        let h = hiddenSize
        var out: [Float] = []
        out.reserveCapacity(rows.count * h)
        for r in rows { out += x[(r * h)..<((r + 1) * h)] }
        return out
    }

    /// `base` with row rows[i] increased by row i of `values` (the transpose of `gather`).
    func scatter(_ values: [Float], rows: [Int], into base: [Float]) -> [Float] {
        let h = hiddenSize
        var out = base
        for (i, r) in rows.enumerated() { for j in 0..<h { out[r * h + j] += values[i * h + j] } }
        return out
    }
}
