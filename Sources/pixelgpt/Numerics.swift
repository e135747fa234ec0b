import ArgumentParser
import Checkpoints
import Foundation
import Model
import Render

extension NumericsStorage: ExpressibleByArgument {}

/// `pixelgpt numerics`: record per-layer activation baselines for a checkpoint on a probe, check a
/// checkpoint or build against them, diff two activation dumps (docs/numerics.md).
struct Numerics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record, check and diff activations layer by layer (numerics regression testing).",
        subcommands: [RecordNumerics.self, CheckNumerics.self, DiffNumerics.self, MakeNumericsProbe.self]
    )
}

/// The tolerance options shared by check and diff.
struct ToleranceOptions: ParsableArguments {
    @Option(help: "exact (bitwise), f32 (other threads, build or kernels), bf16 (a BF16 copy against its F32 source). Default: exact.")
    var tolerance: String?

    @Option(help: "Absolute tolerance on max |a - b| (with --rtol instead of a preset).")
    var atol: Double?

    @Option(help: "Relative tolerance: max |a - b| <= atol + rtol * max |reference|.")
    var rtol: Double?

    /// A bad tolerance is a one-line error with exit status 1, like every other bad input.
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    func resolve() throws -> NumericsTolerance {
        if atol != nil || rtol != nil {
            guard tolerance == nil else { throw Invalid(description: "give --tolerance or --atol/--rtol, not both") }
            let a = atol ?? 0, r = rtol ?? 0
            guard a >= 0, r >= 0, a.isFinite, r.isFinite else { throw Invalid(description: "--atol and --rtol must be finite and >= 0") }
            return NumericsTolerance(atol: a, rtol: r)
        }
        let name = tolerance ?? "exact"
        guard let preset = NumericsTolerance.preset(named: name) else {
            throw Invalid(description: "unknown tolerance preset \"\(name)\"; use \(NumericsTolerance.presets.map(\.name).joined(separator: ", ")) or --atol/--rtol")
        }
        return preset
    }
}

struct RecordNumerics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run a probe through a checkpoint and store every layer's activations, the heads and the environment.",
        discussion: """
        PROBE is a safetensors file of numerics-contract inputs, one group per prefix (text.input_ids, \
        text.attention_mask, pixel.pixel_values, pair.patch_attention_mask, ...; no prefix for a single group), \
        "builtin" or "builtin-small" (committed probes/: English, Russian, Arabic and Chinese as text, rendered \
        strips and pairs; Llama-2 vocabulary), or "synthetic" (seeded ids and strips for any vocabulary). The \
        baseline holds the inputs too, so checking needs no probe, tokenizer or renderer.
        """
    )

    @Option(help: "Checkpoint directory (or weights file with an embedded config).")
    var model: String

    @Option(help: "A probe file, builtin, builtin-small or synthetic.")
    var probe: String = "builtin-small"

    @Option(help: "Where to write the baseline (.safetensors); written aside and renamed when complete.")
    var out: String

    @Option(help: "full (every activation), summary ([mean, rms, max-abs] and a 64-value random projection per row) or auto (summary only for a family of tensors over 2M values, e.g. Llama-vocabulary token logits).")
    var storage: NumericsStorage = .auto

    @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice); recorded in the metadata.")
    var threads: Int?

    func run() throws {
        try reportingErrors {
            if let threads { BLASRuntime.setThreads(threads) }
            let probe = try NumericsProbes.resolve(probe, model: model)
            let started = Date()
            let metadata = try NumericsRecorder.record(modelPath: model, probe: probe, storage: storage, toolVersion: PixelGPT.toolVersion, to: out)
            log("recorded \(probe.groups.count) groups (\(probe.groups.map { $0.name.isEmpty ? "-" : $0.name }.joined(separator: ", "))) of \(probe.name), storage \(metadata["numerics.storage"] ?? "?"), \(metadata["numerics.blas_threads"] ?? "?") BLAS threads, in \(String(format: "%.2f", Date().timeIntervalSince(started))) s -> \(out)")
        }
    }
}

