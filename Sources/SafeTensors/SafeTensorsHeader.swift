/// Where one tensor's bytes lie and how to read them.
public struct TensorInfo: Sendable, Hashable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range relative to the start of the data section (the header's `data_offsets`).
    public let dataOffsets: Range<Int>

    public init(name: String, dtype: DType, shape: [Int], dataOffsets: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataOffsets = dataOffsets
    }

    /// Product of the shape: 1 for a 0-rank tensor, 0 when any dimension is 0.
    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { dataOffsets.count }
}

/// The parsed, validated JSON header of a safetensors file.
///
/// Validation follows the reference implementation (huggingface/safetensors `read_metadata` and
/// `Metadata::validate`): length prefix at most 100 MB and inside the file; UTF-8 JSON object; each entry
/// `{dtype, shape, data_offsets}` (other keys ignored); tensors, sorted by offsets, tile the data section
/// from 0 without gaps or overlaps; each tensor's byte size equals elements x dtype size; the data
/// section ends exactly at the end of the file. Stricter than the reference: a repeated tensor name is an
/// error (serde keeps the last one silently).
public struct SafeTensorsHeader: Sendable {
    public static let maxHeaderSize = 100_000_000
    public static let metadataKey = "__metadata__"

    /// Tensors in file order (by data offset).
    public let tensors: [TensorInfo]
    /// The free-form string map `__metadata__`, nil when absent.
    public let metadata: [String: String]?
    /// The header's JSON length N; tensor data starts at byte 8 + N.
    public let headerLength: Int
    private let indexByName: [String: Int]

    public var dataStart: Int { 8 + headerLength }
    public var dataByteCount: Int { tensors.last?.dataOffsets.upperBound ?? 0 }

    public func info(named name: String) -> TensorInfo? {
        indexByName[name].map { tensors[$0] }
    }

    /// Parses and validates the header at the start of `file` (the whole file's bytes).
    public static func parse(file: UnsafeRawBufferPointer, path: String) throws(SafeTensorsError) -> SafeTensorsHeader {
        func fail(_ problem: SafeTensorsError.Problem) -> SafeTensorsError { SafeTensorsError(path: path, problem) }

        guard file.count >= 8 else { throw fail(.tooSmall(fileSize: file.count)) }
        let n = file.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard n <= UInt64(maxHeaderSize) else { throw fail(.headerTooLarge(n)) }
        let headerLength = Int(n)
        guard 8 + headerLength <= file.count else { throw fail(.headerPastEnd(headerSize: n, fileSize: file.count)) }
        let headerBytes = UnsafeRawBufferPointer(rebasing: file[8..<(8 + headerLength)])
        guard String(validating: headerBytes.bindMemory(to: UInt8.self), as: UTF8.self) != nil else {
            throw fail(.headerNotUTF8)
        }
        let json: HeaderJSON.Value
        do {
            json = try HeaderJSON.parse(headerBytes)
        } catch {
            throw fail(.headerSyntax(message: error.message, offset: error.offset))
        }
        guard case .object(let members) = json else { throw fail(.headerNotAnObject(found: json.typeName)) }

        var metadata: [String: String]?
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(members.count)
        for (key, value) in members.map({ ($0.key, $0.value) }) {
            if key == metadataKey {
                metadata = try parseMetadata(value, path: path)
            } else {
                tensors.append(try parseEntry(name: key, value, path: path))
            }
        }
        // The reference sorts by (begin, end); names break ties so that order is deterministic.
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }

        var expectedBegin = 0
        for tensor in tensors {
            let range = tensor.dataOffsets
            guard range.lowerBound == expectedBegin else {
                throw fail(.offsetsNotContiguous(tensor: tensor.name, expectedBegin: expectedBegin,
                                                 begin: range.lowerBound, end: range.upperBound))
            }
            guard let expectedBytes = tensor.dtype.byteCount(shape: tensor.shape) else {
                throw fail(.sizeOverflow(tensor: tensor.name))
            }
            guard expectedBytes == range.count else {
                throw fail(.sizeMismatch(tensor: tensor.name, expectedBytes: expectedBytes, actualBytes: range.count))
            }
            expectedBegin = range.upperBound
        }
        let available = file.count - 8 - headerLength
        guard expectedBegin == available else { throw fail(.dataSizeMismatch(headerEnd: expectedBegin, available: available)) }

