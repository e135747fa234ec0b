/// One safetensors file, opened over a memory map. Opening reads and validates the header only; tensor
/// bytes are touched when a `TensorView` is read.
public final class SafeTensorsFile: TensorSource, Sendable {
    public let path: String
    public let header: SafeTensorsHeader
    let region: MappedRegion

    public init(path: String) throws(SafeTensorsError) {
        self.path = path
        region = try MappedRegion(path: path)
        header = try SafeTensorsHeader.parse(file: region.bytes, path: path)
    }

    /// Parses bytes held in memory (a copy is made, aligned like a mapped file). `path` names them in errors.
    public init(bytes: [UInt8], path: String = "<memory>") throws(SafeTensorsError) {
        self.path = path
        region = MappedRegion(copying: bytes)
        header = try SafeTensorsHeader.parse(file: region.bytes, path: path)
    }

    /// Size of the whole file in bytes.
    public var fileSize: Int { region.count }
    public var metadata: [String: String]? { header.metadata }
    public var tensorInfos: [TensorInfo] { header.tensors }

    public func tensor(named name: String) throws(SafeTensorsError) -> TensorView {
        guard let info = header.info(named: name) else { throw SafeTensorsError(path: path, .tensorNotFound(name)) }
        return TensorView(info: info, file: self)
    }
}

/// Anything that serves tensors by name: one file or a sharded set.
public protocol TensorSource: Sendable {
    /// The path that errors and reports name.
    var path: String { get }
    var tensorInfos: [TensorInfo] { get }
    var metadata: [String: String]? { get }
    func tensor(named name: String) throws(SafeTensorsError) -> TensorView
}

extension TensorSource {
    public var tensorNames: [String] { tensorInfos.map(\.name) }
    public var totalTensorBytes: Int { tensorInfos.reduce(0) { $0 + $1.byteCount } }
    public var parameterCount: Int { tensorInfos.reduce(0) { $0 + $1.elementCount } }
}

/// A tensor inside an open file: its description and its bytes in place. Keeps the file mapped while it
/// lives.
public struct TensorView: Sendable {
    public let info: TensorInfo
    public let file: SafeTensorsFile

    public var name: String { info.name }
    public var dtype: DType { info.dtype }
    public var shape: [Int] { info.shape }

    /// The tensor's stored bytes, without copying.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let start = file.header.dataStart + info.dataOffsets.lowerBound
        return try body(UnsafeRawBufferPointer(rebasing: file.region.bytes[start..<(start + info.byteCount)]))
    }

    /// Tells the kernel these bytes are not needed for now: their pages leave this process's resident set
    /// (they stay in the page cache, and the next access maps them again). Streaming readers call it after
    /// each tensor so that resident memory stays near one tensor, not the file.
    public func releasePages() {
        withUnsafeBytes { file.region.releasePages(of: $0) }
    }

    /// A copy of the stored bytes.
    public func bytes() -> [UInt8] { withUnsafeBytes { Array($0) } }

    /// Whether the bytes can be viewed in place as F32 (dtype F32, 4-byte aligned in memory).
    public var isZeroCopyFloat32: Bool {
        info.dtype == .f32 && withUnsafeBytes { Int(bitPattern: $0.baseAddress) % 4 == 0 }
    }

    /// Calls `body` with the values as Float32: in place when `isZeroCopyFloat32`, otherwise decoded
    /// (or, for a misaligned F32 tensor, copied) into a temporary buffer first.
    public func withFloat32<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        if isZeroCopyFloat32 {
            return try withUnsafeBytes { raw in try raw.withMemoryRebound(to: Float.self) { try body($0) } }
        }
        return try float32Values().withUnsafeBufferPointer { try body($0) }
    }

    /// The values of an integer tensor as Int64, exactly (always a copy); U64 and floating types are refused.
    public func int64Values() throws(SafeTensorsError) -> [Int64] {
        guard ElementConversion.decodableAsInt64.contains(info.dtype) else { throw SafeTensorsError(path: file.path, .notDecodable(tensor: name, dtype: dtype)) }
        return withUnsafeBytes { ElementConversion.toInt64($0, dtype: info.dtype, count: info.elementCount) }
    }

    /// The values converted to Float32 (always a copy).
    public func float32Values() throws(SafeTensorsError) -> [Float] {
        guard info.dtype.convertsToFloat32 else { throw SafeTensorsError(path: file.path, .notDecodable(tensor: name, dtype: dtype)) }
        let n = info.elementCount
        return [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            withUnsafeBytes { ElementConversion.toFloat32($0, dtype: info.dtype, into: buffer) }
            initialized = n
        }
    }
}
