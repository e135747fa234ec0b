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
    let text: PixelGPTTextInputs?
    let renderer: TextRenderer?

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
        Self.effectiveBatchSize(requested, modality: modality, pooling: pooling)
    }

    public static func effectiveBatchSize(_ requested: Int, modality: TaskDefinition.Modality, pooling: PoolingRule) -> Int {
        modality == .pair && pooling == .upstream ? upstreamEvalBatch : max(1, requested)
    }

    /// Features [rows.count, H] of `rows`; `progress` gets the rows done. With `rendered`, pixels come from
    /// the original's pre-rendered file instead of the renderer.
    ///
    /// Each row's pooled position is decided as upstream decides it: in consecutive groups of
    /// `effectiveBatchSize(batchSize)` rows in the given order, text padded to the group's longest (SPEC 4;
    /// this is what makes pair-mode pooling batch-dependent). The computation then runs in batches of
    /// `batchSize` rows sorted by how many positions they need, within windows of a few groups (memory
    /// stays bounded), and the model runs only the positions the pooled states see (right padding, masked
    /// patches; pair-mode text keeps its upstream positions after the full patch count P). So features
    /// equal those of the upstream batching up to float summation order, at the cost of the real lengths.
    func features(of rows: [ExampleRow], batchSize: Int, rendered: RenderedImages? = nil, progress: (Int) -> Void = { _ in }) throws -> [Float] {
        let group = effectiveBatchSize(batchSize), computeBatch = max(1, batchSize)
        let windowRows = group * max(1, (4 * max(computeBatch, group) + group - 1) / group)
        let h = featureSize
        var features = [Float](repeating: 0, count: rows.count * h)
        var done = 0
        for windowStart in stride(from: 0, to: rows.count, by: windowRows) {
            let window = Array(rows[windowStart..<min(rows.count, windowStart + windowRows)])
            let encoded = try encode(window, rendered: rendered)
            var pooled: [Int] = []
            for groupStart in stride(from: 0, to: window.count, by: group) {
                pooled += pooledPositions(Array(encoded[groupStart..<min(window.count, groupStart + group)]))
            }
            // Cheapest first: rows needing similar numbers of positions share a batch (stable on ties).
            let cost = window.indices.map { neededPositions(encoded[$0], pooled: pooled[$0]) }
            let order = window.indices.sorted { (cost[$0], $0) < (cost[$1], $1) }
            for batchStart in stride(from: 0, to: order.count, by: computeBatch) {
                let members = Array(order[batchStart..<min(order.count, batchStart + computeBatch)])
                let positions = members.map { pooled[$0] }
                let batchRows = members.map { encoded[$0] }
                let p = modality == .text ? 0 : sequenceLength
                // Text right-padded to the longest row or the furthest pooled token (a position upstream
                // padded to stays a pad here); pixel strips cut after the last pooled patch in pixel mode
                // (causality, SPEC 3.5), whole in pair mode (text starts at P, SPEC 3.4).
                let textLength = zip(batchRows, positions).map { max($0.ids.count, $1 + 1 - p) }.max() ?? 0
                let patches = modality == .pixel ? (positions.max() ?? 0) + 1 : p
                let inputs = try batchInputs(batchRows, textLength: textLength, patches: patches)
                let states = try model.pooledHiddenStates(inputs, at: positions)
                for (b, member) in members.enumerated() {
                    let target = (windowStart + member) * h
                    for i in 0..<h { features[target + i] = states[b * h + i] }
                }
                done += members.count
                progress(done)
            }
        }
        return features
    }

    /// One row as the model reads it: token ids (text, pair) and the rendered strip (pixel, pair).
    struct EncodedRow {
        let ids: [Int32]
        let strip: PatchModelInput?
    }

    func encode(_ rows: [ExampleRow], rendered: RenderedImages?) throws -> [EncodedRow] {
        let ids = rows.map { row in text.map { $0.encode(row.textA, pair: row.textB) } ?? [] }
        guard let renderer else { return ids.map { EncodedRow(ids: $0, strip: nil) } }
        let strips: [PatchModelInput]
        if let rendered {
            strips = try rendered.inputs(forLines: rows.map(\.line))
        } else {
            strips = try rows.map { row in
                try (row.textB.map { try renderer.render(row.textA, pair: $0, maxSeqLength: sequenceLength, mode: .rgb) }
                    ?? renderer.render(row.textA, maxSeqLength: sequenceLength, mode: .rgb)).patchModelInput()
            }
        }
        return zip(ids, strips).map { EncodedRow(ids: $0, strip: $1) }
    }

    /// The model's one pad id (config's, else eos: the scripts' pad = eos, SPEC 4, 6), used both to pad
    /// and to find the pooled token.
    var padTokenId: Int { model.padTokenId }

    /// The pooled position (index into patches then text) of each row of one upstream group (SPEC 4).
    func pooledPositions(_ group: [EncodedRow]) -> [Int] {
        let t = group.map(\.ids.count).max() ?? 0, p = modality == .text ? 0 : sequenceLength
        var ids: [Int] = [], textMask: [Float] = [], patchMask: [Float] = []
        for row in group {
            ids += row.ids.map(Int.init) + [Int](repeating: padTokenId, count: t - row.ids.count)
            textMask += [Float](repeating: 1, count: row.ids.count) + [Float](repeating: 0, count: t - row.ids.count)
            if let strip = row.strip { patchMask += strip.patchAttentionMask }
        }
        return Pooling.poolingIndex(modality: modality, batch: group.count, inputIds: ids, textMask: textMask, textLength: t,
                                    patchMask: patchMask, patchCount: p, padTokenId: padTokenId, rule: pooling)
    }

    /// About how many positions the pooled path runs for a row: its attended patches up to the pooled one,
    /// and its text up to the pooled token.
    func neededPositions(_ row: EncodedRow, pooled: Int) -> Int {
        let p = modality == .text ? 0 : sequenceLength
        let patches = row.strip.map { strip in (0..<min(p, pooled + 1)).reduce(0) { $0 + (strip.patchAttentionMask[$1] == 1 ? 1 : 0) } } ?? 0
        return patches + max(0, pooled + 1 - p)
    }

    /// The inputs of a batch of encoded rows: text right-padded to `textLength` with the pad id, the first
    /// `patches` patches of each strip.
    func batchInputs(_ rows: [EncodedRow], textLength t: Int, patches: Int) throws -> ForwardInputs {
        var ids: InputArray<Int>?, textMask: InputArray<Float>?
        var pixels: InputArray<Float>?, patchMask: InputArray<Float>?
        if modality != .pixel {
            ids = InputArray(shape: [rows.count, t], values: rows.flatMap { $0.ids.map(Int.init) + [Int](repeating: padTokenId, count: t - $0.ids.count) })
            textMask = InputArray(shape: [rows.count, t], values: rows.flatMap { [Float](repeating: 1, count: $0.ids.count) + [Float](repeating: 0, count: t - $0.ids.count) })
        }
        if modality != .text {
            let width = patches * ForwardInputs.patchSize, fullWidth = sequenceLength * ForwardInputs.patchSize
            var values: [Float] = []
            values.reserveCapacity(rows.count * 3 * 16 * width)
            for row in rows {
                let input = row.strip!.pixelValues  // [3, 16, fullWidth]
                for line in 0..<(3 * 16) { values += input[(line * fullWidth)..<(line * fullWidth + width)] }
            }
            pixels = InputArray(shape: [rows.count, 3, 16, width], values: values)
            patchMask = InputArray(shape: [rows.count, patches], values: rows.flatMap { $0.strip!.patchAttentionMask.prefix(patches) })
        }
        switch modality {
        case .text: return try ForwardInputs(inputIds: ids, attentionMask: textMask)
        case .pixel: return try ForwardInputs(attentionMask: patchMask, pixelValues: pixels)
        case .pair: return try ForwardInputs(inputIds: ids, attentionMask: textMask, pixelValues: pixels, patchAttentionMask: patchMask)
        }
    }

    /// One upstream batch exactly as the original scripts build it (text padded to the batch's longest,
    /// full strips), for checking the batching above against.
    func inputs(for batch: [ExampleRow], rendered: RenderedImages? = nil) throws -> ForwardInputs {
        let encoded = try encode(batch, rendered: rendered)
        let t = encoded.map(\.ids.count).max() ?? 0
        return try batchInputs(encoded, textLength: t, patches: modality == .text ? 0 : sequenceLength)
    }
}
