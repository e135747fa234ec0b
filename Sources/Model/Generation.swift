/// Greedy generation with a KV cache, one sequence at a time: next tokens for text, next patches for
/// pixels. The prompt runs through the same decoder layers as `forward` (positions 0 ..< L, no padding),
/// then each new position attends to the cached keys and values (rotated once, at their own position, as
/// transformers' cache does). So the first prediction equals the plain forward pass at the last position.
extension PixelGPTModel {
    /// The running state of one generated sequence.
    struct GenerationState {
        var caches: [LayerCache]
        var length: Int
    }

    /// The tokens greedy decoding appends to `prompt` (at most `maxNewTokens`; stops after eos when
    /// `stopAtEOS`). Without rope_scaling, generation stops at max_position_embeddings.
    public func generateTokens(prompt: [Int], maxNewTokens: Int, stopAtEOS: Bool = true) throws(ModelError) -> [Int] {
        guard let head = packed.tokenHead else { throw .unsupported("the checkpoint has no token head (\(TensorRole.tokenHead.name()), or lm_head.weight in a Llama; tie_word_embeddings is false)") }
        guard maxNewTokens >= 1 else { return [] }
        guard !prompt.isEmpty else { throw .invalidInput(name: "input_ids", reason: "the prompt is empty") }
        let inputs = try ForwardInputs(inputIds: InputArray(shape: [1, prompt.count], values: prompt))
        try check(inputs)
        let capacity = capacityFor(prompt: prompt.count, new: maxNewTokens)
        var state = GenerationState(caches: [], length: 0)
        var x = run(tokenEmbedding(prompt), rows: prompt.count, state: &state, capacity: capacity)
        var generated: [Int] = []
        while generated.count < maxNewTokens {
            let logits = KernelCalls.linear(lastRowNormed(x), rows: 1, head)
            let next = Self.argmax(logits)
            generated.append(next)
            if (stopAtEOS && next == config.eosTokenId) || generated.count == maxNewTokens || state.length >= capacity { break }
            x = run(tokenEmbedding([next]), rows: 1, state: &state, capacity: capacity)
        }
        return generated
    }

    /// The next `count` patches after a strip of `pixelValues` [3, 16, 16P] (all P patches are context),
    /// each as the pixel head predicts it: 768 values in (y, x, c) order, in the per-patch normalised
    /// space when norm_pix_loss is on (SPEC 3.9). Each prediction is turned back into pixels by
    /// `denormalise` and fed in as the next patch.
    public func predictPatches(pixelValues: [Float], count: Int,
                               denormalise: ([Float], _ previousPatch: [Float]) -> [Float] = PixelGPTModel.denormalisePatch) throws(ModelError) -> (predictions: [[Float]], pixels: [[Float]]) {
        guard let head = packed.pixelHead else { throw .unsupported("the checkpoint has no pixel head (\(TensorRole.pixelHead.name()))") }
        guard count >= 1 else { return ([], []) }
        let width = pixelValues.count / (3 * 16)
        let inputs = try ForwardInputs(pixelValues: InputArray(shape: [1, 3, 16, width], values: pixelValues))
        try check(inputs)
        let capacity = capacityFor(prompt: inputs.patchCount, new: count)
        var state = GenerationState(caches: [], length: 0)
        var x = run(patchEmbedding(inputs), rows: inputs.patchCount, state: &state, capacity: capacity)
        var previous = Self.patch(pixelValues, index: inputs.patchCount - 1, patches: inputs.patchCount)
        var predictions: [[Float]] = [], pixels: [[Float]] = []
        while predictions.count < count {
            let prediction = KernelCalls.linear(lastRowNormed(x), rows: 1, head)
            predictions.append(prediction)
            let patch = denormalise(prediction, previous)   // (y, x, c) order, values in [0, 1]
            pixels.append(patch)
            previous = patch
            if predictions.count == count || state.length >= capacity { break }
            // Back to the conv's channel-major (c, y, x) layout as a one-patch strip.
            var strip = [Float](repeating: 0, count: 768)
            for y in 0..<16 { for xx in 0..<16 { for c in 0..<3 { strip[(c * 16 + y) * 16 + xx] = patch[(y * 16 + xx) * 3 + c] } } }
            let one = try ForwardInputs(pixelValues: InputArray(shape: [1, 3, 16, 16], values: strip))
            x = run(patchEmbedding(one), rows: 1, state: &state, capacity: capacity)
        }
        return (predictions, pixels)
    }

    /// Un-normalises a predicted patch with the mean and unbiased standard deviation of the previous
    /// patch (the target statistics are unknown at generation time; SPEC 3.9 normalises each target patch
    /// by its own), then clamps to [0, 1]. Both in (y, x, c) order.
    public static func denormalisePatch(_ prediction: [Float], previousPatch: [Float]) -> [Float] {
        let n = Float(previousPatch.count)
        let mean = previousPatch.reduce(0, +) / n
        let variance = previousPatch.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        let std = (variance + 1e-6).squareRoot()
        return prediction.map { min(1, max(0, $0 * std + mean)) }
    }

    /// Patch `index` of a [3, 16, 16P] strip in (y, x, c) order (the pixel head's order, SPEC 2.3).
    static func patch(_ pixels: [Float], index: Int, patches: Int) -> [Float] {
        let width = 16 * patches
        var out = [Float](repeating: 0, count: 768)
        for y in 0..<16 { for xx in 0..<16 { for c in 0..<3 { out[(y * 16 + xx) * 3 + c] = pixels[(c * 16 + y) * width + index * 16 + xx] } } }
        return out
    }

    /// The first index of the largest value, as torch.argmax picks it.
    static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    /// Cache rows needed: the prompt and every generated position that is fed back (the last one is not).
    func capacityFor(prompt: Int, new: Int) -> Int {
        let needed = prompt + max(0, new - 1)
        return config.ropeScaling == nil ? max(prompt, min(needed, config.maxPositionEmbeddings)) : needed
    }

    /// Runs `rows` new positions of embeddings `x` through every layer, extending the caches; returns the
    /// last layer's output for those rows (before the final norm).
    func run(_ embeddings: [Float], rows: Int, state: inout GenerationState, capacity: Int) -> [Float] {
        var x = embeddings
        let offset = state.length, total = offset + rows
        let (cos, sin) = rotary.tables(positions: total, sequenceLength: total)
        let step = DecoderStep(batch: 1, newRows: rows, offset: offset, keyMask: [Float](repeating: 1, count: total),
                               positions: Array(offset..<total), cos: cos, sin: sin)
        if state.caches.isEmpty {
            state.caches = weights.layers.map { _ in LayerCache(batch: 1, capacity: capacity, width: kvHeads * headDim) }
        }
        var workspace = LayerWorkspace(rows: rows, model: self)
        for (i, layer) in packed.layers.enumerated() {
            var cache: LayerCache? = state.caches[i]
            state.caches[i] = LayerCache(batch: 1, capacity: 0, width: 0)   // drop the shared reference: append mutates in place
            var noRecord: DecoderLayerActivations?
            decoderLayer(layer, &x, step: step, cache: &cache, workspace: &workspace, record: &noRecord)
            state.caches[i] = cache!
        }
        state.length = total
        return x
    }

    func lastRowNormed(_ x: [Float]) -> [Float] {
        KernelCalls.rmsNorm(Array(x[(x.count - hiddenSize)...]), weights.finalNorm, eps: rmsEps)
    }
}
