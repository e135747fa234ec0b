import Foundation
import Support

/// One input of `pixelgpt tokenize --input`: a JSON line `{"text": ..., "text_pair": ...}`.
public struct TokenizationRequest: Sendable, Equatable {
    public var text: String
    public var textPair: String?

    public init(text: String, textPair: String? = nil) {
        self.text = text
        self.textPair = textPair
    }

    /// Reads a JSON-lines file (Support's `JSONLines` rules: BOM, CRLF, blank lines). Any bad line (invalid
    /// UTF-8, not a JSON object, an unpaired surrogate escape, no "text") fails the whole file with its
    /// 1-based line number, so no partial output is produced.
    public static func readJSONLines(path: String) throws(TokenizerError) -> [TokenizationRequest] {
        // Read through a file handle so that "-", /dev/stdin and other pipes work as well as files.
        let handle = path == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: path)
        guard let handle else { throw TokenizerError(path: path, .cannotOpen(SentencePieceModel.openFailure(path))) }
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw TokenizerError(path: path, .cannotOpen(SentencePieceModel.openFailure(path)))
        }
        return try parseJSONLines([UInt8](data), path: path)
    }

    public static func parseJSONLines(_ bytes: [UInt8], path: String) throws(TokenizerError) -> [TokenizationRequest] {
        var requests: [TokenizationRequest] = []
        for entry in JSONLines.entries(bytes) {
            func fail(_ problem: TokenizerError.Problem) -> TokenizerError { TokenizerError(path: path, line: entry.line, problem) }
            let object: [String: JSONValue]
            switch entry.object {
            case .success(let parsed): object = parsed
            case .failure(.invalidUTF8(let offset)): throw fail(.invalidUTF8(byteOffset: offset))
            case .failure(let problem): throw fail(.invalidJSONLine(problem.description))
            }
            guard let textValue = object["text"] else { throw fail(.missingText) }
            guard case .string(let text) = textValue else { throw fail(.notAString(key: "text")) }
            var pair: String?
            switch object["text_pair"] {
            case nil, .null?: break
            case .string(let value)?: pair = value
            default: throw fail(.notAString(key: "text_pair"))
            }
            requests.append(TokenizationRequest(text: text, textPair: pair))
        }
        return requests
    }
}
