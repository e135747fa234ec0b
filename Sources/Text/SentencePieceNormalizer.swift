/// The text rewriting sentencepiece applies before segmentation (normalizer.cc, Normalizer::Normalize)
/// for the identity normalizer that Llama-2 uses (SPEC 6): optional removal of extra spaces, the dummy
/// "▁" prefix, and spaces escaped as "▁" (U+2581). Only the ASCII space counts as whitespace here; tabs
/// and newlines pass through unchanged, exactly as in the reference.
struct SentencePieceNormalizer: Sendable {
    var addDummyPrefix: Bool
    var removeExtraWhitespaces: Bool
    var escapeWhitespaces: Bool
    var treatWhitespaceAsSuffix: Bool

    static let spaceSymbol: [UInt8] = [0xE2, 0x96, 0x81]  // "▁"

    init(_ model: SentencePieceModel) {
        addDummyPrefix = model.addDummyPrefix
        removeExtraWhitespaces = model.removeExtraWhitespaces
        escapeWhitespaces = model.escapeWhitespaces
        treatWhitespaceAsSuffix = model.treatWhitespaceAsSuffix
    }

    /// The most bytes `normalize` writes for `inputCount` input bytes: every byte a space turned into a
    /// three-byte "▁", plus the dummy prefix or suffix.
    static func capacity(forInputCount inputCount: Int) -> Int { 3 * inputCount + 3 }

    /// Writes the normalized form of `input` (valid UTF-8) to `output` (at least
    /// `capacity(forInputCount:)` bytes) and returns its length. An input that is empty, or only spaces
    /// when extra spaces are removed, normalizes to nothing: no dummy prefix either.
    func normalize(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var start = 0
        if removeExtraWhitespaces {
            while start < input.count && input[start] == 0x20 { start += 1 }
        }
        guard start < input.count else { return 0 }
        var count = 0
        if !treatWhitespaceAsSuffix && addDummyPrefix { appendSpace(output, &count) }
        // The space test is per byte: a multi-byte UTF-8 character never contains 0x20.
        var previousWasSpace = removeExtraWhitespaces
        for i in start..<input.count {
            let byte = input[i]
            if byte == 0x20 {
                if previousWasSpace { continue }
                appendSpace(output, &count)
                previousWasSpace = removeExtraWhitespaces
            } else {
                output[count] = byte
                count += 1
                previousWasSpace = false
            }
        }
        if removeExtraWhitespaces {
            // Trailing spaces go (at most one is left after the collapsing above).
            if escapeWhitespaces {
                while count >= 3 && output[count - 3] == 0xE2 && output[count - 2] == 0x96 && output[count - 1] == 0x81 { count -= 3 }
            } else {
                while count >= 1 && output[count - 1] == 0x20 { count -= 1 }
            }
        }
        if treatWhitespaceAsSuffix && addDummyPrefix { appendSpace(output, &count) }
        return count
    }

    /// The normalized bytes of `text` (tests and tools; encoding uses the buffer form).
    func normalize(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { input in
            [UInt8](unsafeUninitializedCapacity: Self.capacity(forInputCount: input.count)) { buffer, count in
                count = normalize(input, into: buffer)
            }
        }
    }

    @inline(__always)
    private func appendSpace(_ output: UnsafeMutableBufferPointer<UInt8>, _ count: inout Int) {
        if escapeWhitespaces {
            output[count] = 0xE2
            output[count + 1] = 0x96
            output[count + 2] = 0x81
            count += 3
        } else {
            output[count] = 0x20
            count += 1
        }
    }
}
