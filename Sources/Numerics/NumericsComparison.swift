import Checkpoints
import Foundation
import Model
import SafeTensors
import Support

/// The presets of the numerics contract: max |a - b| <= atol + rtol · max |reference| per tensor
/// (`Tolerance.Mode.maxRelative`). The measurements behind them are in docs/numerics.md.
extension Tolerance {
    /// Same build, same threads, same checkpoint: bitwise equal.
    public static let exact = Tolerance(.maxRelative, name: "exact", atol: 0, rtol: 0)
    /// Another OpenBLAS thread count, build or implementation. Measured (docs/numerics.md): OpenBLAS 1 against
    /// 2 threads and debug against release builds are bitwise equal; an independent float32 implementation
    /// (the numpy reference) differs by at most 1.9e-6 on the released size and 8.3e-6 on any golden case.
    /// 5e-5 leaves a factor of 6 over the worst of these and stays 2.4 times below the smallest effect of a
    /// 0.1% change in one kernel (1.2e-4).
    public static let f32 = Tolerance(.maxRelative, name: "f32", atol: 0, rtol: 5e-5)
    /// A BF16-converted checkpoint against its F32 source. Measured: 4.5e-3 (tiny), 5.3e-3 (small) and
    /// 1.15e-2 (released size, 24 layers) at worst; 5e-2 leaves a factor of 4 for trained weights.
    public static let bf16 = Tolerance(.maxRelative, name: "bf16", atol: 0, rtol: 5e-2)

    public static let presets = [exact, f32, bf16]

    public static func preset(named name: String) -> Tolerance? { presets.first { $0.name == name } }
}

/// A tensor of a dump, decoded: floats (any float dtype) or integers (pooled_index, input ids).
public struct NumericsTensor: Sendable {
    public let shape: [Int]
    public let floats: [Float]
    public let integers: [Int64]?

    public init(shape: [Int], floats: [Float], integers: [Int64]? = nil) {
        self.shape = shape
        self.floats = floats
        self.integers = integers
    }

    static func read(_ view: TensorView, path: String) throws -> NumericsTensor {
        switch view.dtype {
        case .i64, .i32:
            return NumericsTensor(shape: view.shape, floats: [], integers: try view.int64Values())
        default:
            guard view.dtype.convertsToFloat32 else {
                throw CheckpointError(path: path, "tensor \"\(view.name)\" is \(view.dtype.rawValue), which cannot be compared")
            }
            return NumericsTensor(shape: view.shape, floats: try view.float32Values())
        }
    }

    static func from(_ record: TensorRecord) -> NumericsTensor? {
        switch record.payload {
        case .float32(let values): return NumericsTensor(shape: record.shape, floats: values)
        case .bytes(let bytes) where record.dtype == .i64:
            let values = bytes.withUnsafeBytes { ElementConversion.toInt64($0, dtype: .i64, count: record.elementCount) }
            return NumericsTensor(shape: record.shape, floats: [], integers: values)
        default: return nil
        }
    }

    func bitwiseEqual(_ other: NumericsTensor) -> Bool {
        shape == other.shape && integers == other.integers && floats.count == other.floats.count
            && zip(floats, other.floats).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
}

/// A numerics dump in memory: contract tensors by name, plus the file's metadata.
public struct NumericsDump: Sendable {
    public let path: String
    public let tensors: [String: NumericsTensor]
    public let metadata: [String: String]

