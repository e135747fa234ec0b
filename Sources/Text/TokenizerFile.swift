import Foundation

extension SentencePieceTokenizer {
    /// The file names a checkpoint directory carries its tokenizer under (SPEC 6, 10); the SentencePiece
    /// model is preferred because it is the reference's own form.
    public static let fileNames = ["tokenizer.model", "tokenizer.json"]

    /// Loads a tokenizer.model, a tokenizer.json, or a directory holding either.
    public init(contentsOf path: String) throws(TokenizerError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TokenizerError(path: path, .cannotOpen("no such file or directory"))
        }
        if isDirectory.boolValue {
            let prefix = path.hasSuffix("/") ? path : path + "/"
            guard let file = Self.fileNames.map({ prefix + $0 }).first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw TokenizerError(path: path, .noTokenizerInDirectory)
            }
            try self.init(contentsOf: file)
            return
        }
        let bytes = try SentencePieceModel.contents(ofRegularFile: path)
        // A JSON file starts with "{" (after optional whitespace); a ModelProto starts with field 1's tag.
        let first = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        if path.hasSuffix(".json") || first == UInt8(ascii: "{") {
            self.init(validated: try SentencePieceModel(huggingFaceJSON: bytes, path: path))
        } else {
            self.init(validated: try SentencePieceModel(protobuf: bytes, path: path))
        }
    }
}
