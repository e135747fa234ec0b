import Checkpoints
import Foundation
import Model
import SafeTensors

/// Reads the inputs file and writes the outputs file of `pixelgpt forward`, with the tensor names the
/// numerics contract (docs/numerics.md) fixes: inputs `input_ids`, `attention_mask`, `pixel_values`,
/// `patch_attention_mask`; outputs `last_hidden_state`, `token_logits`, `pixel_logits`, `pooled_logits`, `pooled_index`, `hidden_states.<i>`.
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
            guard view.dtype == .i64 || view.dtype == .i32 else {
                throw CheckpointError(path: path, "tensor \"\(prefix)input_ids\" is \(view.dtype.rawValue); expected I64 or I32")
            }
            ids = InputArray(shape: view.shape, values: try view.int64Values().map { Int($0) })
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
