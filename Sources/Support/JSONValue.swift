import Foundation

/// A parsed JSON value that keeps numbers and booleans apart, so that config and request keys can be checked
/// one by one with the key named in the error (JSONDecoder refuses `true` as a number and `1` as a boolean).
/// The one JSON value type for small documents and JSON lines; json-c reads the large tokenizer.json.
public enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else if let o = try? c.decode([String: JSONValue].self) { self = .object(o) }
        else {
            // What JSONDecoder cannot turn into a Swift value: in practice a string with an unpaired surrogate escape.
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "a value that is not valid Unicode text (an unpaired \\uD800-\\uDFFF surrogate escape?)")
        }
    }

    /// Parses one JSON document; the message of a failure is short enough for a one-line error.
    public static func parse(_ data: Data) throws(JSONSyntaxError) -> JSONValue {
        do { return try JSONDecoder().decode(JSONValue.self, from: data) } catch let error as DecodingError {
            switch error {
            case .dataCorrupted(let context):
                let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                let key = context.codingPath.map(\.stringValue).joined(separator: ".")
                throw JSONSyntaxError(message: (underlying ?? context.debugDescription) + (key.isEmpty ? "" : " at \"\(key)\""))
            default: throw JSONSyntaxError(message: "\(error)")
            }
        } catch { throw JSONSyntaxError(message: "\(error)") }
    }

    /// How a value is described in an error message.
    public var summary: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let n): "\(n)"
        case .string(let s): "\"\(s.prefix(40))\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Why a JSON document did not parse, in a few words.
public struct JSONSyntaxError: Error, Sendable {
    public let message: String
}
