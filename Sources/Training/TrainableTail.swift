import Foundation
import Model

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
/// The forward pass is the model's own decoder layer (`PixelGPTModel.decoderLayer`, so the tail computes
/// the inference bits), which keeps every activation its backward pass needs (llm.c style); the backward
/// pass walks the layers in reverse (llama2.c `run.c` order). Examples of equal length are stacked as one
/// batch of whole sequences, so every projection is one GEMM over them; attention stays within each
/// example. The last layer computes its pooled rows only past the keys and values (the other rows'
/// outputs are never read), when the pooled rows are the examples' last, as they are unless one sees no key.
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

    /// The frozen model whose decoder layer the tail runs with its own weights.
    let model: PixelGPTModel
    let rotary: RotaryEmbedding
    let layers: [Layer]
    let finalNorm: TailTensor
    let score: TailTensor

    /// One decoder layer's tensors in the parameter vector, by role (SPEC 2.1).
    struct Layer {
        let tensors: [TensorRole: TailTensor]

        subscript(role: TensorRole) -> TailTensor? { tensors[role] }
        var inputNorm: TailTensor { tensors[.attentionNorm]! }
        var q: TailTensor { tensors[.attentionQuery]! }
        var k: TailTensor { tensors[.attentionKey]! }
        var v: TailTensor { tensors[.attentionValue]! }
        var o: TailTensor { tensors[.attentionOutput]! }
        var qBias: TailTensor? { tensors[.attentionQueryBias] }
        var kBias: TailTensor? { tensors[.attentionKeyBias] }
        var vBias: TailTensor? { tensors[.attentionValueBias] }
        var oBias: TailTensor? { tensors[.attentionOutputBias] }
        var postAttentionNorm: TailTensor { tensors[.mlpNorm]! }
        var gate: TailTensor { tensors[.mlpGate]! }
        var up: TailTensor { tensors[.mlpUp]! }
        var down: TailTensor { tensors[.mlpDown]! }
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
                throw .weightShape(name: TensorRole.score.name(), expected: [numLabels, h], actual: [initialScore.count / max(h, 1), h])
            }
            scoreValues = initialScore
        } else {
            guard let s = model.weights.score else {
                throw .unsupported("the checkpoint has no \(TensorRole.score.name()); give an initial score drawn from N(0, 0.02²)")
            }
            guard s.shape == [numLabels, h] else { throw .weightShape(name: TensorRole.score.name(), expected: [numLabels, h], actual: s.shape) }
            scoreValues = s.withFloat32(Array.init)
        }

        // The tail's tensors in checkpoint order, from the parameter table (`TensorRole`); the initialisation
        // kind tells norm gains (ones) and biases (zeros), which do not decay, from matrices (normal).
        let first = n - k
        var layout: [TailTensor] = []
        var values = [Float]()
        var layerTensors = [[TensorRole: TailTensor]](repeating: [:], count: k)
        func append(_ spec: ParameterSpec, _ source: [Float]) {
            let tensor = TailTensor(name: spec.name, shape: spec.shape, range: values.count..<(values.count + spec.elementCount),
                                    decays: spec.initialization == .normal)
            layout.append(tensor)
            values += source
        }
        for spec in config.causalLMParameters {
            guard let (role, layer) = TensorRole.parse(spec.name) else { continue }
            if let layer, layer >= first {
                guard let weight = model.weights.layers[layer][role] else { throw .missingWeight(spec.name) }
                append(spec, weight.withFloat32(Array.init))
                layerTensors[layer - first][role] = layout.last!
            } else if role == .finalNorm {
                append(spec, model.weights.finalNorm.withFloat32(Array.init))
            }
        }
        append(ParameterSpec(name: TensorRole.score.name(), shape: [numLabels, h], initialization: .normal), scoreValues)

        self.config = config
        self.model = model
        trainLayers = k
        self.numLabels = numLabels
        parameters = values
        tensorLayout = layout
        rotary = model.rotary
        layers = layerTensors.map(Layer.init)
        finalNorm = layout[layout.count - 2]
        score = layout[layout.count - 1]
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
        batch.isEmpty ? [] : forward(RowStack(batch, tail: self), keepingActivations: false).logits
    }

    /// score at the pooled row of `example`, [numLabels].
    public func logits(_ example: TailExample) -> [Float] { logits([example]) }

    /// The mean loss over `batch` (SPEC 4): cross-entropy with class ids as targets, or squared error with
    /// num_labels = 1.
    public func loss(_ batch: [TailExample], targets: [Double], problem: SequenceClassificationLoss.Problem) -> Double {
        let logits = forward(RowStack(batch, tail: self), keepingActivations: false).logits
        return SequenceClassificationLoss.meanLoss(logits: logits.map(Double.init), numLabels: numLabels, targets: targets, problem: problem).loss
    }

    /// The mean loss over `batch` and its exact gradient with respect to `parameters` (same layout).
    public func lossAndGradient(_ batch: [TailExample], targets: [Double], problem: SequenceClassificationLoss.Problem) -> (loss: Double, gradient: [Float]) {
        let result = backward(RowStack(batch, tail: self), targets: targets, problem: problem)
        return (result.loss, result.gradient)
    }


    // MARK: - Forward

    /// One layer's activations as its backward pass reads them, at `queryRows` (all rows, or the pooled rows
    /// in the last layer, whose other outputs are never read): what the model's decoder layer kept
    /// (`DecoderLayerActivations`), the query-side values reduced to those rows; per group, then stacked.
    struct LayerTape {
        var queryRows: [Int] = []
        var input: [Float] = []          // x [R, H]
        var normed: [Float] = []         // RMSNorm₁(x) [R, H]
        var normedQueries: [Float] = []  // at the query rows [Q, H]
        var q: [Float] = []              // after RoPE [Q, n_h·d]
        var k: [Float] = []              // after RoPE [R, n_kv·d]
        var v: [Float] = []              // [R, n_kv·d]
        var blocks: [AttentionBlock] = []
        var probabilities: [Float] = []  // per block, head-major
        var attended: [Float] = []       // softmax·v [Q, n_h·d]
        var residual: [Float] = []       // r = x + o(attended) [Q, H]
        var mlpNormed: [Float] = []      // RMSNorm₂(r) [Q, H]
        var gate: [Float] = []           // [Q, I], before silu
        var up: [Float] = []             // [Q, I]
        var activated: [Float] = []      // silu(gate) ⊙ up [Q, I]

        /// One group's tape (group rows). `computedAtQueries`: the layer ran a last-rows step, so its
        /// query-side values are already at `queryRows` (each example's last row).
        init(_ a: PixelGPTModel.DecoderLayerActivations, queryRows: [Int], computedAtQueries: Bool, group: RowStack.Group, heads: Int) {
            let all = queryRows.count == group.rows
            func gathered(_ x: [Float]) -> [Float] { all ? x : RowStack.gather(x, queryRows, width: x.count / group.rows) }
            func atQueries(_ x: [Float]) -> [Float] { computedAtQueries ? x : gathered(x) }
            self.queryRows = queryRows
            (input, normed, k, v) = (a.input, a.normed, a.k, a.v)
            normedQueries = gathered(a.normed)
            q = atQueries(a.q)
            (blocks, probabilities) = group.attentionBlocks(queryRows, probabilities: a.probabilities, atQueries: computedAtQueries, heads: heads)
            attended = atQueries(a.attended)
            residual = atQueries(a.residual)
            mlpNormed = atQueries(a.mlpNormed)
            (gate, up, activated) = (atQueries(a.gate), atQueries(a.up), atQueries(a.activated))
        }

        /// The groups' tapes of one layer as one, in stack rows: every backward product is then one GEMM
        /// over the batch.
        init(stacking parts: [LayerTape], groups: [RowStack.Group]) {
            var queryCount = 0
            for (part, group) in zip(parts, groups) {
                blocks += part.blocks.map {
                    AttentionBlock(queryStart: $0.queryStart + queryCount, queryCount: $0.queryCount, firstQueryRow: $0.firstQueryRow,
                                   keyStart: $0.keyStart + group.firstRow, keyCount: $0.keyCount, probabilityOffset: $0.probabilityOffset + probabilities.count)
                }
                queryRows += part.queryRows.map { $0 + group.firstRow }
                queryCount += part.queryRows.count
                probabilities += part.probabilities
                input += part.input; normed += part.normed; normedQueries += part.normedQueries
                q += part.q; k += part.k; v += part.v; attended += part.attended; residual += part.residual
                mlpNormed += part.mlpNormed; gate += part.gate; up += part.up; activated += part.activated
            }
        }
    }

    struct ForwardPass {
        /// Per layer, stacked over the groups (empty without activations).
        let tapes: [LayerTape]
        /// The last layer's output at each example's pooled row [B, H] (batch order), before the final norm.
        let pooled: [Float]
        let normed: [Float]
        let logits: [Float]
    }

    /// The trained layers' weights as the model's decoder layer reads them, packed from `parameters`.
    func layerWeights() -> [DecoderLayerWeights] {
        layers.map { layer in
            let tensors = try? PixelGPTWeights.DecoderLayer { role in
                layer[role].map { WeightTensor(name: $0.name, shape: $0.shape, values: Array(parameters[$0.range])) }
            }
            guard let tensors else { preconditionFailure("the tail's layout holds every tensor of a decoder layer") }
            return DecoderLayerWeights(tensors)
        }
    }

    func forward(_ stack: RowStack, keepingActivations keep: Bool = true) -> ForwardPass {
        let h = hiddenSize, weights = layerWeights()
        var pooled = [Float](repeating: 0, count: stack.exampleCount * h)
        var groupTapes: [[LayerTape]] = []
        for group in stack.groups {
            // The model's decoder layer over the group's sequences, the last layer's tape at the pooled rows.
            var x = group.hidden
            var tapes: [LayerTape] = []
            for (i, layer) in weights.enumerated() {
                let isLast = i == weights.count - 1, lastRows = isLast && group.poolsLastRows
                let activations = model.decoderLayer(layer, &x, step: lastRows ? group.lastRowsStep : group.step, keepingActivations: keep)
                if let activations {
                    tapes.append(LayerTape(activations, queryRows: isLast ? group.pooledRows : Array(0..<group.rows),
                                           computedAtQueries: lastRows, group: group, heads: heads))
                }
            }
            groupTapes.append(tapes)
            // After a last-rows step x holds one row per example.
            let outputRows = !weights.isEmpty && group.poolsLastRows ? Array(group.examples.indices) : group.pooledRows
            for (slot, e) in group.examples.enumerated() {
                let row = outputRows[slot]
                for j in 0..<h { pooled[e * h + j] = x[row * h + j] }
            }
        }
        // Final RMSNorm, then score (no bias) on the pooled rows only (SPEC 3.7, 4).
        let normed = TrainingCalls.rmsNorm(pooled, parameters, finalNorm, eps: eps)
        let logits = TrainingCalls.linear(normed, rows: stack.exampleCount, parameters, score)
        let tapes = keep ? weights.indices.map { l in LayerTape(stacking: groupTapes.map { $0[l] }, groups: stack.groups) } : []
        return ForwardPass(tapes: tapes, pooled: pooled, normed: normed, logits: logits)
    }

    // MARK: - Backward

    struct BackwardPass {
        let loss: Double
        let gradient: [Float]
        /// d loss / d the examples' hidden rows, [R, H] in stack order (`RowStack.segments`).
        let inputGradient: [Float]
    }

    func backward(_ stack: RowStack, targets: [Double], problem: SequenceClassificationLoss.Problem) -> BackwardPass {
        let pass = forward(stack)
        let (loss, dLogits) = SequenceClassificationLoss.meanLoss(logits: pass.logits.map(Double.init), numLabels: numLabels, targets: targets, problem: problem)
        var gradient = [Float](repeating: 0, count: parameters.count)
        let h = hiddenSize
        let dNormed = TrainingCalls.linearBackward(dLogits.map(Float.init), x: pass.normed, rows: stack.exampleCount, parameters, score, gradient: &gradient)
        let dPooled = TrainingCalls.rmsNormBackward(dNormed, x: pass.pooled, parameters, finalNorm, eps: eps, gradient: &gradient)
        // The last layer's output gradient at the pooled rows, in stack order (the tapes' query rows).
        var dx = RowStack.gather(dPooled, stack.pooledExamples, width: h)
        var rows = stack.pooledRows
        for (layer, tape) in zip(layers, pass.tapes).reversed() {
            dx = layerBackward(layer, tape, dOutput: dx, stack: stack, gradient: &gradient)
            rows = Array(0..<stack.rows)
        }
        let inputGradient = RowStack.scatter(dx, rows: rows, into: [Float](repeating: 0, count: stack.rows * h), width: h)
        return BackwardPass(loss: loss, gradient: gradient, inputGradient: inputGradient)
    }

    /// Gradients of one layer's tensors into `gradient`; returns d loss / d input [R, H] from
    /// d loss / d output at the tape's query rows [Q, H].
    func layerBackward(_ w: Layer, _ a: LayerTape, dOutput: [Float], stack: RowStack, gradient: inout [Float]) -> [Float] {
        let rows = stack.rows, count = a.queryRows.count, h = hiddenSize
        // MLP, in reverse: out = r + down(silu(gate) ⊙ up), gate/up = W·RMSNorm₂(r).
        var dResidual = dOutput
        let dActivated = TrainingCalls.linearBackward(dOutput, x: a.activated, rows: count, parameters, w.down, gradient: &gradient)
        let (dGate, dUp) = TrainingCalls.swiGLUBackward(dActivated, gate: a.gate, up: a.up)
        var dh2 = TrainingCalls.linearBackward(dGate, x: a.mlpNormed, rows: count, parameters, w.gate, gradient: &gradient)
        KernelCalls.add(&dh2, TrainingCalls.linearBackward(dUp, x: a.mlpNormed, rows: count, parameters, w.up, gradient: &gradient))
        KernelCalls.add(&dResidual, TrainingCalls.rmsNormBackward(dh2, x: a.residual, parameters, w.postAttentionNorm, eps: eps, gradient: &gradient))

        // Attention, in reverse: r = x + o(attention(RoPE(q), RoPE(k), v)), q/k/v = W·RMSNorm₁(x).
        let dAttended = TrainingCalls.linearBackward(dResidual, x: a.attended, rows: count, parameters, w.o, bias: w.oBias, gradient: &gradient)
        var (dq, dk, dv) = TrainingCalls.attentionBackward(dAttended, q: a.q, k: a.k, v: a.v, probabilities: a.probabilities,
                                                           keyMask: stack.keyMask, blocks: a.blocks, heads: heads, kvHeads: kvHeads, headDim: headDim)
        // RoPE is a rotation per position; its transpose rotates by −angle.
        KernelCalls.rotary(&dq, heads: heads, headDim: headDim, positions: a.queryRows, cos: stack.cos, sin: stack.negativeSin)
        KernelCalls.rotary(&dk, heads: kvHeads, headDim: headDim, positions: Array(0..<rows), cos: stack.cos, sin: stack.negativeSin)
        var dh = TrainingCalls.linearBackward(dk, x: a.normed, rows: rows, parameters, w.k, bias: w.kBias, gradient: &gradient)
        KernelCalls.add(&dh, TrainingCalls.linearBackward(dv, x: a.normed, rows: rows, parameters, w.v, bias: w.vBias, gradient: &gradient))
        let dhQueries = TrainingCalls.linearBackward(dq, x: a.normedQueries, rows: count, parameters, w.q, bias: w.qBias, gradient: &gradient)
        dh = RowStack.scatter(dhQueries, rows: a.queryRows, into: dh, width: h)
        let dInput = TrainingCalls.rmsNormBackward(dh, x: a.input, parameters, w.inputNorm, eps: eps, gradient: &gradient)
        return RowStack.scatter(dResidual, rows: a.queryRows, into: dInput, width: h)
    }
}
