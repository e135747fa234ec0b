/// The Llama-2 tokenizer: sentencepiece's BPE encode and decode over a `SentencePieceModel`, id for id
/// what the Python `sentencepiece` package's SentencePieceProcessor gives (SPEC 6). BOS is added by
/// default and EOS is not, as LlamaTokenizerFast does with add_bos_token=True, add_eos_token=False.
public struct SentencePieceTokenizer: Sendable {
    public let model: SentencePieceModel
    private let normalizer: SentencePieceNormalizer
    private let merger: BytePairMerger
    /// Control, unknown and byte pieces: found by PieceToId but never produced by a merge.
    private let reserved: PieceTable
    private let mergeable: PieceTable
    private let byteIDs: [Int32]
    /// The id of the piece of type unknown (sentencepiece's unk_id_).
    public let unknownID: Int32

    /// A tokenizer over `model`, which must pass the checks sentencepiece makes when it loads a model
    /// (one unknown piece, unique pieces, all 256 byte pieces when byte fallback is on; BPE).
    public init(model: SentencePieceModel) throws(TokenizerError) {
        try model.validate(path: "model")
        self.init(validated: model)
    }

    /// For models that the file readers have validated already.
    init(validated model: SentencePieceModel) {
        self.model = model
        normalizer = SentencePieceNormalizer(model)
        var mergeable = PieceTable(capacity: model.pieces.count)
        var reserved = PieceTable(capacity: 300)
        var userDefined = PieceTable(capacity: 16)
        var unknownID: Int32 = model.unknownID
        for (index, piece) in model.pieces.enumerated() {
            switch piece.type {
            case .normal, .unused: mergeable.insert(piece.text, id: Int32(index))
            case .userDefined:
                mergeable.insert(piece.text, id: Int32(index))
                userDefined.insert(piece.text, id: Int32(index))
            case .unknown:
                unknownID = Int32(index)
                reserved.insert(piece.text, id: Int32(index))
            case .control, .byte: reserved.insert(piece.text, id: Int32(index))
            }
        }
        self.unknownID = unknownID
        self.mergeable = mergeable
        self.reserved = reserved
        merger = BytePairMerger(mergeable: mergeable, scores: model.pieces.map(\.score), types: model.pieces.map(\.type),
                                userDefined: userDefined.count > 0 ? userDefined : nil)
        byteIDs = (0...255).map { reserved.lookup(SentencePieceModel.bytePieceText(UInt8($0))) ?? unknownID }
    }

    public var vocabularySize: Int { model.pieces.count }
    public var beginOfSequenceID: Int32 { model.beginOfSequenceID }
    public var endOfSequenceID: Int32 { model.endOfSequenceID }

