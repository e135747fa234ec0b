/// A reader of the protobuf wire format (varints, fixed32, length-delimited fields), just enough to read
/// a SentencePiece ModelProto without a protobuf dependency. Every read is bounds-checked; a malformed or
/// truncated message raises `ProtobufWireReader.Malformed` rather than reading past the end.
struct ProtobufWireReader {
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    struct Malformed: Error {
        let message: String
        let offset: Int
    }

    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(bytes: [UInt8], range: Range<Int>? = nil) {
        self.bytes = bytes
        self.position = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? bytes.count
    }

    var isAtEnd: Bool { position >= end }

    private func malformed(_ message: String) -> Malformed { Malformed(message: message, offset: position) }

    mutating func readVarint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw malformed("truncated varint") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw malformed("varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// The next field's number and wire type.
    mutating func readTag() throws(Malformed) -> (field: UInt64, wireType: WireType) {
        let start = position
        let tag = try readVarint()
        guard let wireType = WireType(rawValue: UInt8(tag & 7)), tag >> 3 != 0 else {
            throw Malformed(message: "invalid field tag \(tag)", offset: start)
        }
        return (tag >> 3, wireType)
    }

    mutating func readLengthDelimited() throws(Malformed) -> Range<Int> {
        let length = try readVarint()
        guard length <= UInt64(end - position) else { throw malformed("field of \(length) bytes runs past the end") }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    mutating func readFixed32() throws(Malformed) -> UInt32 {
        guard end - position >= 4 else { throw malformed("truncated fixed32") }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return value
    }

    mutating func readString() throws(Malformed) -> String {
        let range = try readLengthDelimited()
        guard let text = String(validating: bytes[range], as: UTF8.self) else {
            throw Malformed(message: "string field is not valid UTF-8", offset: range.lowerBound)
        }
        return text
    }

    /// Skips a field of `wireType` whose tag was just read (unknown fields are allowed by protobuf).
    mutating func skip(_ wireType: WireType) throws(Malformed) {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64:
            guard end - position >= 8 else { throw malformed("truncated fixed64") }
            position += 8
        case .lengthDelimited: _ = try readLengthDelimited()
        case .fixed32: _ = try readFixed32()
        case .startGroup, .endGroup: throw malformed("protobuf groups are not used by SentencePiece")
        }
    }
}
