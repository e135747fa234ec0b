import Foundation
import Model
import SafeTensors

/// Builds a `PixelGPTModel` from a checkpoint in any layout the Checkpoints module reads. Model never sees
/// a file format: this glue hands it tensors by canonical name (through `WeightNameTable`, so bare-model,
/// sequence-classification and Llama `lm_head` names all load) as `Float32Storage`.
public struct LoadedModel: Sendable {
    public let model: PixelGPTModel
    public let location: CheckpointLocation
    /// Bytes of F32 tensors used in place from the memory-mapped file (no copy).
    public let mappedBytes: Int
    /// Bytes of F32 copies made because the stored tensor is F16, BF16 or another dtype (the memory a
    /// narrower checkpoint costs at run time), or not viewable in place (HDF5, misaligned).
    public let convertedBytes: Int
    /// Stored tensors converted to F32, by name.
    public let converted: [String]
    /// Stored tensors the model does not use (e.g. lm heads under a classifier config), by name.
    public let unused: [String]

    /// One line for logs: what was mapped and what had to be copied.
    public var memorySummary: String {
        func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
        var line = "weights: \(mb(mappedBytes)) mapped in place, \(mb(convertedBytes)) converted to F32 in memory"
        if !converted.isEmpty { line += " (\(converted.count) tensors)" }
        return line
    }
}

/// F32 values in a memory-mapped safetensors file, read in place. The view keeps the mapping alive.
struct MappedFloat32: Float32Storage {
    let view: TensorView

    var count: Int { view.info.elementCount }

    func withFloat32<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R {
        view.withUnsafeBytes { raw in body(raw.assumingMemoryBound(to: Float.self)) }
    }

    func releaseResidentPages() { view.releasePages() }
}

extension PixelGPTModel {
    /// Loads the checkpoint at `path` (directory with config.json, or a weights file with an embedded
    /// config). F32 safetensors tensors stay in the mapped file; other dtypes are converted to F32.
    public static func load(path: String) throws -> LoadedModel {
        let location = try CheckpointLocation.resolve(path)
        let source = try location.openWeights()
        guard let (_, config) = try location.loadConfig(weights: source) else {
            throw CheckpointError(path: path, "no config.json: the model's shape is unknown")
        }
        var stored: [String: WeightInfo] = [:]
        var unknown: [String] = []
        for info in source.weights {
            if let match = WeightNameTable.canonical(info.name) { stored[match.canonical] = info } else { unknown.append(info.name) }
        }
        var mapped = 0, copiedBytes = 0
        var converted: [String] = []
        var used: Set<String> = []
        let weights = try PixelGPTWeights(config: config) { canonical in
            guard let info = stored[canonical] else { return nil }
            used.insert(info.name)
            guard info.dtype.convertsToFloat32, info.dtype.isFloatingPoint else {
                throw CheckpointError(path: source.path, "tensor \"\(info.name)\" is \(info.dtype.rawValue); the model needs floating-point weights")
            }
            let loaded = try source.load(info.name)
            let storage: any Float32Storage
            switch loaded.payload {
            case .stored(let view) where view.isZeroCopyFloat32:
                storage = MappedFloat32(view: view)
                mapped += info.byteCount
            case .stored(let view):
                storage = try view.float32Values()
                copiedBytes += 4 * info.elementCount
                converted.append(info.name)
            case .bytes(let bytes):
                storage = [Float](unsafeUninitializedCapacity: info.elementCount) { out, initialized in
                    bytes.withUnsafeBytes { ElementConversion.toFloat32($0, dtype: info.dtype, into: out) }
                    initialized = info.elementCount
                }
                copiedBytes += 4 * info.elementCount
                if info.dtype != .f32 { converted.append(info.name) }
            default:
                throw CheckpointError(path: source.path, "tensor \"\(info.name)\": unexpected payload from the weight source")
            }
            return WeightTensor(name: canonical, shape: info.shape, storage: storage)
        }
        let model = try PixelGPTModel(config: config, weights: weights)
        let unused = (unknown + source.weights.map(\.name).filter { !used.contains($0) && !unknown.contains($0) }).sorted()
        return LoadedModel(model: model, location: location, mappedBytes: mapped, convertedBytes: copiedBytes,
                           converted: converted, unused: unused)
    }
}
