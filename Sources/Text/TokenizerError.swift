/// Every failure of this module: the file (and line, for JSON-lines input) it concerns and what is
/// wrong, in one line.
public struct TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    /// 1-based line of a JSON-lines input file; nil for whole-file problems.
    public let line: Int?
    public let problem: Problem

    public init(path: String, line: Int? = nil, _ problem: Problem) {
        self.path = path
        self.line = line
        self.problem = problem
    }

    public enum Problem: Equatable, Sendable {
        case cannotOpen(String)
        case noTokenizerInDirectory
        case notASentencePieceModel(String)
        case unsupportedModel(String)
        case invalidTokenizerJSON(String)
        case invalidUTF8(byteOffset: Int)
        case invalidJSONLine(String)
        case missingText
        case notAString(key: String)
        case maxLengthTooSmall(Int)
    }

    public var description: String {
        let location = line.map { "\(path):\($0)" } ?? path
        return "\(location): \(problem.message)"
    }
}

extension TokenizerError.Problem {
    var message: String {
        switch self {
        case .cannotOpen(let why): "cannot open: \(why)"
        case .noTokenizerInDirectory: "directory holds neither tokenizer.model nor tokenizer.json"
        case .notASentencePieceModel(let why): "not a SentencePiece model: \(why)"
        case .unsupportedModel(let why): "unsupported tokenizer: \(why)"
        case .invalidTokenizerJSON(let why): "not a Hugging Face tokenizer.json: \(why)"
        case .invalidUTF8(let offset): "invalid UTF-8 at byte \(offset) of the line"
        case .invalidJSONLine(let why): "not a JSON object: \(why)"
        case .missingText: "JSON line has no \"text\" key (expected {\"text\": ..., \"text_pair\": ...})"
        case .notAString(let key): "\"\(key)\" must be a string"
        case .maxLengthTooSmall(let n):
            "\(n) is too small: a pair needs room for its two BOS tokens, so use at least 2"
        }
    }
}
