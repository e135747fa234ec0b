#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Support

/// A tensor to be written: its name, stored dtype and shape, and where its bytes come from.
public struct TensorRecord: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let payload: TensorPayload

    public init(name: String, dtype: DType, shape: [Int], payload: TensorPayload) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.payload = payload
    }

    /// The tensor of `view` stored as it is, or converted to `dtype` when that differs.
    public init(copying view: TensorView, as dtype: DType? = nil, name: String? = nil) {
        let target = dtype ?? view.dtype
        self.init(name: name ?? view.name, dtype: target, shape: view.shape,
                  payload: target == view.dtype ? .stored(view) : .converted(view))
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// The record's bytes in its dtype, produced in memory (one tensor's worth); for writers of formats
    /// that store a tensor in one call.
    public func encodedBytes() throws(SafeTensorsError) -> [UInt8] {
        let path = "<tensor \(name)>"
        try SafeTensorsWriter.validate(payload, of: self, path: path)
        let size = dtype.byteCount(elements: elementCount) ?? 0
        var sink = ByteSink.inMemory(capacity: size)
        try SafeTensorsWriter.emit(self, into: &sink, path: path)
        guard sink.count == size else {
            throw SafeTensorsError(path: path, .invalidTensor(tensor: name, reason: "payload has \(sink.count) bytes, dtype and shape need \(size)"))
        }
        return sink.collectedBytes()
    }
}

/// Where a record's bytes come from. Every variant streams: the writer never holds a second copy of the
/// file, only one chunk at a time.
public enum TensorPayload: Sendable {
    /// Bytes already in the record's dtype.
    case bytes([UInt8])
    /// The stored bytes of a tensor in another file, copied unchanged (dtype must match).
    case stored(TensorView)
    /// A tensor of any decodable dtype, converted through Float32 to the record's dtype (F32, F16, BF16).
    case converted(TensorView)
    /// Float32 values, encoded as the record's dtype.
    case float32([Float])
    /// Float32 values produced chunk by chunk: called with the index of the chunk's first element and a
    /// buffer to fill; encoded as the record's dtype.
    case generated(@Sendable (_ firstElement: Int, _ chunk: UnsafeMutableBufferPointer<Float>) -> Void)
    /// Bytes of another dtype, converted through Float32 to the record's dtype (F32, F16, BF16).
    case convertedBytes([UInt8], from: DType)
    /// A payload produced only when the writer reaches this tensor, so that a conversion holds one source
    /// tensor in memory at a time. Errors it throws are reported as the source's.
    case deferred(@Sendable () throws -> TensorPayload)
}

/// Writes safetensors files that the reference implementation reads and, for the same tensors and at most
/// one metadata entry, reproduces byte for byte: tensors ordered by descending dtype size then name,
/// compact JSON header padded with spaces to a multiple of 8. Output goes to a temporary file beside the
/// destination, is flushed to disk, and is renamed into place only when complete.
public enum SafeTensorsWriter {
    /// Elements converted per chunk when streaming converted or generated payloads.
    static let chunkElements = 1 << 20

    /// How a failure of the staged write is reported in this module's terms.
    static func writeFailure(_ error: FileAccessError) -> SafeTensorsError { SafeTensorsError(path: error.path, .writeFailed(error.reason)) }

    /// Writes `records` to `path`. Returns the header as written.
    @discardableResult
    public static func write(_ records: [TensorRecord], metadata: [String: String]? = nil, to path: String) throws(SafeTensorsError) -> SafeTensorsHeader {
        let ordered = try validatedInReferenceOrder(records, path: path)
        var infos: [TensorInfo] = []
        var offset = 0
        for record in ordered {
            let size = record.dtype.byteCount(elements: record.elementCount)!
            infos.append(TensorInfo(name: record.name, dtype: record.dtype, shape: record.shape, dataOffsets: offset..<(offset + size)))
            offset += size
        }
        let headerBytes = SafeTensorsHeader.encode(tensors: infos, metadata: metadata)
        try StagedOutput.requireFreeSpace(headerBytes.count + offset, at: path, failure: Self.writeFailure)
        try AtomicFile.write(to: path, failure: Self.writeFailure) { (sink: inout ByteSink) throws(SafeTensorsError) in
            sink.append(headerBytes)
            for (record, info) in zip(ordered, infos) {
                let before = sink.count
                try emit(record, into: &sink, path: path)
                guard sink.count - before == info.byteCount else {
                    throw SafeTensorsError(path: path, .invalidTensor(tensor: record.name,
                        reason: "payload has \(sink.count - before) bytes, dtype and shape need \(info.byteCount)"))
                }
            }
        }
        return try SafeTensorsFile(path: path).header
    }

    /// The reference writer's order: descending dtype rank (so larger elements come first and stay
    /// aligned), then name by bytes.
    static func validatedInReferenceOrder(_ records: [TensorRecord], path: String) throws(SafeTensorsError) -> [TensorRecord] {
        var seen = Set<String>()
        for record in records {
            guard seen.insert(record.name).inserted else { throw SafeTensorsError(path: path, .duplicateTensor(record.name)) }
            guard record.name != SafeTensorsHeader.metadataKey else {
                throw SafeTensorsError(path: path, .invalidTensor(tensor: record.name, reason: "the name is reserved for metadata"))
            }
            guard record.shape.allSatisfy({ $0 >= 0 }), record.dtype.byteCount(elements: record.elementCount) != nil else {
                throw SafeTensorsError(path: path, .invalidTensor(tensor: record.name, reason: "shape \(record.shape) is not storable as \(record.dtype.rawValue)"))
            }
            try validate(record.payload, of: record, path: path)
        }
        return records.sorted { a, b in
            a.dtype != b.dtype ? a.dtype > b.dtype : Array(a.name.utf8).lexicographicallyPrecedes(b.name.utf8)
        }
    }

