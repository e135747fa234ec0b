import Foundation
import Support

/// A SentencePiece model as its ModelProto describes it (sentencepiece_model.proto): the pieces with their
/// scores and types, and the trainer and normalizer settings that change encoding. Read from a
/// tokenizer.model file or from the Hugging Face tokenizer.json form of the same model (SPEC 6).
public struct SentencePieceModel: Sendable, Equatable {
    /// ModelProto.SentencePiece.Type, with the proto's numbers.
    public enum PieceType: Int32, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public struct Piece: Sendable, Equatable {
        public var text: String
        public var score: Float
        public var type: PieceType

        public init(_ text: String, score: Float, type: PieceType) {
            self.text = text
            self.score = score
            self.type = type
        }

        /// Texts compare as bytes: String equality is canonical equivalence, and the Llama vocabulary
        /// holds distinct pieces that are canonically equal ("ί" U+03AF and U+1F77).
        public static func == (a: Piece, b: Piece) -> Bool {
            a.score == b.score && a.type == b.type && a.text.utf8.elementsEqual(b.text.utf8)
        }
    }

    /// TrainerSpec.ModelType; only BPE (Llama-2's) is implemented.
    public enum ModelType: Int32, Sendable {
        case unigram = 1, bpe = 2, word = 3, character = 4
    }

    public var pieces: [Piece]
    public var modelType: ModelType = .unigram
    // TrainerSpec (field defaults are the proto's).
    public var byteFallback = false
    public var treatWhitespaceAsSuffix = false
    public var unknownID: Int32 = 0
    public var beginOfSequenceID: Int32 = 1
    public var endOfSequenceID: Int32 = 2
    public var padID: Int32 = -1
    public var unknownSurface = " \u{2047} "
    // NormalizerSpec.
    public var normalizerName = ""
    public var addDummyPrefix = true
    public var removeExtraWhitespaces = true
    public var escapeWhitespaces = true

    public init(pieces: [Piece]) {
        self.pieces = pieces
    }

    /// Reads a serialized ModelProto (the bytes of a tokenizer.model file). `path` names it in errors.
    public init(protobuf bytes: [UInt8], path: String) throws(TokenizerError) {
        func fail(_ why: String) -> TokenizerError { TokenizerError(path: path, .notASentencePieceModel(why)) }
        var pieces: [Piece] = []
        var trainer: Range<Int>?
        var normalizer: Range<Int>?
        var reader = ProtobufWireReader(bytes: bytes)
        do {
            while !reader.isAtEnd {
                let (field, wireType) = try reader.readTag()
                switch (field, wireType) {
                case (1, .lengthDelimited): pieces.append(try Self.readPiece(bytes, try reader.readLengthDelimited(), index: pieces.count))
                case (2, .lengthDelimited): trainer = try reader.readLengthDelimited()
                case (3, .lengthDelimited): normalizer = try reader.readLengthDelimited()
                default: try reader.skip(wireType)
                }
            }
        } catch let error as ProtobufWireReader.Malformed {
            throw fail("\(error.message) at byte \(error.offset)")
        } catch {
            throw fail("\(error)")
        }
        guard !pieces.isEmpty else { throw fail("the file holds no pieces") }
        self.init(pieces: pieces)
        do {
            if let trainer { try readTrainerSpec(bytes, trainer) }
            if let normalizer { try readNormalizerSpec(bytes, normalizer) }
        } catch let error as ProtobufWireReader.Malformed {
            throw fail("\(error.message) at byte \(error.offset)")
        } catch {
            throw fail("\(error)")
        }
        try validate(path: path)
    }

    /// Reads a tokenizer.model file.
    public init(contentsOfFile path: String) throws(TokenizerError) {
        try self.init(protobuf: try Self.contents(ofRegularFile: path), path: path)
    }

