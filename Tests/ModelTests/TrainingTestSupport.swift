import Checkpoints
import Foundation
import Support
import TestSupport
@testable import Model
@testable import Training

/// Tiny random PixelGPT models and inputs for the `TrainableTail` tests: several layers, GQA (4 query
/// heads over 2 KV heads), and weights large enough (initializer_range 0.3) that every layer, the
/// attention and the gates do something the gradients can see.
enum TrainingFixtures {
    static func config(layers: Int = 3, attentionBias: Bool = false, numLabels: Int? = nil) -> PixelGPTConfig {
        var c = PixelGPTConfig.preset(.tiny)
        (c.vocabSize, c.hiddenSize, c.intermediateSize, c.numHiddenLayers, c.numAttentionHeads, c.numKeyValueHeads) = (64, 16, 24, layers, 4, 2)
        c.maxPositionEmbeddings = 64
        c.initializerRange = 0.3
        c.attentionBias = attentionBias
        return numLabels.map { c.forSequenceClassification(numLabels: $0) } ?? c
    }

    /// A random checkpoint in the released layout, written and loaded back through the normal path.
    static func model(_ config: PixelGPTConfig, seed: UInt64 = 11) throws -> PixelGPTModel {
        let directory = try TemporaryDirectory()
        try RandomCheckpoint.write(config: config, seed: seed, to: directory.file("model"))
        return try PixelGPTModel.load(path: directory.file("model")).model
    }

    /// Text rows right-padded with the pad id 2 (the pooled row is the last real token), the last row
    /// unpadded; ids avoid 2 otherwise.
    static func text(lengths: [Int], width: Int, seed: UInt64) throws -> ForwardInputs {
        var random = SplitMix64(state: seed)
        var ids: [Int] = [], mask: [Float] = []
        for length in lengths {
            for t in 0..<width {
                ids.append(t < length ? 3 + Int(random.next() % 60) : 2)
                mask.append(t < length ? 1 : 0)
            }
        }
        return try ForwardInputs(inputIds: InputArray(shape: [lengths.count, width], values: ids),
                                 attentionMask: InputArray(shape: [lengths.count, width], values: mask))
    }

    /// Random pixels with `patches[b]` unmasked patches per row (0 gives an all-zero mask); with `text`,
    /// a pair-mode input whose padded patch slots sit before the text.
    static func pixels(patches: [Int], width: Int, text: ForwardInputs? = nil, seed: UInt64) throws -> ForwardInputs {
        var random = TestRandom(state: seed)
        let values = random.array(patches.count * 3 * 16 * 16 * width).map { ($0 + 1) / 2 }
        let mask = patches.flatMap { n in (0..<width).map { Float($0 < n ? 1 : 0) } }
        let pixelValues = InputArray(shape: [patches.count, 3, 16, 16 * width], values: values)
        let patchMask = InputArray(shape: [patches.count, width], values: mask)
        guard let text else { return try ForwardInputs(attentionMask: patchMask, pixelValues: pixelValues) }
        return try ForwardInputs(inputIds: InputArray(shape: [text.batchSize, text.textLength], values: text.inputIds),
                                 attentionMask: InputArray(shape: [text.batchSize, text.textLength], values: text.textMask),
                                 pixelValues: pixelValues, patchAttentionMask: patchMask)
    }

    /// One input of each modality, with padding: text; pixel (one row with an all-zero mask, which
    /// attends uniformly); pair (the unpadded text row pools the padded last pixel slot, SPEC 4).
    static func inputs(_ modality: Modality) throws -> ForwardInputs {
        switch modality {
        case .text: try text(lengths: [5, 9, 3], width: 9, seed: 1)
        case .pixel: try pixels(patches: [4, 7, 0], width: 7, seed: 2)
        case .pair: try pixels(patches: [3, 5, 2], width: 6, text: text(lengths: [4, 6, 2], width: 6, seed: 3), seed: 4)
        }
    }

    /// Pair mode where row 0's pooled slot sees no key: every patch masked and the text left-padded, so it
    /// pools P − 1 (SPEC 4) and its tail example is the whole sequence with the pooled row inside it.
    static func pairPoolingAMaskedSlot() throws -> ForwardInputs {
        let text = try ForwardInputs(inputIds: InputArray(shape: [2, 5], values: [2, 2, 7, 8, 9, 5, 6, 7, 2, 2]),
                                     attentionMask: InputArray(shape: [2, 5], values: [0, 0, 1, 1, 1, 1, 1, 1, 0, 0]))
        return try pixels(patches: [0, 3], width: 4, text: text, seed: 6)
    }

    /// N(0, scale²)-ish noise on every parameter, so norm gains and biases are not at their 1 and 0.
    static func perturb(_ tail: TrainableTail, scale: Float, seed: UInt64) {
        var random = TestRandom(state: seed)
        tail.parameters = tail.parameters.map { $0 + scale * random.next() }
    }
}