    /// Checks that `payload` can produce `record`'s bytes (dtype conversions allowed, element counts).
    static func validate(_ payload: TensorPayload, of record: TensorRecord, path: String) throws(SafeTensorsError) {
        switch payload {
        case .converted(let view) where !view.dtype.convertsToFloat32:
            throw SafeTensorsError(path: path, .notDecodable(tensor: view.name, dtype: view.dtype))
        case .convertedBytes(_, let from) where !from.convertsToFloat32:
            throw SafeTensorsError(path: path, .notDecodable(tensor: record.name, dtype: from))
        case .converted, .float32, .generated, .convertedBytes:
            guard ElementConversion.encodableFromFloat32.contains(record.dtype) else {
                throw SafeTensorsError(path: path, .invalidTensor(tensor: record.name,
                    reason: "conversion to \(record.dtype.rawValue) is not supported (F32, F16, BF16 are)"))
            }
        case .stored(let view) where view.dtype != record.dtype:
            throw SafeTensorsError(path: path, .invalidTensor(tensor: record.name,
                reason: "stored bytes are \(view.dtype.rawValue), record says \(record.dtype.rawValue)"))
        default:
            break
        }
        if case .converted(let view) = payload, view.info.elementCount != record.elementCount {
            throw SafeTensorsError(path: path, .invalidTensor(tensor: record.name, reason: "source has \(view.info.elementCount) elements"))
        }
        if case .float32(let values) = payload, values.count != record.elementCount {
            throw SafeTensorsError(path: path, .invalidTensor(tensor: record.name, reason: "\(values.count) values for shape \(record.shape)"))
        }
    }

    static func emit(_ record: TensorRecord, into sink: inout ByteSink, path: String) throws(SafeTensorsError) {
        try emit(record.payload, of: record, into: &sink, path: path)
    }

    private static func emit(_ payload: TensorPayload, of record: TensorRecord, into sink: inout ByteSink, path: String) throws(SafeTensorsError) {
        switch payload {
        case .deferred(let produce):
            let produced: TensorPayload
            do {
                produced = try produce()
            } catch let error as SafeTensorsError {
                throw error
            } catch {
                throw SafeTensorsError(path: path, .invalidTensor(tensor: record.name, reason: "reading the source failed: \(error)"))
            }
            if case .deferred = produced {
                throw SafeTensorsError(path: path, .invalidTensor(tensor: record.name, reason: "a deferred payload produced another deferred payload"))
            }
            try validate(produced, of: record, path: path)
            try emit(produced, of: record, into: &sink, path: path)
        case .convertedBytes(let bytes, let from):
            guard from.byteCount(elements: record.elementCount) == bytes.count else {
                throw SafeTensorsError(path: path, .invalidTensor(tensor: record.name, reason: "\(bytes.count) bytes of \(from.rawValue) for shape \(record.shape)"))
            }
            let elementBytes = from.bitSize / 8
            bytes.withUnsafeBytes { raw in
                encodeChunks(count: record.elementCount, dtype: record.dtype, into: &sink) { first, chunk in
                    let slice = UnsafeRawBufferPointer(rebasing: raw[(first * elementBytes)..<((first + chunk.count) * elementBytes)])
                    ElementConversion.toFloat32(slice, dtype: from, into: chunk)
                }
            }
        case .bytes(let bytes):
            sink.append(bytes)
        case .stored(let view):
            view.withUnsafeBytes { sink.append($0) }
            view.releasePages()
        case .float32(let values):
            values.withUnsafeBufferPointer { source in
                encodeChunks(count: values.count, dtype: record.dtype, into: &sink) { first, chunk in
                    _ = chunk.initialize(from: UnsafeBufferPointer(rebasing: source[first..<(first + chunk.count)]))
                }
            }
        case .converted(let view):
            view.withUnsafeBytes { raw in
                let elementBytes = view.dtype.bitSize / 8
                encodeChunks(count: view.info.elementCount, dtype: record.dtype, into: &sink) { first, chunk in
                    let bytes = UnsafeRawBufferPointer(rebasing: raw[(first * elementBytes)..<((first + chunk.count) * elementBytes)])
                    ElementConversion.toFloat32(bytes, dtype: view.dtype, into: chunk)
                }
            }
            view.releasePages()
        case .generated(let fill):
            encodeChunks(count: record.elementCount, dtype: record.dtype, into: &sink, fill: fill)
        }
        do { try sink.flushIfFailed() } catch { throw SafeTensorsError(path: path, .writeFailed(error.reason)) }
    }

    /// Produces Float32 values chunk by chunk, encodes each as `dtype` and appends it.
    private static func encodeChunks(
        count: Int, dtype: DType, into sink: inout ByteSink, fill: (Int, UnsafeMutableBufferPointer<Float>) -> Void
    ) {
        let chunkCapacity = min(count, chunkElements)
        guard chunkCapacity > 0 else { return }
        let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunkCapacity)
        let encoded = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkCapacity * dtype.bitSize / 8, alignment: 16)
        defer { values.deallocate(); encoded.deallocate() }
        var first = 0
        while first < count {
            let n = min(chunkCapacity, count - first)
            let chunk = UnsafeMutableBufferPointer(rebasing: values[0..<n])
            fill(first, chunk)
            let out = UnsafeMutableRawBufferPointer(rebasing: encoded[0..<(n * dtype.bitSize / 8)])
            ElementConversion.fromFloat32(UnsafeBufferPointer(chunk), to: dtype, into: out)
            sink.append(UnsafeRawBufferPointer(out))
            first += n
        }
    }
}
