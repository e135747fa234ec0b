/// A strict JSON reader and a compact writer for safetensors headers.
///
/// Why not Foundation's JSONSerialization: a header must be checked for duplicate names (a dictionary
/// silently keeps one), its offsets are u64 that must stay exact, and the writer must reproduce the
/// reference writer's bytes (serde_json's compact form, keys in a chosen order). RFC 8259 grammar;
/// nesting deeper than `maxDepth` is refused, as serde_json does at 128.
enum HeaderJSON {
    struct Member: Equatable {
        let key: String
        let value: Value
        init(_ key: String, _ value: Value) {
            self.key = key
            self.value = value
        }
    }

    indirect enum Value: Equatable {
        case object([Member])
        case array([Value])
        case string(String)
        /// The literal as written; `unsignedInteger` decides whether it is a usize.
        case number(String)
        case bool(Bool)
        case null

        /// A non-negative integer literal (no sign, fraction or exponent) that fits in UInt64.
        var unsignedInteger: UInt64? {
            guard case .number(let text) = self, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return nil
            }
            return UInt64(text)
        }

        var typeName: String {
            switch self {
            case .object: "object"
            case .array: "array"
            case .string: "string"
            case .number: "number"
            case .bool: "boolean"
            case .null: "null"
            }
        }
    }

    struct SyntaxError: Error {
        let message: String
        /// Byte offset in the parsed text.
        let offset: Int
        /// The key when the error is a repeated key in one object.
        var duplicateKey: String? = nil
    }

    static let maxDepth = 128

    /// Parses one JSON value followed only by whitespace. `bytes` must already be valid UTF-8.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> Value {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("trailing characters after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        func error(_ message: String) -> SyntaxError { SyntaxError(message: message, offset: position) }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 }
        }

        mutating func expect(_ literal: StaticString) throws(SyntaxError) {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw error("unexpected end of JSON") }
            for i in 0..<count where bytes[position + i] != literal.utf8Start[i] {
                throw error("invalid literal")
            }
            position += count
        }

        mutating func parseValue(depth: Int) throws(SyntaxError) -> Value {
            guard depth < HeaderJSON.maxDepth else { throw error("JSON nested deeper than \(HeaderJSON.maxDepth) levels") }
            guard let c = current else { throw error("unexpected end of JSON") }
            switch c {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw error("unexpected character '\(Unicode.Scalar(c))'")
            }
        }

        mutating func parseObject(depth: Int) throws(SyntaxError) -> Value {
            position += 1  // {
            var members: [Member] = []
            var seen = Set<String>()
            skipWhitespace()
            if current == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let keyOffset = position
                let key = try parseString()
                guard seen.insert(key).inserted else {
                    throw SyntaxError(message: "duplicate key \"\(key)\"", offset: keyOffset, duplicateKey: key)
                }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                position += 1
                skipWhitespace()
                members.append(Member(key, try parseValue(depth: depth + 1)))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"): position += 1; return .object(members)
                default: throw error("expected ',' or '}' in an object")
                }
            }
        }

        mutating func parseArray(depth: Int) throws(SyntaxError) -> Value {
            position += 1  // [
            var elements: [Value] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"): position += 1; return .array(elements)
                default: throw error("expected ',' or ']' in an array")
                }
            }
        }

        mutating func parseNumber() throws(SyntaxError) -> Value {
            let start = position
            func digits(_ p: inout Parser) -> Int {
                let s = p.position
                while let c = p.current, c >= 0x30 && c <= 0x39 { p.position += 1 }
                return p.position - s
            }
            if current == UInt8(ascii: "-") { position += 1 }
            if current == UInt8(ascii: "0") {
                position += 1
            } else if digits(&self) == 0 {
                throw error("invalid number")
            }
            if current == UInt8(ascii: ".") {
                position += 1
                guard digits(&self) > 0 else { throw error("invalid number: digits expected after '.'") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard digits(&self) > 0 else { throw error("invalid number: digits expected in exponent") }
            }
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
        }

        mutating func parseHex4() throws(SyntaxError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("unexpected end of JSON in \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[position]
                let digit: UInt32
                switch c {
                case 0x30...0x39: digit = UInt32(c - 0x30)
                case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
                default: throw error("invalid hex digit in \\u escape")
                }
                value = value << 4 | digit
                position += 1
            }
            return value
        }

        mutating func parseString() throws(SyntaxError) -> String {
            position += 1  // opening quote
            let start = position
            // Fast path: no escapes.
            while let c = current, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\") {
                guard c >= 0x20 else { throw error("control character in string") }
                position += 1
            }
            guard let stop = current else { throw error("unterminated string") }
            var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
            if stop == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: utf8, as: UTF8.self)
            }
            while true {
                guard let c = current else { throw error("unterminated string") }
                position += 1
                switch c {
                case UInt8(ascii: "\""):
                    return String(decoding: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let e = current else { throw error("unterminated escape") }
                    position += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(e)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try parseHex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard position + 2 <= bytes.count, bytes[position] == UInt8(ascii: "\\"),
                                bytes[position + 1] == UInt8(ascii: "u")
                            else { throw error("unpaired surrogate in \\u escape") }
                            position += 2
                            let low = try parseHex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..<0xE000).contains(scalar) {
                            throw error("unpaired surrogate in \\u escape")
                        }
                        utf8.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                    default:
                        throw error("invalid escape '\\\(Unicode.Scalar(e))'")
                    }
                default:
                    guard c >= 0x20 else { throw error("control character in string") }
                    utf8.append(c)
                }
            }
        }
    }

    // MARK: - Writing (serde_json's compact form)

    static func write(_ value: Value, into out: inout [UInt8]) {
        switch value {
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .string(let s): writeString(s, into: &out)
        case .number(let literal): out.append(contentsOf: literal.utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        }
    }

    /// Escapes as serde_json does: quote, backslash and control characters; everything else raw UTF-8.
    static func writeString(_ s: String, into out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x00..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 0xF)])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// JSON files other modules decode with Foundation, whose readers keep one value of a repeated key
/// silently (JSONDecoder the first, Python's json the last): this finds the repeat so that they can refuse it.
public enum JSONDuplicateKeys {
    /// The first key that repeats within one object of `text`, nil when none does or when `text` is not
    /// JSON this strict reader accepts (the caller's own decoder then reports the syntax).
    public static func first(in text: String) -> String? {
        var text = text
        return text.withUTF8 { bytes -> String? in
            do throws(HeaderJSON.SyntaxError) {
                _ = try HeaderJSON.parse(UnsafeRawBufferPointer(bytes))
                return nil
            } catch {
                return error.duplicateKey
            }
        }
    }
}
