import Support

/// The token sequences PixelGPT's text and pair modalities consume (SPEC 6): one text is `[BOS] + A`, a
/// pair is `[BOS] + A + [BOS] + B` with no separator and no EOS (LlamaTokenizerFast's post-processor with
/// add_bos_token=True, add_eos_token=False), truncated longest-first so that the whole sequence, BOS
/// tokens included, fits `maxLength`.
public struct PixelGPTTextInputs: Sendable {
    public let tokenizer: SentencePieceTokenizer
    /// The longest sequence to produce, special tokens included; nil for no truncation.
    public let maxLength: Int?

    public init(tokenizer: SentencePieceTokenizer, maxLength: Int? = nil) throws(TokenizerError) {
        if let maxLength, maxLength < 2 {
            // A pair needs room for its two BOS tokens; the tokenizers library refuses less as well.
            throw TokenizerError(path: "max_length", .maxLengthTooSmall(maxLength))
        }
        self.tokenizer = tokenizer
        self.maxLength = maxLength
    }

    /// `[BOS] + A`, or `[BOS] + A + [BOS] + B` when `pair` is given.
    public func encode(_ text: String, pair: String? = nil) -> [Int32] {
        let bos = tokenizer.beginOfSequenceID
        var first = tokenizer.encode(text, addBOS: false)
        guard let pair else {
            if let maxLength { first = Array(first.prefix(maxLength - 1)) }
            return [bos] + first
        }
        var second = tokenizer.encode(pair, addBOS: false)
        if let maxLength {
            let (n1, n2) = LongestFirstTruncation.lengths(first.count, second.count, budget: maxLength - 2)
            first.removeLast(first.count - n1)
            second.removeLast(second.count - n2)
        }
        return [bos] + first + [bos] + second
    }

    /// One input per element, in order, encoded on `threads` threads (contiguous chunks, so the output
    /// order and values do not depend on the thread count).
    public func encode(_ requests: [TokenizationRequest], threads: Int = 1) -> [[Int32]] {
        var results = [[Int32]](repeating: [], count: requests.count)
        results.withUnsafeMutableBufferPointer { output in
            ParallelRanges.run(requests.count, threads: max(1, threads), minimumPerWorker: 256) { _, range in
                for i in range { output[i] = encode(requests[i].text, pair: requests[i].textPair) }
            }
        }
        return results
    }
}

/// The longest_first strategy of the Hugging Face tokenizers library (truncate_encodings, stride 0,
/// truncating on the right), which the fast tokenizer the fine-tuning scripts used applies (SPEC 6): when
/// the pair does not fit, keep the shorter sequence whole if the longer one can shrink to make room,
/// otherwise give each half the budget (the longer one the odd token).
public enum LongestFirstTruncation {
    /// The lengths to keep of two sequences of `first` and `second` tokens within `budget` tokens.
    public static func lengths(_ first: Int, _ second: Int, budget: Int) -> (Int, Int) {
        guard first + second > budget else { return (first, second) }
        var n1 = first, n2 = second
        let swapped = n1 > n2
        if swapped { swap(&n1, &n2) }
        // n1 is now the shorter one.
        n2 = n1 > budget ? n1 : max(n1, budget - n1)
        if n1 + n2 > budget {
            n1 = budget / 2
            n2 = n1 + budget % 2
        }
        return swapped ? (n2, n1) : (n1, n2)
    }
}

/// Sequences padded on the right to a common length with an attention mask (1 = token, 0 = padding), as
/// DataCollatorWithPadding does with padding_side "right" and pad = EOS = 2 (SPEC 6, 11.8).
public struct PaddedBatch: Sendable, Equatable {
    public let inputIDs: [[Int32]]
    public let attentionMask: [[Int32]]
    public var length: Int { inputIDs.first?.count ?? 0 }

    /// Pads to the batch's longest sequence, rounded up to a multiple of `padToMultipleOf` when given
    /// (pad_to_multiple_of=8 in the fp16 text runs).
    public init(_ sequences: [[Int32]], padID: Int32 = LlamaSpecialTokens.padding, padToMultipleOf multiple: Int? = nil) {
        var length = sequences.map(\.count).max() ?? 0
        if let multiple, multiple > 1, length % multiple != 0 { length += multiple - length % multiple }
        inputIDs = sequences.map { $0 + [Int32](repeating: padID, count: length - $0.count) }
        attentionMask = sequences.map { [Int32](repeating: 1, count: $0.count) + [Int32](repeating: 0, count: length - $0.count) }
    }

    /// Consecutive batches of `batchSize` sequences, each padded to its own maximum.
    public static func batches(_ sequences: [[Int32]], batchSize: Int, padID: Int32 = LlamaSpecialTokens.padding,
                               padToMultipleOf multiple: Int? = nil) -> [PaddedBatch] {
        precondition(batchSize > 0, "batch size must be positive")
        return stride(from: 0, to: sequences.count, by: batchSize).map {
            PaddedBatch(Array(sequences[$0..<min($0 + batchSize, sequences.count)]), padID: padID, padToMultipleOf: multiple)
        }
    }
}
