import Checkpoints
import Foundation
import Support
import Model
import SafeTensors

/// What a baseline keeps of each activation.
public enum NumericsStorage: String, Sendable, CaseIterable {
    /// Every hidden state and logit in full: exact comparisons, the size of the activations.
    case full
    /// Per tensor [mean, rms, max-abs] and a fixed random projection of the last axis to 64 values, for
    /// tensors wider than 64: a few MB even for the released size; a change that moves any activation
    /// moves its projection (with probability 1).
    case summary
    /// Per family (the hidden states and last_hidden_state together; each head's logits apart): full when
    /// the family holds at most `autoFullLimit` values over all groups, else summary. Small models keep
    /// everything; Llama-vocabulary token logits (32,000 per position) are summarised first.
    case auto

    public static let autoFullLimit = 2_000_000
}

/// `pixelgpt numerics record` and the recomputation of `check`: the probe's forward passes, stored under
/// the probe's group prefixes, with the inputs and the environment that produced them.
public enum NumericsRecorder {
    public static let schema = "pixelgpt.numerics.baseline"
    public static let version = 1
    public static let projectionWidth = 64
    public static let defaultProjectionSeed: UInt64 = 0x5EED_0F_B45E

    /// The forward passes of every group: inputs, then outputs (hidden states, heads, pooled), each output
    /// kept in full or summarised as `storage` says.
    public static func run(_ model: PixelGPTModel, probe: NumericsProbe, storage: NumericsStorage,
                           projectionSeed: UInt64 = defaultProjectionSeed) throws -> [TensorRecord] {
        let outputs = try forward(model, probe)
        func family(_ name: String) -> String { name.hasPrefix("hidden_states.") || name == "last_hidden_state" ? "hidden" : name }
        var familySizes: [String: Int] = [:]
        for (_, records) in outputs { for r in records { familySizes[family(r.name), default: 0] += r.elementCount } }
        let summarised: Set<String> = switch storage {
        case .full: []
        case .summary: Set(familySizes.keys)
        case .auto: Set(familySizes.filter { $0.value > NumericsStorage.autoFullLimit }.keys)
        }
        return store(outputs, projectionSeed: projectionSeed) { summarised.contains(family($0.base)) }
    }

    /// Recomputes `probe` the way `baseline` stored it: a tensor is summarised where the baseline holds its
    /// `.projection`.
    public static func run(_ model: PixelGPTModel, probe: NumericsProbe, like baseline: NumericsDump,
                           projectionSeed: UInt64 = defaultProjectionSeed) throws -> [TensorRecord] {
        let outputs = try forward(model, probe)
        return store(outputs, projectionSeed: projectionSeed) { baseline.tensors[$0.name + ".projection"] != nil }
    }

    private static func forward(_ model: PixelGPTModel, _ probe: NumericsProbe) throws -> [(group: NumericsProbe.Group, records: [TensorRecord])] {
        try probe.groups.map { group in
            do {
                let output = try model.forward(group.inputs, options: ForwardOptions(hiddenStates: true))
                return (group, ForwardContract.outputRecords(output, inputs: group.inputs))
            } catch let error as ModelError {
                throw CheckpointError(path: probe.name, (group.name.isEmpty ? "" : "group \"\(group.name)\": ") + error.description)
            }
        }
    }

    /// Each group's inputs and outputs under its prefix, the outputs `summarise` names as summary and projection.
    private static func store(_ outputs: [(group: NumericsProbe.Group, records: [TensorRecord])], projectionSeed: UInt64,
                              summarise: (NumericsTensorName) -> Bool) -> [TensorRecord] {
        var records: [TensorRecord] = []
        for (group, groupRecords) in outputs {
            records += NumericsProbe.inputRecords(group)
            let prefix = group.name.isEmpty ? "" : group.name + "."
            for record in groupRecords {
                let name = prefix + record.name
                guard summarise(NumericsTensorName(group: group.name, base: record.name)), case .float32(let values) = record.payload,
                      let width = record.shape.last, width > projectionWidth else {
                    records.append(TensorRecord(name: name, dtype: record.dtype, shape: record.shape, payload: record.payload))
                    continue
                }
                records.append(TensorRecord(name: name + ".summary", dtype: .f32, shape: [3], payload: .float32(summary(values))))
                let projected = project(values, width: width, seed: projectionSeed)
                records.append(TensorRecord(name: name + ".projection", dtype: .f32, shape: Array(record.shape.dropLast()) + [projectionWidth], payload: .float32(projected)))
            }
        }
        return records
    }

    /// [mean, rms, max |x|], accumulated in Double.
    static func summary(_ values: [Float]) -> [Float] {
        var sum = 0.0, squares = 0.0, maxAbs = 0.0
        for v in values {
            let x = Double(v)
            sum += x
            squares += x * x
            maxAbs = max(maxAbs, abs(x))
        }
        let n = Double(max(1, values.count))
        return [Float(sum / n), Float((squares / n).squareRoot()), Float(maxAbs)]
    }

