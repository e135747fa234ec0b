import ArgumentParser
import Checkpoints
import Foundation
import SafeTensors

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a checkpoint's tensors, dtypes, shapes, bytes, parameter count, metadata and config.",
        discussion: "PATH is a .safetensors or .h5 (HDF5) file, a sharded index (model.safetensors.index.json, tf_model.h5.index.json), or a checkpoint directory. Reads headers only."
    )

    @Argument(help: "A .safetensors or .h5 file, a sharded index, or a checkpoint directory.")
    var path: String

    @Flag(help: "Print the report as JSON (schema pixelgpt.inspect, version 1).")
    var json = false

    func run() throws {
        let report = try reportingErrors { try CheckpointInspection.inspect(path) }
        if json {
            try printJSON(report)
        } else {
            print(render(report), terminator: "")
        }
        for warning in report.warnings { log("warning: \(TerminalText.escaped(warning))") }
    }

    /// Names, metadata and config strings come from the file: control characters are escaped, so that a
    /// hostile tensor name cannot move the cursor or forge lines of the report.
    func render(_ r: CheckpointInspection) -> String {
        let e = TerminalText.escaped
        var out = "\(e(r.path)) (\(r.kind == r.weightsKind ? r.kind : "\(r.kind), \(r.weightsKind)"))\n"
        if r.files.count > 1 { out += "shards: \(e(r.files.joined(separator: ", ")))\n" }
        if let metadata = r.metadata, !metadata.isEmpty {
            out += "metadata: " + metadata.sorted { $0.key < $1.key }.map { "\(e($0.key))=\(e($0.value))" }.joined(separator: ", ") + "\n"
        }
        if let c = r.config {
            out += "config: \(e(c.modelType)) \(e(c.architectures?.joined(separator: ",") ?? "-")), hidden \(c.hiddenSize), "
                + "intermediate \(c.intermediateSize), layers \(c.numHiddenLayers), heads \(c.numAttentionHeads)/\(c.numKeyValueHeads) kv, "
                + "vocab \(c.vocabSize), rms_norm_eps \(c.rmsNormEps), dtype \(e(c.torchDtype ?? "-"))\n"
        }
        if !r.companionFiles.isEmpty { out += "files: \(r.companionFiles.joined(separator: ", "))\n" }
        if let l = r.loading {
            out += "loading as \(l.architecture): \(l.found) tensors, \(l.expected) expected, \(l.missing.count) missing, "
                + "\(l.unexpected.count) unexpected, \(l.shapeMismatches.count) mis-shaped, \(l.renamed.count) renamed, "
                + "\(l.transposed.count) transposed, \(l.dtypeConverted.count) dtype-converted, \(l.copied.count) copied\n"
            for name in l.missing { out += "  missing: \(e(name))\n" }
            for m in l.shapeMismatches { out += "  mis-shaped: \(e(m.name)) is \(m.actual), config says \(m.expected)\n" }
            for name in l.unexpected { out += "  unexpected: \(e(name))\n" }
        }
        let names = r.tensors.map { e($0.name) }
        let nameWidth = min(72, names.map(\.count).max() ?? 4)
        for (t, name) in zip(r.tensors, names) {
            let shape = "[" + t.shape.map(String.init).joined(separator: ", ") + "]"
            out += name.padding(toLength: max(nameWidth, name.count), withPad: " ", startingAt: 0)
                + "  " + t.dtype.padding(toLength: 11, withPad: " ", startingAt: 0)
                + shape.padding(toLength: 22, withPad: " ", startingAt: 0) + "  " + String(t.bytes).padding(toLength: 12, withPad: " ", startingAt: 0)
                + (t.storage == "safetensors" ? "" : "  \(t.storage)") + "\n"
        }
        out += "total: \(r.totals.tensors) tensors, \(r.totals.parameters) parameters, \(r.totals.bytes) bytes"
        out += " (" + r.totals.byDtype.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.parameters)" }.joined(separator: ", ") + ")\n"
        return out
    }
}