        var index: [String: Int] = [:]
        index.reserveCapacity(tensors.count)
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        return SafeTensorsHeader(tensors: tensors, metadata: metadata, headerLength: headerLength, indexByName: index)
    }

    private static func parseMetadata(_ value: HeaderJSON.Value, path: String) throws(SafeTensorsError) -> [String: String]? {
        switch value {
        case .null:
            return nil
        case .object(let members):
            var map: [String: String] = [:]
            for (k, v) in members.map({ ($0.key, $0.value) }) {
                guard case .string(let s) = v else {
                    throw SafeTensorsError(path: path, .invalidMetadata("value of \"\(k)\" is a \(v.typeName); the format allows strings only"))
                }
                map[k] = s
            }
            return map
        default:
            throw SafeTensorsError(path: path, .invalidMetadata("must be an object of strings, found \(value.typeName)"))
        }
    }

    private static func parseEntry(name: String, _ value: HeaderJSON.Value, path: String) throws(SafeTensorsError) -> TensorInfo {
        func invalid(_ reason: String) -> SafeTensorsError { SafeTensorsError(path: path, .invalidEntry(tensor: name, reason: reason)) }
        guard case .object(let fields) = value else { throw invalid("entry must be an object, found \(value.typeName)") }
        var dtypeValue: HeaderJSON.Value?
        var shapeValue: HeaderJSON.Value?
        var offsetsValue: HeaderJSON.Value?
        for (k, v) in fields.map({ ($0.key, $0.value) }) {
            switch k {
            case "dtype": dtypeValue = v
            case "shape": shapeValue = v
            case "data_offsets": offsetsValue = v
            default: break  // unknown fields are ignored, as serde does
            }
        }
        guard let dtypeValue else { throw invalid("missing field \"dtype\"") }
        guard let shapeValue else { throw invalid("missing field \"shape\"") }
        guard let offsetsValue else { throw invalid("missing field \"data_offsets\"") }
        guard case .string(let dtypeName) = dtypeValue else { throw invalid("dtype must be a string, found \(dtypeValue.typeName)") }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw SafeTensorsError(path: path, .unknownDType(tensor: name, dtype: dtypeName))
        }
        guard case .array(let dims) = shapeValue else { throw invalid("shape must be an array, found \(shapeValue.typeName)") }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for d in dims {
            guard let u = d.unsignedInteger, u <= UInt64(Int.max) else { throw invalid("shape entries must be non-negative integers") }
            shape.append(Int(u))
        }
        guard case .array(let offsets) = offsetsValue, offsets.count == 2,
            let begin = offsets[0].unsignedInteger, let end = offsets[1].unsignedInteger,
            begin <= UInt64(Int.max), end <= UInt64(Int.max)
        else { throw invalid("data_offsets must be two non-negative integers [begin, end]") }
        guard begin <= end else {
            throw SafeTensorsError(path: path, .offsetsNotContiguous(tensor: name, expectedBegin: Int(begin), begin: Int(begin), end: Int(end)))
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: Int(begin)..<Int(end))
    }

    /// Serialises a header as the reference writer does: `__metadata__` first (keys sorted), then the
    /// tensors in the given order, compact JSON, padded with spaces to a multiple of 8 bytes so that the
    /// data section, and with it every naturally ordered tensor, is aligned.
    public static func encode(tensors: [TensorInfo], metadata: [String: String]?) -> [UInt8] {
        var members: [HeaderJSON.Member] = []
        if let metadata {
            let sorted = metadata.sorted { Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8) }
            members.append(.init(metadataKey, .object(sorted.map { .init($0.key, .string($0.value)) })))
        }
        for t in tensors {
            members.append(.init(t.name, .object([
                .init("dtype", .string(t.dtype.rawValue)),
                .init("shape", .array(t.shape.map { .number(String($0)) })),
                .init("data_offsets", .array([.number(String(t.dataOffsets.lowerBound)), .number(String(t.dataOffsets.upperBound))])),
            ])))
        }
        var json: [UInt8] = []
        HeaderJSON.write(.object(members), into: &json)
        let padded = (json.count + 7) / 8 * 8
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padded - json.count))
        return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json
    }
}