    /// Rows of `width` values times a fixed N(0, 1/64) matrix [width, 64] drawn from `seed` and the width
    /// (a Johnson-Lindenstrauss projection: norms and distances kept within a few percent). Scalar and in
    /// Double, so the projection itself adds no dependence on threads or kernels.
    static func project(_ values: [Float], width: Int, seed: UInt64) -> [Float] {
        let k = projectionWidth
        // Drawn as [64, width] so that each output value is one contiguous dot product.
        var matrix = [Float](repeating: 0, count: width * k)
        matrix.withUnsafeMutableBufferPointer {
            SplitMix64.fillNormal($0, std: 1 / Float(k).squareRoot(), seed: seed ^ SplitMix64.seed(named: "numerics.projection.\(width)"), firstElement: 0)
        }
        let rows = values.count / width
        var out = [Float](repeating: 0, count: rows * k)
        values.withUnsafeBufferPointer { x in
            matrix.withUnsafeBufferPointer { m in
                out.withUnsafeMutableBufferPointer { out in
                    for r in 0..<rows {
                        for j in 0..<k {
                            var sum = 0.0
                            for i in 0..<width { sum += Double(x[r * width + i]) * Double(m[j * width + i]) }
                            out[r * k + j] = Float(sum)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Records `probe` on the checkpoint at `modelPath` into `out` (written aside and renamed).
    @discardableResult
    public static func record(modelPath: String, probe: NumericsProbe, storage: NumericsStorage = .auto, toolVersion: String,
                              to out: String) throws -> [String: String] {
        let loaded = try PixelGPTModel.load(path: modelPath)
        let records = try run(loaded.model, probe: probe, storage: storage)
        let summarised = records.contains { $0.name.hasSuffix(".projection") }
        let stored = records.contains { NumericsTensorName(parsing: $0.name).map { !$0.isInput && $0.form == .full } ?? false }
        let resolved = summarised ? (stored ? "mixed" : "summary") : "full"
        var metadata = try NumericsEnvironment.current(loaded: loaded, toolVersion: toolVersion)
        metadata["format"] = "pt"
        metadata["numerics.schema"] = schema
        metadata["numerics.version"] = String(version)
        metadata["numerics.probe"] = probe.name
        metadata["numerics.groups"] = probe.groups.map(\.name).joined(separator: ",")
        metadata["numerics.storage"] = resolved
        metadata["numerics.projection_seed"] = String(defaultProjectionSeed)
        metadata["numerics.projection_width"] = String(projectionWidth)
        try SafeTensorsWriter.write(records, metadata: metadata, to: out)
        return metadata
    }
}

/// The environment a baseline was recorded in, as safetensors metadata (strings).
public enum NumericsEnvironment {
    public static func current(loaded: LoadedModel, toolVersion: String) throws -> [String: String] {
        let dtypes = Set(try loaded.location.openWeights().weights.map(\.dtype.rawValue)).sorted()
        let c = loaded.model.config
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        return [
            "numerics.tool_version": toolVersion,
            "numerics.build": build,
            "numerics.checkpoint": loaded.location.path,
            "numerics.weight_dtype": dtypes.joined(separator: ","),
            "numerics.config_sha256": try configHash(c),
            "numerics.config": configSummary(c),
            "numerics.blas_threads": String(BLASRuntime.threads),
            "numerics.gemm_isa": BLASRuntime.gemmInstructionSet,
            "numerics.openblas_config": BLASRuntime.configuration.trimmingCharacters(in: .whitespaces),
            "numerics.openblas_core": BLASRuntime.coreName,
            "numerics.cpu": cpuModel(),
            "numerics.os": ProcessInfo.processInfo.operatingSystemVersionString,
        ]
    }

    /// SHA-256 of the config's shape-relevant keys, sorted: torch_dtype and transformers_version are left
    /// out because converting to BF16 rewrites the first and must still check against the F32 baseline.
    public static func configHash(_ config: PixelGPTConfig) throws -> String {
        var c = config
        c.torchDtype = nil
        c.transformersVersion = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var hash = SHA256()
        hash.update(Array(try encoder.encode(c)))
        return SHA256.hex(hash.finalize())
    }

    public static func configSummary(_ c: PixelGPTConfig) -> String {
        "hidden_size \(c.hiddenSize), layers \(c.numHiddenLayers), heads \(c.numAttentionHeads)/\(c.keyValueHeads), intermediate_size \(c.intermediateSize), vocab_size \(c.vocabSize)"
            + (c.numLabels.map { ", num_labels \($0)" } ?? "")
    }

    /// "model name" of /proc/cpuinfo (Linux), else the architecture.
    public static func cpuModel() -> String {
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        #if arch(x86_64)
        return "x86_64"
        #else
        return "arm64"
        #endif
    }
}
