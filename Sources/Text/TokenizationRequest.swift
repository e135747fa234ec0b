import CJSONC
import Foundation

/// One input of `pixelgpt tokenize --input`: a JSON line `{"text": ..., "text_pair": ...}`.
public struct TokenizationRequest: Sendable, Equatable {
    public var text: String
    public var textPair: String?

    public init(text: String, textPair: String? = nil) {
        self.text = text
        self.textPair = textPair
    }

    /// Reads a JSON-lines file; blank lines are skipped. Any bad line (invalid UTF-8, not a JSON object,
    /// no "text") fails the whole file with its 1-based line number, so no partial output is produced.
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
        guard let tokener = json_tokener_new() else { throw TokenizerError(path: path, .cannotOpen("json-c could not allocate a parser")) }
        defer { json_tokener_free(tokener) }
        json_tokener_set_flags(tokener, JSON_TOKENER_STRICT)
        var requests: [TokenizationRequest] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            let next = end + 1
            if end > start && bytes[end - 1] == 0x0D { end -= 1 }
            defer { start = next }
            let line = bytes[start..<end]
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            if let bad = firstInvalidUTF8Offset(line) {
                throw TokenizerError(path: path, line: lineNumber, .invalidUTF8(byteOffset: bad))
            }
            // json-c turns an unpaired surrogate escape into U+FFFD; render --input (JSONDecoder) refuses it, and
            // so does this: the same text must not tokenize as one string and render as none.
            if let bad = firstUnpairedSurrogateEscape(line) {
                throw TokenizerError(path: path, line: lineNumber, .invalidJSONLine("an unpaired \\uD800-\\uDFFF surrogate escape at byte \(bad) of the line"))
            }
            requests.append(try parseLine(line, tokener: tokener, path: path, line: lineNumber))
        }
        return requests
    }

    private static func parseLine(_ line: ArraySlice<UInt8>, tokener: UnsafeMutablePointer<json_tokener>, path: String, line number: Int) throws(TokenizerError) -> TokenizationRequest {
        func fail(_ problem: TokenizerError.Problem) -> TokenizerError { TokenizerError(path: path, line: number, problem) }
        json_tokener_reset(tokener)
        let object: OpaquePointer? = line.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { json_tokener_parse_ex(tokener, $0.baseAddress, Int32($0.count)) }
        }
        guard let object else {
            let error = json_tokener_get_error(tokener)
            let why = error == json_tokener_continue ? "unexpected end of line" : String(cString: json_tokener_error_desc(error))
            throw fail(.invalidJSONLine(why))
        }
        defer { json_object_put(object) }
        guard json_tokener_get_parse_end(tokener) == line.count || line[(line.startIndex + json_tokener_get_parse_end(tokener))...].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else {
            throw fail(.invalidJSONLine("trailing characters after the JSON value"))
        }
        guard json_object_is_type(object, json_type_object) != 0 else { throw fail(.invalidJSONLine("a JSON value that is not an object")) }
        guard let textValue = JSONC.member(object, "text") else { throw fail(.missingText) }
        guard let text = JSONC.string(textValue) else { throw fail(.notAString(key: "text")) }
        var pair: String?
        if let pairValue = JSONC.member(object, "text_pair"), json_object_is_type(pairValue, json_type_null) == 0 {
            guard let value = JSONC.string(pairValue) else { throw fail(.notAString(key: "text_pair")) }
            pair = value
        }
        return TokenizationRequest(text: text, textPair: pair)
    }

    /// Offset of the first `\\uD800`-`\\uDFFF` escape that is not a high surrogate followed directly by a low
    /// one, or nil. Escapes only occur inside JSON strings, so the scan needs no string state: each backslash
    /// takes the character after it.
    static func firstUnpairedSurrogateEscape(_ bytes: ArraySlice<UInt8>) -> Int? {
        func escape(at i: Int) -> UInt32? {
            guard i + 5 < bytes.endIndex, bytes[i] == 0x5C, bytes[i + 1] == UInt8(ascii: "u") else { return nil }
            return UInt32(String(decoding: bytes[(i + 2)..<(i + 6)], as: UTF8.self), radix: 16)
        }
        var i = bytes.startIndex
        while i < bytes.endIndex {
            guard bytes[i] == 0x5C else { i += 1; continue }
            guard let unit = escape(at: i) else { i += 2; continue }
            if (0xD800..<0xDC00).contains(unit) {
                guard let low = escape(at: i + 6), (0xDC00..<0xE000).contains(low) else { return i - bytes.startIndex }
                i += 12
            } else if (0xDC00..<0xE000).contains(unit) {
                return i - bytes.startIndex
            } else {
                i += 6
            }
        }
        return nil
    }

    /// Offset of the first byte that does not start a well-formed UTF-8 character, or nil.
    static func firstInvalidUTF8Offset(_ bytes: ArraySlice<UInt8>) -> Int? {
        // Fast path: pure ASCII.
        if bytes.allSatisfy({ $0 < 0x80 }) { return nil }
        let array = Array(bytes)
        var i = 0
        while i < array.count {
            let length = SentencePieceTokenizer.validCharacterLength(array, at: i)
            guard length > 0 else { return i }
            i += length
        }
        return nil
    }
}
