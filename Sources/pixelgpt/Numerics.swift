import ArgumentParser
import Checkpoints
import Foundation
import Support
import Numerics
import Model
import Render

extension NumericsStorage: ExpressibleByArgument {}

/// `pixelgpt numerics`: record per-layer activation baselines for a checkpoint on a probe, check a
/// checkpoint or build against them, diff two activation dumps (docs/numerics.md).
struct Numerics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record, check and diff activations layer by layer (numerics regression testing).",
        subcommands: [RecordNumerics.self, CheckNumerics.self, DiffNumerics.self, InvarianceNumerics.self, MakeNumericsProbe.self]
    )
}

/// The tolerance options shared by check and diff.
struct ToleranceOptions: ParsableArguments {
    @Option(help: "exact (bitwise), f32 (other threads, build or kernels), bf16 (a BF16 copy against its F32 source). Default: exact.")
    var tolerance: String?

    // Not --atol/--rtol: those are `verify`'s element-wise tolerances; these bound a tensor's maximum.
    @Option(name: .customLong("max-atol"), help: "Absolute tolerance on a tensor's max |a - b| (with --max-rtol, instead of a preset).")
    var atol: Double?

    @Option(name: .customLong("max-rtol"), help: "Relative tolerance per tensor: max |a - b| <= max-atol + max-rtol * max |reference|.")
    var rtol: Double?

    /// A bad tolerance is a one-line error with exit status 1, like every other bad input.
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    func resolve() throws -> Tolerance {
        if atol != nil || rtol != nil {
            guard tolerance == nil else { throw Invalid(description: "give --tolerance or --max-atol/--max-rtol, not both") }
            let a = atol ?? 0, r = rtol ?? 0
            guard a >= 0, r >= 0, a.isFinite, r.isFinite else { throw Invalid(description: "--max-atol and --max-rtol must be finite and >= 0") }
            return Tolerance(.maxRelative, atol: a, rtol: r)
        }
        let name = tolerance ?? "exact"
        guard let preset = Tolerance.preset(named: name) else {
            throw Invalid(description: "unknown tolerance preset \"\(name)\"; use \(Tolerance.presets.map(\.name).joined(separator: ", ")) or --max-atol/--max-rtol")
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

    @Option(help: "Kernel threads (default: the cores available, or OPENBLAS_NUM_THREADS); recorded in the metadata. Outputs do not depend on it.")
    var threads: Int?

    func run() throws {
        try reportingErrors {
            if let threads { BLASRuntime.setThreads(threads) }
            let probe = try NumericsProbes.resolve(probe, model: model)
            let started = Date()
            let metadata = try NumericsRecorder.record(modelPath: model, probe: probe, storage: storage, toolVersion: PixelGPT.toolVersion, to: out)
            log("recorded \(probe.groups.count) groups (\(probe.groups.map { $0.name.isEmpty ? "-" : $0.name }.joined(separator: ", "))) of \(probe.name), storage \(metadata["numerics.storage"] ?? "?"), \(metadata["numerics.blas_threads"] ?? "?") threads, in \(String(format: "%.2f", Date().timeIntervalSince(started))) s -> \(out)")
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

    @Option(help: "Kernel threads for the recomputation. Outputs do not depend on it.")
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

struct InvarianceNumerics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invariance",
        abstract: "Check on this machine that outputs are bitwise identical across threads, batch sizes, batch positions and padding.",
        discussion: """
        Seeded text, pixel and pair rows (pair rows on one strip width: pair-mode text positions start at the \
        strip width) run alone on one thread, then in batches of each size at two offsets (other places, \
        other neighbours), right-padded to the batch's longest row and --extra-padding beyond it, on each \
        thread count. Every per-row output (each hidden state, the last hidden state, token and pixel logits, \
        pooled logits and index, the pooled path's state) must equal the reference bit for bit; text rows also \
        check the causal prefix (a row cut to half its length against the first half of the full row). Exit \
        status 0 only when everything is identical.
        """
    )

    @Option(help: "Checkpoint directory (or weights file with an embedded config).")
    var model: String

    @Option(help: "Thread counts to compare, comma-separated.")
    var threads: String = "1,2,4"

    @Option(name: .customLong("batch-sizes"), help: "Batch sizes to compare, comma-separated.")
    var batchSizes: String = "1,3,8"

    @Option(name: .customLong("extra-padding"), help: "Padding positions beyond each batch's longest row in the padded pass.")
    var extraPadding: Int = 24

    @Flag(help: "Print the report as JSON (schema pixelgpt.invariance).")
    var json = false

    func run() throws {
        let report = try reportingErrors { () throws -> InvarianceCheck.Report in
            func counts(_ text: String, _ flag: String) throws -> [Int] {
                let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 4096 }) else {
                    throw ValidationError("\(flag) takes comma-separated whole numbers from 1 to 4096, got \"\(text)\"")
                }
                return values.map { $0! }
            }
            let threadCounts = try counts(threads, "--threads"), sizes = try counts(batchSizes, "--batch-sizes")
            guard (0...4096).contains(extraPadding) else { throw ValidationError("--extra-padding must be in 0...4096") }
            let loaded = try PixelGPTModel.load(path: model)
            let rows = InvarianceCheck.syntheticRows(for: loaded.model)
            let started = Date()
            let report = try InvarianceCheck.run(model: loaded.model, rows: rows, threads: threadCounts, batchSizes: sizes, extraPadding: extraPadding)
            log("checked \(rows.values.map(\.count).reduce(0, +)) rows in \(rows.count) modalities, threads \(threadCounts), batch sizes \(sizes), GEMM \(report.gemmInstructionSet), in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            return report
        }
        if json {
            try printJSON(report)
        } else {
            var out = "modality  output                         comparisons  identical  max abs diff  first difference\n"
            func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
            for f in report.findings {
                out += pad(f.modality, 10) + pad(f.output, 31) + pad(String(f.comparisons), 13) + pad(f.identical ? "yes" : "NO", 11)
                    + pad(f.identical ? "0" : String(format: "%.3e", Double(f.maxAbsDiff)), 14) + (f.firstDifference ?? "-") + "\n"
            }
            out += report.passed ? "IDENTICAL\n" : "DIFFERS\n"
            print(out, terminator: "")
        }
        if !report.passed { throw ExitCode.failure }
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
            out += "reference: tool \(env["numerics.tool_version"] ?? "?") \(env["numerics.build"] ?? ""), \(env["numerics.weight_dtype"] ?? "?") weights, \(env["numerics.blas_threads"] ?? "?") threads, GEMM \(env["numerics.gemm_isa"] ?? "OpenBLAS " + (env["numerics.openblas_core"] ?? "?")), \(env["numerics.cpu"] ?? "?")\n"
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
