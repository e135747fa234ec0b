import Foundation

/// One line of a text file: its 1-based number and its bytes without the line terminator.
public struct TextLine: Sendable {
    public let number: Int
    public let bytes: ArraySlice<UInt8>

    public init(number: Int, bytes: ArraySlice<UInt8>) {
        self.number = number
        self.bytes = bytes
    }

    /// Only spaces and tabs: skipped by JSON-lines readers.
    public var isBlank: Bool { bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 } }
}

/// The one rule for cutting a text file into lines, shared by every reader of TSV and JSON-lines input
/// (`tokenize --input`, `render --input`, evaluation data): Python's text mode (universal newlines, as the
/// original's csv.reader over open(path) sees the GLUE and XNLI files): "\n", "\r\n" and a lone "\r" each
/// end a line; a UTF-8 byte-order mark at the start of the file is dropped ("utf-8-sig"; MRPC's TSVs have
/// one); the empty piece after a final terminator is not a line.
public enum TextLines {
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    public static func split(_ bytes: [UInt8]) -> [TextLine] {
        var lines: [TextLine] = []
        var start = bytes.starts(with: byteOrderMark) ? 3 : 0
        var i = start
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x0A || byte == 0x0D {
                lines.append(TextLine(number: lines.count + 1, bytes: bytes[start..<i]))
                if byte == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < bytes.count { lines.append(TextLine(number: lines.count + 1, bytes: bytes[start...])) }
        return lines
    }

    /// The offset of the first byte that does not start a well-formed UTF-8 character (overlong forms and
    /// surrogates count as malformed, as in Python's strict decoder), or nil.
    public static func firstInvalidUTF8Offset(_ bytes: ArraySlice<UInt8>) -> Int? {
        if bytes.allSatisfy({ $0 < 0x80 }) { return nil }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}

/// Why one JSON line is not a usable object, in words for a one-line error (the caller adds file and line).
public enum JSONLineProblem: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidUTF8(byteOffset: Int)
    case invalidJSON(String)
    case notAnObject(found: String)

    public var description: String {
        switch self {
        case .invalidUTF8(let offset): "invalid UTF-8 at byte \(offset)"
        case .invalidJSON(let why): "not valid JSON: \(why)"
        case .notAnObject(let found): "expected a JSON object, found \(found)"
        }
    }
}

/// The one JSON-lines reader: `TextLines` cuts the file, blank lines are skipped, every other line must be
/// valid UTF-8 holding one JSON object. A string with an unpaired surrogate escape ("\uD800") is refused
/// (it is not Unicode text; Python's json would accept it and fail later when encoding).
public enum JSONLines {
    public struct Entry: Sendable {
        public let line: Int
        public let object: Result<[String: JSONValue], JSONLineProblem>
    }

    /// Every non-blank line of a whole file.
    public static func entries(_ bytes: [UInt8]) -> [Entry] {
        TextLines.split(bytes).compactMap { line in
            line.isBlank ? nil : Entry(line: line.number, object: object(line.bytes))
        }
    }

    /// One line (without its terminator) as a JSON object.
    public static func object(_ line: ArraySlice<UInt8>) -> Result<[String: JSONValue], JSONLineProblem> {
        if let offset = TextLines.firstInvalidUTF8Offset(line) { return .failure(.invalidUTF8(byteOffset: offset)) }
        let value: JSONValue
        do { value = try JSONValue.parse(Data(line)) } catch { return .failure(.invalidJSON(error.message)) }
        guard case .object(let object) = value else { return .failure(.notAnObject(found: value.summary)) }
        return .success(object)
    }
}