    /// The ids of `text` with BOS in front by default (`[1] + pieces` for Llama-2).
    public func encode(_ text: String, addBOS: Bool = true, addEOS: Bool = false) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 2 + 4)
        if addBOS && model.beginOfSequenceID >= 0 { ids.append(model.beginOfSequenceID) }
        appendPieceIDs(of: text, to: &ids)
        if addEOS && model.endOfSequenceID >= 0 { ids.append(model.endOfSequenceID) }
        return ids
    }

    /// Appends the piece ids of `text`, no special tokens (sentencepiece's Encode).
    public func appendPieceIDs(of text: String, to ids: inout [Int32]) {
        var text = text
        text.withUTF8 { input in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: SentencePieceNormalizer.capacity(forInputCount: input.count)) { buffer in
                let count = normalizer.normalize(input, into: buffer)
                appendPieceIDs(ofNormalized: UnsafeBufferPointer(rebasing: buffer[..<count]), to: &ids)
            }
        }
    }

    private func appendPieceIDs(ofNormalized bytes: UnsafeBufferPointer<UInt8>, to ids: inout [Int32]) {
        guard let base = bytes.baseAddress else { return }
        var previousWasUnknown = false
        reserved.withView { reserved in
            merger.segment(bytes) { segment, mergeableID in
                // PieceToId: reserved pieces first, then normal ones, else unknown.
                let reservedID = reserved.id(base + segment.start, segment.count)
                let id = reservedID >= 0 ? reservedID : mergeableID >= 0 ? mergeableID : unknownID
                let isUnknown = id == unknownID
                if isUnknown && model.byteFallback {
                    // Byte fallback: an out-of-vocabulary piece becomes its UTF-8 bytes, <0xNN> each.
                    for i in segment.start..<(segment.start + segment.count) { ids.append(byteIDs[Int(base[i])]) }
                } else if !(isUnknown && previousWasUnknown) {
                    // A run of unknown pieces is one unknown id (sentencepiece_processor.cc merges them).
                    ids.append(id)
                }
                previousWasUnknown = isUnknown
            }
        }
    }

    /// The piece texts of `ids` ("▁Hello", "<0xE2>", "<s>"); out-of-range ids give "<unk>"'s text.
    public func pieces(_ ids: [Int32]) -> [String] {
        ids.map { model.pieces.indices.contains(Int($0)) ? model.pieces[Int($0)].text : model.pieces[Int(unknownID)].text }
    }

    /// Text of `ids` as sentencepiece's DecodeIds gives it: control pieces vanish, "▁" becomes a space and
    /// the dummy prefix's space is dropped at the start, consecutive byte pieces are joined and decoded as
    /// UTF-8 with U+FFFD for each invalid byte, unknown pieces become the unknown surface (" ⁇ ").
    public func decode(_ ids: [Int32]) -> String {
        var output: [UInt8] = []
        var pendingBytes: [UInt8] = []
        // The dummy prefix's "▁" is dropped from the first piece that is not a control piece, and only
        // from that one (the reference's is_bos_ws).
        var atStart = model.addDummyPrefix || model.removeExtraWhitespaces
        func flushBytes() {
            guard !pendingBytes.isEmpty else { return }
            Self.appendDecodingUTF8(pendingBytes, to: &output)
            pendingBytes.removeAll(keepingCapacity: true)
        }
        for id in ids {
            let index = Int(id)
            guard model.pieces.indices.contains(index) else {
                atStart = false
                flushBytes()
                output.append(contentsOf: model.unknownSurface.utf8)
                continue
            }
            let piece = model.pieces[index]
            switch piece.type {
            case .byte:
                atStart = false
                pendingBytes.append(Self.byteValue(of: piece.text) ?? 0x3F)
                continue
            case .control:
                flushBytes()
            case .unknown:
                atStart = false
                flushBytes()
                output.append(contentsOf: model.unknownSurface.utf8)
            case .normal, .userDefined, .unused:
                flushBytes()
                var bytes = Array(piece.text.utf8)[...]
                if atStart && bytes.starts(with: SentencePieceNormalizer.spaceSymbol) {
                    bytes = bytes.dropFirst(3)
                }
                atStart = false
                var i = bytes.startIndex
                while i < bytes.endIndex {
                    if bytes[i] == 0xE2 && bytes.endIndex - i >= 3 && bytes[i + 1] == 0x96 && bytes[i + 2] == 0x81 {
                        output.append(0x20)
                        i += 3
                    } else {
                        output.append(bytes[i])
                        i += 1
                    }
                }
            }
        }
        flushBytes()
        return String(decoding: output, as: UTF8.self)
    }

    /// "<0x4A>" → 0x4A.
    static func byteValue(of text: String) -> UInt8? {
        guard text.hasPrefix("<0x"), text.hasSuffix(">"), text.utf8.count == 6 else { return nil }
        return UInt8(text.dropFirst(3).dropLast(), radix: 16)
    }

    /// Appends `bytes` decoded character by character as sentencepiece does (IsValidDecodeUTF8): a valid
    /// character is copied, each byte that does not start one becomes U+FFFD.
    static func appendDecodingUTF8(_ bytes: [UInt8], to output: inout [UInt8]) {
        var i = 0
        while i < bytes.count {
            let length = validCharacterLength(bytes, at: i)
            if length > 0 {
                output.append(contentsOf: bytes[i..<(i + length)])
                i += length
            } else {
                output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                i += 1
            }
        }
    }

    /// Length of the well-formed UTF-8 character at `i` (no overlongs, surrogates or values past
    /// U+10FFFF), or 0.
    static func validCharacterLength(_ bytes: [UInt8], at i: Int) -> Int {
        let lead = bytes[i]
        let length: Int
        let minimum: UInt32
        var value: UInt32
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC0...0xDF: length = 2; minimum = 0x80; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; minimum = 0x800; value = UInt32(lead & 0x0F)
        case 0xF0...0xF7: length = 4; minimum = 0x10000; value = UInt32(lead & 0x07)
        default: return 0
        }
        guard i + length <= bytes.count else { return 0 }
        for k in 1..<length {
            let byte = bytes[i + k]
            guard byte & 0xC0 == 0x80 else { return 0 }
            value = (value << 6) | UInt32(byte & 0x3F)
        }
        guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else { return 0 }
        return length
    }
}