    /// The bytes of `path`, refused unless it is a regular file: reading a FIFO would block forever and a
    /// device would never end (stat(2) before reading, as the weights readers do).
    static func contents(ofRegularFile path: String) throws(TokenizerError) -> [UInt8] {
        do { try RegularFile.require(path) } catch where error.kind == .notARegularFile {
            throw TokenizerError(path: path, .cannotOpen(openFailure(path) == "is a directory" ? "is a directory" : error.reason))
        } catch {}  // missing or unreadable: reported below with the reason
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenizerError(path: path, .cannotOpen(openFailure(path)))
        }
        return [UInt8](data)
    }

    static func openFailure(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        return isDirectory.boolValue ? "is a directory" : "not readable"
    }

    private static func readPiece(_ bytes: [UInt8], _ range: Range<Int>, index: Int) throws -> Piece {
        var reader = ProtobufWireReader(bytes: bytes, range: range)
        var piece = Piece("", score: 0, type: .normal)
        var sawText = false
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch (field, wireType) {
            case (1, .lengthDelimited):
                piece.text = try reader.readString()
                sawText = true
            case (2, .fixed32): piece.score = Float(bitPattern: try reader.readFixed32())
            case (3, .varint):
                let raw = Int32(truncatingIfNeeded: try reader.readVarint())
                guard let type = PieceType(rawValue: raw) else {
                    throw ProtobufWireReader.Malformed(message: "piece \(index) has unknown type \(raw)", offset: reader.position)
                }
                piece.type = type
            default: try reader.skip(wireType)
            }
        }
        guard sawText, !piece.text.isEmpty else {
            throw ProtobufWireReader.Malformed(message: "piece \(index) has no text", offset: range.lowerBound)
        }
        return piece
    }

    private mutating func readTrainerSpec(_ bytes: [UInt8], _ range: Range<Int>) throws {
        var reader = ProtobufWireReader(bytes: bytes, range: range)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch (field, wireType) {
            case (3, .varint):
                let raw = Int32(truncatingIfNeeded: try reader.readVarint())
                guard let type = ModelType(rawValue: raw) else {
                    throw ProtobufWireReader.Malformed(message: "unknown model_type \(raw)", offset: reader.position)
                }
                modelType = type
            case (24, .varint): treatWhitespaceAsSuffix = try reader.readVarint() != 0
            case (35, .varint): byteFallback = try reader.readVarint() != 0
            case (40, .varint): unknownID = Int32(truncatingIfNeeded: try reader.readVarint())
            case (41, .varint): beginOfSequenceID = Int32(truncatingIfNeeded: try reader.readVarint())
            case (42, .varint): endOfSequenceID = Int32(truncatingIfNeeded: try reader.readVarint())
            case (43, .varint): padID = Int32(truncatingIfNeeded: try reader.readVarint())
            case (44, .lengthDelimited): unknownSurface = try reader.readString()
            default: try reader.skip(wireType)
            }
        }
    }

    private mutating func readNormalizerSpec(_ bytes: [UInt8], _ range: Range<Int>) throws {
        var reader = ProtobufWireReader(bytes: bytes, range: range)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch (field, wireType) {
            case (1, .lengthDelimited): normalizerName = try reader.readString()
            case (2, .lengthDelimited):
                // A precompiled character map (nmt_nfkc and friends) rewrites text before encoding; Llama-2
                // uses the identity normalizer, and an unimplemented map must not be silently ignored.
                let map = try reader.readLengthDelimited()
                if !map.isEmpty {
                    throw UnsupportedNormalizer(name: normalizerName)
                }
            case (3, .varint): addDummyPrefix = try reader.readVarint() != 0
            case (4, .varint): removeExtraWhitespaces = try reader.readVarint() != 0
            case (5, .varint): escapeWhitespaces = try reader.readVarint() != 0
            default: try reader.skip(wireType)
            }
        }
    }

    struct UnsupportedNormalizer: Error, CustomStringConvertible {
        let name: String
        var description: String {
            "normalizer \"\(name)\" has a precompiled character map; only the identity normalizer (Llama-2's) is implemented"
        }
    }

    /// The checks sentencepiece's ModelInterface makes when it loads a model, plus what this implementation
    /// supports (BPE only).
    func validate(path: String) throws(TokenizerError) {
        guard modelType == .bpe else {
            throw TokenizerError(path: path, .unsupportedModel("model type \(modelType) (only BPE, as Llama-2 uses, is implemented)"))
        }
        let unknowns = pieces.indices.filter { pieces[$0].type == .unknown }
        guard unknowns.count == 1 else {
            throw TokenizerError(path: path, .notASentencePieceModel("expected exactly one unknown piece, found \(unknowns.count)"))
        }
        // Compared as bytes: Swift's String equality is canonical equivalence, and the Llama vocabulary
        // holds distinct pieces that are canonically equal (U+03AF and U+1F77, "ί").
        var seen = Set<[UInt8]>()
        for piece in pieces where !seen.insert(Array(piece.text.utf8)).inserted {
            throw TokenizerError(path: path, .notASentencePieceModel("piece \"\(piece.text)\" is defined twice"))
        }
        if pieces.contains(where: { $0.type == .byte }) && !byteFallback {
            throw TokenizerError(path: path, .notASentencePieceModel("byte pieces present but byte_fallback is off"))
        }
        if byteFallback {
            for byte in 0...255 where !seen.contains(Array(Self.bytePieceText(UInt8(byte)).utf8)) {
                throw TokenizerError(path: path, .notASentencePieceModel("byte_fallback is on but piece \(Self.bytePieceText(UInt8(byte))) is missing"))
            }
        }
    }

    /// "<0x41>": the name sentencepiece gives the piece of one byte (upper-case hex).
    static func bytePieceText(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "<0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)]) + ">"
    }
}
