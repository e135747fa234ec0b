import Foundation
import Model
import Render
import Text

/// Turns dataset rows into pooled features: encode for the modality (tokenize, render, or both; SPEC 5, 6),
/// run the model in batches, and keep the final hidden state at each row's pooling position (SPEC 4).
/// Features are what `score` reads, so any bias-free head applies to them afterwards.
public final class Featurizer {
    public let model: PixelGPTModel
    public let modality: TaskDefinition.Modality
    /// SEQ_LEN: tokens (text), patches (pixel), patches and at most as many tokens (pair).
    public let sequenceLength: Int
    public let pooling: PoolingRule
    private let text: PixelGPTTextInputs?
    private let renderer: TextRenderer?

    /// The evaluation batch of the original scripts: pair-mode pooling depends on it (SPEC 4).
    public static let upstreamEvalBatch = 8

    public init(model: PixelGPTModel, modality: TaskDefinition.Modality, sequenceLength: Int, pooling: PoolingRule,
                tokenizer: SentencePieceTokenizer?, renderer: TextRenderer?) throws {
        self.model = model
        self.modality = modality
        self.sequenceLength = sequenceLength
        self.pooling = pooling
        if modality != .pixel {
            guard let tokenizer else { throw TaskError(task: "featurizer", key: "tokenizer", reason: "\(modality.rawValue) modality needs a tokenizer") }
            text = try PixelGPTTextInputs(tokenizer: tokenizer, maxLength: sequenceLength)
        } else {
            text = nil
        }
        if modality != .text && renderer == nil {
            throw TaskError(task: "featurizer", key: "renderer", reason: "\(modality.rawValue) modality needs a renderer")
        }
        self.renderer = modality == .text ? nil : renderer
    }

    public var featureSize: Int { model.config.hiddenSize }

    /// The batch size actually used: upstream pooling in pair mode is only reproduced in batches of 8 in
    /// file order, right-padded to the longest text of the batch.
    public func effectiveBatchSize(_ requested: Int) -> Int {
        modality == .pair && pooling == .upstream ? Self.upstreamEvalBatch : max(1, requested)
    }

    /// Features [rows.count, H] of `rows`, computed in consecutive batches; `progress` gets the rows done.
    /// With `rendered`, pixels come from the original's pre-rendered file instead of the renderer.
    func features(of rows: [ExampleRow], batchSize: Int, rendered: RenderedImages? = nil, progress: (Int) -> Void = { _ in }) throws -> [Float] {
        let size = effectiveBatchSize(batchSize)
        var features: [Float] = []
        features.reserveCapacity(rows.count * featureSize)
        var start = 0
        while start < rows.count {
            let batch = Array(rows[start..<min(rows.count, start + size)])
            features += try pooledFeatures(batch, rendered: rendered)
            start += batch.count
            progress(start)
        }
        return features
    }

    func inputs(for batch: [ExampleRow], rendered: RenderedImages? = nil) throws -> ForwardInputs {
        var ids: InputArray<Int>?, textMask: InputArray<Float>?
        var pixels: InputArray<Float>?, patchMask: InputArray<Float>?
        if let text {
            let padded = PaddedBatch(batch.map { text.encode($0.textA, pair: $0.textB) })
            let t = padded.length
            ids = InputArray(shape: [batch.count, t], values: padded.inputIDs.flatMap { $0.map(Int.init) })
            textMask = InputArray(shape: [batch.count, t], values: padded.attentionMask.flatMap { $0.map(Float.init) })
        }
        if let renderer {
            let strips: [PatchModelInput]
            if let rendered {
                strips = try rendered.inputs(forLines: batch.map(\.line))
            } else {
                strips = try batch.map { row in
                    try (row.textB.map { try renderer.render(row.textA, pair: $0, maxSeqLength: sequenceLength, mode: .rgb) }
                        ?? renderer.render(row.textA, maxSeqLength: sequenceLength, mode: .rgb)).patchModelInput()
                }
            }
            // Causality makes patches after a row's last attended one irrelevant to it (SPEC 3.5), so pixel
            // mode runs only as many patches as the batch attends; pair mode keeps all P, because text
            // positions continue at the padded patch count (SPEC 3.4).
            let masks = strips.map(\.patchAttentionMask)
            let attended = masks.map { Int($0.reduce(0, +)) }.max() ?? sequenceLength
            let patches = modality == .pixel ? max(1, attended) : sequenceLength
            let width = patches * ForwardInputs.patchSize, fullWidth = sequenceLength * ForwardInputs.patchSize
            var values: [Float] = []
            values.reserveCapacity(batch.count * 3 * 16 * width)
            for strip in strips {
                let input = strip.pixelValues  // [3, 16, fullWidth]
                for row in 0..<(3 * 16) { values += input[(row * fullWidth)..<(row * fullWidth + width)] }
            }
            pixels = InputArray(shape: [batch.count, 3, 16, width], values: values)
            patchMask = InputArray(shape: [batch.count, patches], values: masks.flatMap { $0.prefix(patches) })
        }
        switch modality {
        case .text: return try ForwardInputs(inputIds: ids, attentionMask: textMask)
        case .pixel: return try ForwardInputs(attentionMask: patchMask, pixelValues: pixels)
        case .pair: return try ForwardInputs(inputIds: ids, attentionMask: textMask, pixelValues: pixels, patchAttentionMask: patchMask)
        }
    }

    func pooledFeatures(_ batch: [ExampleRow], rendered: RenderedImages? = nil) throws -> [Float] {
        let inputs = try inputs(for: batch, rendered: rendered)
        let output = try model.forward(inputs, options: ForwardOptions(hiddenStates: false, lmHeads: false, pooling: pooling))
        let index = Pooling.poolingIndex(inputs, padTokenId: model.config.padTokenId ?? Int(LlamaSpecialTokens.padding), rule: pooling)
        let h = featureSize, length = output.sequenceLength
        var features: [Float] = []
        features.reserveCapacity(batch.count * h)
        for (b, position) in index.enumerated() {
            let start = (b * length + position) * h
            features += output.lastHiddenState[start..<(start + h)]
        }
        return features
    }
}