    public init(path: String, tensors: [String: NumericsTensor], metadata: [String: String]) {
        self.path = path
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Reads every tensor whose name follows the naming of `NumericsTensorName`; other tensors are refused
    /// (a typo would otherwise silently go uncompared).
    public static func read(path: String) throws -> NumericsDump {
        let file = try SafeTensorsFile(path: path)
        var tensors: [String: NumericsTensor] = [:]
        for info in file.tensorInfos {
            guard NumericsTensorName(parsing: info.name) != nil else {
                throw CheckpointError(path: path, "tensor \"\(info.name)\" is not a numerics-contract name ([GROUP.]hidden_states.<i>, last_hidden_state, token_logits, pixel_logits, pooled_logits, pooled_index or an input)")
            }
            tensors[info.name] = try NumericsTensor.read(try file.tensor(named: info.name), path: path)
        }
        return NumericsDump(path: path, tensors: tensors, metadata: file.metadata ?? [:])
    }

    /// This dump plus the `.summary` and `.projection` tensors that `other` holds where this one holds the
    /// full tensor, computed with `other`'s projection seed.
    func summarising(like other: NumericsDump) -> NumericsDump {
        let seed = other.metadata["numerics.projection_seed"].flatMap(UInt64.init) ?? NumericsRecorder.defaultProjectionSeed
        var tensors = self.tensors
        for name in other.tensors.keys where tensors[name] == nil {
            guard let key = NumericsTensorName(parsing: name), key.form != .full,
                  let full = tensors[NumericsTensorName(group: key.group, base: key.base).name], full.integers == nil,
                  let width = full.shape.last, width > 0 else { continue }
            tensors[name] = key.form == .summary
                ? NumericsTensor(shape: [3], floats: NumericsRecorder.summary(full.floats))
                : NumericsTensor(shape: Array(full.shape.dropLast()) + [NumericsRecorder.projectionWidth],
                                 floats: NumericsRecorder.project(full.floats, width: width, seed: seed))
        }
        return NumericsDump(path: path, tensors: tensors, metadata: metadata)
    }

    public init(path: String, records: [TensorRecord], metadata: [String: String]) {
        var tensors: [String: NumericsTensor] = [:]
        for record in records { tensors[record.name] = NumericsTensor.from(record) }
        self.init(path: path, tensors: tensors, metadata: metadata)
    }
}

/// `pixelgpt numerics check` and `diff`: activation dumps compared tensor by tensor and stage by stage in
/// forward order, with the first stage that leaves the tolerance.
public struct NumericsReport: Codable, Sendable {
    public static let schema = "pixelgpt.numerics"
    public static let version = 1

    public struct TensorResult: Codable, Sendable {
        public let name: String
        public let group: String
        public let stage: String
        /// k for model.layers.k.
        public let layer: Int?
        public let shape: [Int]
        public let maxAbsDiff: Double
        /// max |reference|.
        public let maxReference: Double
        /// max_abs_diff / max |reference| (0 when both are 0).
        public let relative: Double
        /// Σ(a - b)² / Σ b².
        public let nmse: Double
        public let cosine: Double
        public let passed: Bool

        enum CodingKeys: String, CodingKey {
            case name, group, stage, layer, shape, relative, nmse, cosine, passed
            case maxAbsDiff = "max_abs_diff", maxReference = "max_reference"
        }
    }

    /// The worst over a stage's tensors (all groups): largest differences, smallest cosine.
    public struct StageResult: Codable, Sendable {
        public let stage: String
        public let layer: Int?
        public let tensors: Int
        public let maxAbsDiff: Double
        public let relative: Double
        public let nmse: Double
        public let cosine: Double
        public let passed: Bool
        /// The tensor with the largest relative difference.
        public let worst: String

        enum CodingKeys: String, CodingKey {
            case stage, layer, tensors, relative, nmse, cosine, passed, worst
            case maxAbsDiff = "max_abs_diff"
        }
    }

    public let schema: String
    public let version: Int
    /// "check" or "diff".
    public let mode: String
    public let a: String
    /// The reference side (the baseline in `check`).
    public let b: String
    public let tolerance: String
    public let atol: Double
    public let rtol: Double
    public let stages: [StageResult]
    public let tensors: [TensorResult]
    public let onlyInA: [String]
    public let onlyInB: [String]
    /// The first stage, in forward order, with a tensor outside the tolerance.
    public let firstFailure: String?
    public let firstFailureLayer: Int?
    /// The first stage whose tensors are not bitwise equal (at exact tolerance, the first failure).
    public let firstDifference: String?
    public let environmentA: [String: String]
    public let environmentB: [String: String]
    public let passed: Bool

    enum CodingKeys: String, CodingKey {
        case schema, version, mode, a, b, tolerance, atol, rtol, stages, tensors, passed
        case onlyInA = "only_in_a", onlyInB = "only_in_b"
        case firstFailure = "first_failure", firstFailureLayer = "first_failure_layer", firstDifference = "first_difference"
        case environmentA = "environment_a", environmentB = "environment_b"
    }

