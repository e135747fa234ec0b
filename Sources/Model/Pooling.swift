/// Which position of each row the classification head reads.
public enum PoolingRule: String, Sendable, CaseIterable {
    /// Exactly what `ErniePixelForSequenceClassification` selects (SPEC 4), quirks included.
    case upstream
    /// The last position whose attention mask is 1 (the last real text token in pair mode when the text
    /// has one). Independent of batching, but it differs from upstream in pair mode; label results with it.
    case lastRealToken = "last-real-token"
}

public enum Pooling {
    /// The pooled position of every row (SPEC 4, 11.6-8). `padTokenId` is the pad id upstream compares
    /// against: the scripts force pad = eos = 2 at run time.
    /// - text: k_b − 1 with k_b the first position holding the pad id; a row with none gives argmax = 0,
    ///   so −1, which wraps to the last position T − 1.
    /// - pixel: (number of mask ones) − 1, normally `num_patches` (the black end patch); −1 wraps to P − 1.
    /// - pair: P + k_b − 1 with P the padded patch count. A text row with no pad pools P − 1, the last
    ///   pixel slot, so the index depends on how the evaluation set was batched and padded.
    public static func poolingIndex(_ inputs: ForwardInputs, padTokenId: Int, rule: PoolingRule = .upstream) -> [Int] {
        poolingIndex(modality: inputs.modality, batch: inputs.batchSize, inputIds: inputs.inputIds, textMask: inputs.textMask,
                     textLength: inputs.textLength, patchMask: inputs.patchMask, patchCount: inputs.patchCount,
                     padTokenId: padTokenId, rule: rule)
    }

    /// The same from the ids and masks alone ([B, T] and [B, P]), for callers that decide pooled positions
    /// before building the pixel inputs (the evaluation's length-sorted batching, SPEC 4).
    public static func poolingIndex(modality: Modality, batch: Int, inputIds: [Int], textMask: [Float], textLength t: Int,
                                    patchMask: [Float], patchCount p: Int, padTokenId: Int, rule: PoolingRule = .upstream) -> [Int] {
        let length = p + t
        if rule == .lastRealToken {
            return (0..<batch).map { b in
                let text = (0..<t).last { textMask[b * t + $0] == 1 }.map { p + $0 }
                return text ?? (0..<p).last { patchMask[b * p + $0] == 1 } ?? length - 1
            }
        }
        func firstPad(_ b: Int) -> Int {
            (0..<t).first { inputIds[b * t + $0] == padTokenId } ?? 0
        }
        return (0..<batch).map { b in
            switch modality {
            case .text:
                return (firstPad(b) - 1 + length) % length
            case .pixel:
                let ones = (0..<p).reduce(0) { $0 + (patchMask[b * p + $1] == 1 ? 1 : 0) }
                return (ones - 1 + p) % p
            case .pair:
                return p + firstPad(b) - 1
            }
        }
    }
}