struct CheckNumerics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Recompute a baseline's probe with a checkpoint and compare layer by layer; exit 0 only when all is within tolerance."
    )

    @Option(help: "Checkpoint directory (or weights file with an embedded config).")
    var model: String

    @Option(help: "A baseline written by pixelgpt numerics record.")
    var baseline: String

    @OptionGroup var tolerance: ToleranceOptions

    @Option(help: "OpenBLAS threads for the recomputation.")
    var threads: Int?

    @Flag(help: "Print the report as JSON (schema pixelgpt.numerics) instead of the table.")
    var json = false

    func run() throws {
        let report = try reportingErrors {
            let tol = try tolerance.resolve()
            if let threads { BLASRuntime.setThreads(threads) }
            return try NumericsCheck.run(modelPath: model, baselinePath: baseline, tolerance: tol, toolVersion: PixelGPT.toolVersion)
        }
        try NumericsOutput.emit(report, json: json)
    }
}

struct DiffNumerics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two activation dumps (numerics baselines, pixelgpt forward --hidden-states outputs, PyTorch dumps with the contract names).",
        discussion: "B is the reference. Tensors are matched by name, group prefix included; inputs present in both must be equal."
    )

    @Argument(help: "The dump under test.")
    var a: String

    @Argument(help: "The reference dump.")
    var b: String

    @OptionGroup var tolerance: ToleranceOptions

    @Flag(help: "Print the report as JSON (schema pixelgpt.numerics) instead of the table.")
    var json = false

    func run() throws {
        let report = try reportingErrors {
            try NumericsReport.compare(try NumericsDump.read(path: a), try NumericsDump.read(path: b), tolerance: try tolerance.resolve())
        }
        try NumericsOutput.emit(report, json: json)
    }
}

enum NumericsOutput {
    static func emit(_ report: NumericsReport, json: Bool) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            // A NaN on one side only makes max_abs_diff infinite; JSON has no number for that.
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
        } else {
            print(table(report), terminator: "")
        }
        if !report.passed { throw ExitCode.failure }
    }

    static func format(_ x: Double) -> String {
        if x == 0 { return "0" }
        if !x.isFinite { return x.isNaN ? "nan" : "inf" }
        return String(format: "%.3e", x)
    }

    static func table(_ r: NumericsReport) -> String {
        var out = "\(r.mode) \(r.a) against \(r.b); tolerance \(r.tolerance) (atol \(format(r.atol)), rtol \(format(r.rtol)))\n"
        let env = r.environmentB
        if !env.isEmpty {
            out += "reference: tool \(env["numerics.tool_version"] ?? "?") \(env["numerics.build"] ?? ""), \(env["numerics.weight_dtype"] ?? "?") weights, \(env["numerics.blas_threads"] ?? "?") BLAS threads, \(env["numerics.openblas_core"] ?? "?"), \(env["numerics.cpu"] ?? "?")\n"
        }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        let width = max(18, (r.stages.map(\.stage.count).max() ?? 0) + 2)
        out += pad("stage", width) + pad("tensors", 9) + pad("max abs", 11) + pad("relative", 11) + pad("NMSE", 11) + pad("cosine", 14) + "\n"
        for s in r.stages {
            let cosine = s.cosine.isFinite ? String(format: "%.9f", s.cosine) : "nan"
            out += pad(s.stage, width) + pad(String(s.tensors), 9) + pad(format(s.maxAbsDiff), 11) + pad(format(s.relative), 11)
                + pad(format(s.nmse), 11) + pad(cosine, 14) + (s.passed ? "ok" : "FAIL") + "\n"
        }
        for name in r.onlyInA { out += "only in \(r.a): \(name)\n" }
        for name in r.onlyInB { out += "only in \(r.b): \(name)\n" }
        if let stage = r.firstFailure, let s = r.stages.first(where: { $0.stage == stage }) {
            out += "first stage out of tolerance: \(stage) (\(s.worst): relative \(format(s.relative)), max abs \(format(s.maxAbsDiff)))\n"
        }
        if let first = r.firstDifference, first != r.firstFailure { out += "first stage that differs at all: \(first)\n" }
        out += r.passed ? "PASSED\n" : "FAILED\n"
        return out
    }
}