    /// Compares `a` against the reference `b`. Tensors present on one side only are listed (and, with
    /// `requireSameTensors`, refused with an error); a shape mismatch is an error naming the tensor; inputs
    /// present on both sides must be bitwise equal (else the dumps are of different probes).
    public static func compare(_ a: NumericsDump, _ b: NumericsDump, tolerance: Tolerance, mode: String = "diff",
                               requireSameTensors: Bool = false) throws -> NumericsReport {
        // A summarised tensor on one side and the full one on the other (a summary baseline against a
        // PyTorch dump): summarise the full side the same way.
        let a = a.summarising(like: b), b = b.summarising(like: a)
        var parsed: [(NumericsTensorName, NumericsTensor, NumericsTensor)] = []
        var onlyInA: [String] = [], onlyInB: [String] = []
        for (name, ta) in a.tensors {
            guard let key = NumericsTensorName(parsing: name) else { continue }
            guard let tb = b.tensors[name] else {
                if !key.isInput { onlyInA.append(name) }
                continue
            }
            guard ta.shape == tb.shape else {
                throw CheckpointError(path: a.path, "tensor \"\(name)\" has shape \(ta.shape), \(b.path) has \(tb.shape)")
            }
            guard (ta.integers == nil) == (tb.integers == nil) else {
                throw CheckpointError(path: a.path, "tensor \"\(name)\" is \(ta.integers == nil ? "floating-point" : "integer") here and \(tb.integers == nil ? "floating-point" : "integer") in \(b.path)")
            }
            if key.isInput {
                guard ta.bitwiseEqual(tb) else {
                    throw CheckpointError(path: a.path, "input \"\(name)\" differs from \(b.path)'s: the dumps were computed on different inputs")
                }
                continue
            }
            parsed.append((key, ta, tb))
        }
        for name in b.tensors.keys where a.tensors[name] == nil {
            if let key = NumericsTensorName(parsing: name), !key.isInput { onlyInB.append(name) }
        }
        // A full tensor compared through its summary on the other side is not unmatched.
        onlyInA = onlyInA.filter { b.tensors[$0 + ".projection"] == nil }.sorted()
        onlyInB = onlyInB.filter { a.tensors[$0 + ".projection"] == nil }.sorted()
        if requireSameTensors, let missing = onlyInB.first ?? onlyInA.first {
            let inB = onlyInB.first != nil
            throw CheckpointError(path: inB ? b.path : a.path, "tensor \"\(missing)\" has no counterpart in \(inB ? a.path : b.path)"
                                  + " (\(onlyInA.count + onlyInB.count) unmatched): recorded with other heads, probe or storage")
        }
        guard !parsed.isEmpty else {
            throw CheckpointError(path: a.path, "no output tensor in common with \(b.path) (names must match, group prefixes included)")
        }
        parsed.sort { ($0.0.stage, $0.0.group, $0.0.name) < ($1.0.stage, $1.0.group, $1.0.name) }
        let results = parsed.map { key, ta, tb in measure(key, ta, tb, tolerance: tolerance) }

        var stages: [StageResult] = []
        var firstDifference: String?
        for (i, (key, _, _)) in parsed.enumerated() {
            let stage = key.stage
            if firstDifference == nil, results[i].maxAbsDiff != 0 || results[i].cosine.isNaN { firstDifference = stage.label }
            if stages.last?.stage == stage.label { continue }
            let members = parsed.indices.filter { parsed[$0].0.stage == stage }.map { results[$0] }
            let worst = members.max { $0.relative < $1.relative }!
            stages.append(StageResult(stage: stage.label, layer: stage.layer, tensors: members.count,
                                      maxAbsDiff: members.map(\.maxAbsDiff).max()!, relative: worst.relative,
                                      nmse: members.map(\.nmse).max()!, cosine: members.map(\.cosine).min()!,
                                      passed: members.allSatisfy(\.passed), worst: worst.name))
        }
        let failure = stages.first { !$0.passed }
        return NumericsReport(
            schema: schema, version: version, mode: mode, a: a.path, b: b.path, tolerance: tolerance.name,
            atol: tolerance.atol, rtol: tolerance.rtol, stages: stages, tensors: results, onlyInA: onlyInA, onlyInB: onlyInB,
            firstFailure: failure?.stage, firstFailureLayer: failure?.layer, firstDifference: firstDifference,
            environmentA: a.metadata.filter { $0.key.hasPrefix("numerics.") }, environmentB: b.metadata.filter { $0.key.hasPrefix("numerics.") },
            passed: results.allSatisfy(\.passed) && (!requireSameTensors || (onlyInA.isEmpty && onlyInB.isEmpty)))
    }

