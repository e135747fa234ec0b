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

// MARK: - The numerics contract's files (DESIGN.md, `pixelgpt forward`)

/// Reads the inputs file and writes the outputs file of `pixelgpt forward`, with the tensor names DESIGN.md
/// fixes: inputs `input_ids`, `attention_mask`, `pixel_values`, `patch_attention_mask`; outputs
/// `last_hidden_state`, `token_logits`, `pixel_logits`, `pooled_logits`, `pooled_index`, `hidden_states.<i>`.
public enum ForwardContract {
    public static let inputNames = ["input_ids", "attention_mask", "pixel_values", "patch_attention_mask"]

    public static func readInputs(path: String) throws -> ForwardInputs {
        let file = try SafeTensorsFile(path: path)
        if let unknown = file.tensorNames.first(where: { !inputNames.contains($0) }) {
            throw CheckpointError(path: path, "unknown tensor \"\(unknown)\"; inputs are \(inputNames.joined(separator: ", "))")
        }
        let views = try Dictionary(uniqueKeysWithValues: file.tensorNames.map { ($0, try file.tensor(named: $0)) })
        return try inputs(views, group: "", path: path)
    }

    /// Forward inputs from tensors named by the contract (`views` keyed by the bare names). `group` is the
    /// prefix the names carry in the file ("" for a plain inputs file; numerics probes group inputs as
    /// `GROUP.name`), used in messages.
    public static func inputs(_ views: [String: TensorView], group: String, path: String) throws -> ForwardInputs {
        let prefix = group.isEmpty ? "" : group + "."
        func floats(_ name: String, allowIntegers: Bool) throws -> InputArray<Float>? {
            guard let view = views[name] else { return nil }
            guard view.dtype.convertsToFloat32, allowIntegers || view.dtype.isFloatingPoint else {
                throw CheckpointError(path: path, "tensor \"\(prefix + name)\" is \(view.dtype.rawValue); expected \(allowIntegers ? "an integer or float" : "a float") dtype")
            }
            return InputArray(shape: view.shape, values: try view.float32Values())
        }
        var ids: InputArray<Int>?
        if let view = views["input_ids"] {
            let n = view.info.elementCount
            let values: [Int] = switch view.dtype {
            case .i64: view.withUnsafeBytes { raw in (0..<n).map { Int(raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) } }
            case .i32: view.withUnsafeBytes { raw in (0..<n).map { Int(raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) } }
            default: throw CheckpointError(path: path, "tensor \"\(prefix)input_ids\" is \(view.dtype.rawValue); expected I64 or I32")
            }
            ids = InputArray(shape: view.shape, values: values)
        }
        do {
            return try ForwardInputs(
                inputIds: ids, attentionMask: try floats("attention_mask", allowIntegers: true),
                pixelValues: try floats("pixel_values", allowIntegers: false),
                patchAttentionMask: try floats("patch_attention_mask", allowIntegers: true))
        } catch let error as ModelError {
            throw CheckpointError(path: path, group.isEmpty ? error.description : "group \"\(group)\": \(error.description)")
        }
    }

    /// The output tensors of a forward pass, F32 except `pooled_index` (I64).
    public static func outputRecords(_ output: ForwardOutput, inputs: ForwardInputs) -> [TensorRecord] {
        let b = output.batchSize, l = output.sequenceLength, h = output.hiddenSize
        var records = [TensorRecord(name: "last_hidden_state", dtype: .f32, shape: [b, l, h], payload: .float32(output.lastHiddenState))]
        if let logits = output.tokenLogits {
            records.append(TensorRecord(name: "token_logits", dtype: .f32, shape: [b, inputs.textLength, logits.count / max(1, b * inputs.textLength)], payload: .float32(logits)))
        }
        if let logits = output.pixelLogits {
            records.append(TensorRecord(name: "pixel_logits", dtype: .f32, shape: [b, inputs.patchCount, logits.count / max(1, b * inputs.patchCount)], payload: .float32(logits)))
        }
        if let logits = output.pooledLogits, let index = output.pooledIndex {
            records.append(TensorRecord(name: "pooled_logits", dtype: .f32, shape: [b, logits.count / b], payload: .float32(logits)))
            let bytes = index.flatMap { withUnsafeBytes(of: Int64($0).littleEndian, Array.init) }
            records.append(TensorRecord(name: "pooled_index", dtype: .i64, shape: [b], payload: .bytes(bytes)))
        }
        for (i, state) in output.hiddenStates.enumerated() {
            records.append(TensorRecord(name: "hidden_states.\(i)", dtype: .f32, shape: [b, l, h], payload: .float32(state)))
        }
        return records
    }
}
