import SafeTensors

/// One tensor as a checkpoint holds it, described before anything is read.
public struct WeightInfo: Sendable, Equatable {
    /// PyTorch-style name (Keras names are already converted; see `KerasWeightNames`).
    public let name: String
    public let dtype: DType
    /// Shape as delivered (after any transposition).
    public let shape: [Int]
    /// The file that holds it (a shard's file name for sharded checkpoints).
    public let file: String
    /// How it is stored: "safetensors", "contiguous", "chunked+shuffle+gzip", ...
    public let storage: String
    /// Axis permutation applied on load (Keras kernels), nil when delivered as stored.
    public let permutation: [Int]?

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { dtype.byteCount(elements: elementCount) ?? 0 }
}

/// Where a loaded tensor's bytes are: in place in a mapped safetensors file, or in memory.
public struct LoadedWeight: Sendable {
    public let info: WeightInfo
    public let payload: TensorPayload
    /// False when the bytes had to be copied (read from HDF5, transposed, or misaligned for their dtype).
    public let isZeroCopy: Bool
}

/// A checkpoint's weights in any layout: listed without reading, loaded by name on demand.
public protocol WeightSource: Sendable {
    /// The file or index that errors name.
    var path: String { get }
    var weights: [WeightInfo] { get }
    /// File-level metadata (safetensors `__metadata__`, the HDF5 `metadata` attribute).
    var metadata: [String: String]? { get }
    func load(_ name: String) throws -> LoadedWeight
}

extension WeightSource {
    public func info(_ name: String) -> WeightInfo? { weights.first { $0.name == name } }
    public var parameterCount: Int { weights.reduce(0) { $0 + $1.elementCount } }
    public var byteCount: Int { weights.reduce(0) { $0 + $1.byteCount } }
}

/// Safetensors weights, one file or sharded: every tensor is a view into a memory map.
public final class SafeTensorsWeights: WeightSource {
    public let tensors: any TensorSource
    public let weights: [WeightInfo]

    public init(_ tensors: any TensorSource) {
        self.tensors = tensors
        let shardOf: (TensorInfo) -> String
        if let sharded = tensors as? ShardedSafeTensors {
            shardOf = { sharded.index.weightMap[$0.name] ?? "" }
        } else {
            let file = String(tensors.path.split(separator: "/").last ?? "")
            shardOf = { _ in file }
        }
        weights = tensors.tensorInfos.map {
            WeightInfo(name: $0.name, dtype: $0.dtype, shape: $0.shape, file: shardOf($0), storage: "safetensors", permutation: nil)
        }
    }

    public var path: String { tensors.path }
    public var metadata: [String: String]? { tensors.metadata }

    public func load(_ name: String) throws -> LoadedWeight {
        let view = try tensors.tensor(named: name)
        let aligned = view.withUnsafeBytes { Int(bitPattern: $0.baseAddress) % view.dtype.alignment == 0 }
        let info = weights.first { $0.name == name }!
        return LoadedWeight(info: info, payload: .stored(view), isZeroCopy: aligned)
    }
}
