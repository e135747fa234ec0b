import CJSONC
import Foundation
@_exported import TestSupport
import Testing
@testable import Text

/// Committed fixtures (written by scripts/make_tokenizer_fixtures.py with the Python reference).
enum TextFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let repositoryRoot = PythonReference.repositoryRoot

    static func path(_ name: String) -> String { directory + "/" + name }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(name)))
        return try #require(try parseJSON([UInt8](data)) as? [String: Any])
    }

    /// One reference encoding: the text, the ids of SentencePieceProcessor.encode(add_bos=True), their
    /// piece texts and sp.decode of those ids.
    struct Golden {
        let text: String
        let ids: [Int32]
        let pieces: [String]
        let decoded: String
    }

    static func goldens(_ name: String) throws -> [Golden] {
        let entries = try #require(try json(name)["encode"] as? [[String: Any]])
        return try entries.map { entry in
            Golden(text: try #require(entry["text"] as? String), ids: try #require(entry["ids"] as? [Int]).map(Int32.init),
                   pieces: try #require(entry["pieces"] as? [String]), decoded: try #require(entry["decoded"] as? String))
        }
    }

    static func tokenizer(_ name: String) throws -> SentencePieceTokenizer {
        try SentencePieceTokenizer(contentsOf: path(name))
    }
}

/// The Llama-2 tokenizer of the evaluation data (`TestData`) and the Python reference package.
enum ReferenceData {
    static var directory: String? { TestData.directory }
    static var llamaModelPath: String { TestData.llamaTokenizer }

    static func llamaTokenizer() throws -> SentencePieceTokenizer { try SentencePieceTokenizer(contentsOf: llamaModelPath) }

    /// For `.enabled(if:)` on tests that compare with the Python sentencepiece on the shared data.
    static var hasDataAndSentencePiece: Bool { TestData.hasData && PythonReference.isAvailableOrRequired("sentencepiece") }

    /// Runs python3 with `arguments` in the repository root; returns stdout, throws with stderr on failure.
    @discardableResult
    static func python(_ arguments: [String]) throws -> Data {
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments, currentDirectory: TextFixtures.repositoryRoot)
        guard result.status == 0 else { throw PythonReference.Failure(message: "python3 failed: " + result.stderr) }
        return result.stdout
    }
}

/// JSON → Foundation values through json-c. Not JSONSerialization or JSONDecoder: on Linux both drop a
/// U+FEFF at the start of a string (even when written as \ufeff), which would change the texts under test.
func parseJSON(_ bytes: [UInt8]) throws -> Any {
    guard let tokener = json_tokener_new() else { throw JSONFailure(message: "json-c could not allocate a parser") }
    defer { json_tokener_free(tokener) }
    let root: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { json_tokener_parse_ex(tokener, $0.baseAddress, Int32($0.count)) }
    }
    guard let root else { throw JSONFailure(message: String(cString: json_tokener_error_desc(json_tokener_get_error(tokener)))) }
    defer { json_object_put(root) }
    return try convertJSON(root)
}

private func convertJSON(_ value: OpaquePointer?) throws -> Any {
    guard let value else { return NSNull() }
    switch json_object_get_type(value) {
    case json_type_object:
        var result: [String: Any] = [:]
        var failure: Error?
        JSONC.forEachMember(value) { key, member in
            do { result[key] = try convertJSON(member) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    case json_type_array:
        return try (0..<json_object_array_length(value)).map { try convertJSON(json_object_array_get_idx(value, $0)) }
    case json_type_string:
        guard let text = JSONC.string(value) else { throw JSONFailure(message: "string is not valid UTF-8") }
        return text
    case json_type_int: return Int(json_object_get_int64(value))
    case json_type_double: return json_object_get_double(value)
    case json_type_boolean: return json_object_get_boolean(value) != 0
    default: return NSNull()
    }
}

struct JSONFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { "invalid JSON: \(message)" }
}
