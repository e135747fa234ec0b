/// The largest model and inputs this toolkit agrees to work on, stated once. A config.json or an inputs
/// file is a few bytes, yet the sizes it names decide how much memory every command allocates; without a
/// ceiling, `num_hidden_layers: 100000000` or an input_ids of [100000, 1] makes a command grow until the
/// kernel kills it. Each limit sits far above the released model (SPEC 1.2: 24 layers, hidden 1024,
/// intermediate 2816, vocabulary 32000, 1024 positions), so that any real checkpoint passes and a hostile
/// file fails at once with a message naming the limit.
public enum ResourceLimits {
    /// Decoder layers (the released model has 24).
    public static let maxLayers = 1024
    /// hidden_size (released: 1024).
    public static let maxHiddenSize = 65_536
    /// intermediate_size (released: 2816).
    public static let maxIntermediateSize = 262_144
    /// vocab_size and num_labels (released vocabulary: 32000).
    public static let maxVocabulary = 1_048_576
    /// max_position_embeddings, and positions per row of an input (released: 1024).
    public static let maxSequenceLength = 131_072
    /// Elements of one weight tensor: 2^32 is 16 GiB as F32 (released: at most 32.8 million, the embedding).
    public static let maxElementsPerTensor = 1 << 32
    /// Bytes of activations and outputs one forward pass may allocate: 4 GiB. The released model needs
    /// about 0.35 GB for a batch of 8 rows of 256 text positions with token logits; larger batches are
    /// split by the caller (eval batches by --batch-size).
    public static let maxForwardBytes = 1 << 32

    /// The product of `factors`, nil when it overflows Int.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for f in factors {
            let (p, overflow) = result.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            result = p
        }
        return result
    }

    /// The sum of `terms`, nil when it overflows Int.
    public static func sum(_ terms: [Int]) -> Int? {
        var result = 0
        for t in terms {
            let (s, overflow) = result.addingReportingOverflow(t)
            if overflow { return nil }
            result = s
        }
        return result
    }

    /// Bytes one forward pass allocates for `batch` rows of `patches` pixel patches and `tokens` text
    /// positions: the residual stream and one layer's workspace (as `ForwardCost` counts them), the
    /// embedding temporaries, and the outputs asked for. nil when the count overflows.
    static func forwardBytes(config: PixelGPTConfig, batch: Int, patches: Int, tokens: Int,
                             hiddenStates: Bool, lmHeads: Bool) -> Int? {
        let h = config.hiddenSize, d = config.headDimension
        let q = config.numAttentionHeads * d, kv = config.keyValueHeads * d, i = config.intermediateSize
        guard let length = sum([patches, tokens]), let positions = product([batch, length]),
              let perPosition = sum([2 * h, 2 * q, 2 * kv, 2 * i]),
              let stream = product([positions, perPosition]),
              let embedding = product([batch, patches, 768 + 2 * h]),
              let textLogits = lmHeads ? product([batch, tokens, config.vocabSize]) : 0,
              let pixelLogits = lmHeads ? product([batch, patches, 768]) : 0,
              let states = hiddenStates ? product([config.numHiddenLayers + 1, positions, h]) : 0,
              let elements = sum([stream, embedding, textLogits, pixelLogits, states])
        else { return nil }
        return product([elements, 4])
    }

    /// Refuses a forward pass whose activations and outputs exceed `maxForwardBytes`, naming the input
    /// whose shape asks for them.
    public static func checkForward(config: PixelGPTConfig, batch: Int, patches: Int, tokens: Int,
                                    hiddenStates: Bool, lmHeads: Bool) throws(ModelError) {
        let name = tokens > 0 ? "input_ids" : "pixel_values"
        guard let length = sum([patches, tokens]), length <= maxSequenceLength else {
            throw .invalidInput(name: name, reason: "\(patches) patches + \(tokens) tokens per row exceed the limit of \(maxSequenceLength) positions (ResourceLimits.maxSequenceLength; the released model reads 1024)")
        }
        let bytes = forwardBytes(config: config, batch: batch, patches: patches, tokens: tokens, hiddenStates: hiddenStates, lmHeads: lmHeads)
        guard let bytes, bytes <= maxForwardBytes else {
            let size = bytes.map { "\($0 / (1 << 20)) MiB" } ?? "more than Int.max bytes"
            throw .invalidInput(name: name, reason: "batch \(batch) × \(length) positions × hidden \(config.hiddenSize) needs \(size) of activations and outputs, over the limit of \(maxForwardBytes >> 30) GiB (ResourceLimits.maxForwardBytes); split the batch")
        }
    }
}