    static func measure(_ key: NumericsTensorName, _ a: NumericsTensor, _ b: NumericsTensor, tolerance: Tolerance) -> TensorResult {
        let stage = key.stage
        func result(_ maxAbs: Double, _ maxRef: Double, _ nmse: Double, _ cosine: Double, passed: Bool) -> TensorResult {
            let relative = maxAbs == 0 ? 0 : maxAbs / maxRef
            return TensorResult(name: key.name, group: key.group, stage: stage.label, layer: stage.layer, shape: a.shape, maxAbsDiff: maxAbs,
                                maxReference: maxRef, relative: relative, nmse: nmse, cosine: cosine, passed: passed)
        }
        if let ia = a.integers, let ib = b.integers {
            // Indices (pooled_index) are equal or not; no tolerance makes a different position right.
            let differing = zip(ia, ib).filter { $0 != $1 }.count
            let maxRef = Double(ib.map { abs($0) }.max() ?? 0)
            let maxAbs = zip(ia, ib).map { Double(abs($0 - $1)) }.max() ?? 0
            return result(maxAbs, maxRef, differing == 0 ? 0 : .infinity, differing == 0 ? 1 : 0, passed: differing == 0)
        }
        var maxAbs = 0.0, maxRef = 0.0, squaredDiff = 0.0, squaredRef = 0.0, squaredA = 0.0, dot = 0.0
        var nanMismatch = false
        for (fa, fb) in zip(a.floats, b.floats) {
            let x = Double(fa), y = Double(fb)
            if x.isNaN || y.isNaN {
                if x.isNaN != y.isNaN { nanMismatch = true }
                continue
            }
            if x == y && x.isInfinite { continue }
            let d = abs(x - y)
            maxAbs = max(maxAbs, d)
            maxRef = max(maxRef, abs(y))
            squaredDiff += d * d
            squaredRef += y * y
            squaredA += x * x
            dot += x * y
        }
        if nanMismatch { maxAbs = .infinity }
        let nmse = squaredDiff == 0 ? 0 : squaredDiff / squaredRef
        // Equal vectors have cosine 1 exactly, not the rounding of dot / (|a| |b|).
        let cosine = squaredDiff == 0 ? 1 : dot / (squaredA.squareRoot() * squaredRef.squareRoot())
        let bitwise = !nanMismatch && zip(a.floats, b.floats).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
        // The exact preset means bitwise: -0 against +0 is a difference there, though |a - b| = 0.
        let passed = tolerance.atol == 0 && tolerance.rtol == 0 ? bitwise : !nanMismatch && tolerance.accepts(difference: maxAbs, reference: maxRef)
        return result(maxAbs, maxRef, nmse, cosine, passed: passed)
    }
}

/// `pixelgpt numerics check`: the checkpoint recomputed on the baseline's own inputs, with the baseline's
/// storage, compared against it.
public enum NumericsCheck {
    public static func run(modelPath: String, baselinePath: String, tolerance: Tolerance, toolVersion: String) throws -> NumericsReport {
        let baseline = try NumericsDump.read(path: baselinePath)
        guard baseline.metadata["numerics.schema"] == NumericsRecorder.schema else {
            throw CheckpointError(path: baselinePath, "not a numerics baseline (no \"numerics.schema\": \"\(NumericsRecorder.schema)\" metadata); compare plain dumps with `pixelgpt numerics diff`")
        }
        let seed = baseline.metadata["numerics.projection_seed"].flatMap(UInt64.init) ?? NumericsRecorder.defaultProjectionSeed
        let loaded = try PixelGPTModel.load(path: modelPath)
        let hash = try NumericsEnvironment.configHash(loaded.model.config)
        if let recorded = baseline.metadata["numerics.config_sha256"], recorded != hash {
            throw CheckpointError(path: baselinePath, "recorded for another config (\(baseline.metadata["numerics.config"] ?? "config_sha256 \(recorded.prefix(12))")); \(modelPath) has \(NumericsEnvironment.configSummary(loaded.model.config))")
        }
        let probe = try NumericsProbe.read(path: baselinePath, ignoringOutputs: true)
        let records = try NumericsRecorder.run(loaded.model, probe: probe, like: baseline, projectionSeed: seed)
        let environment = try NumericsEnvironment.current(loaded: loaded, toolVersion: toolVersion)
        let current = NumericsDump(path: modelPath, records: records, metadata: environment)
        return try NumericsReport.compare(current, baseline, tolerance: tolerance, mode: "check", requireSameTensors: true)
    }
}
