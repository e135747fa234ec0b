import Checkpoints
import Foundation
import Model
import Render
import SafeTensors
import Support
import Text

/// What a run records about itself before it computes anything (run.json, `RunProvenance`) and the hashes
/// that identify its checkpoint, tokenizer, renderer and data, so that `--resume` and the feature cache
/// refuse anything made otherwise (docs/architecture.md: Eval).
extension EvaluationRun {
    /// Resuming: the recorded run.json, refused when any setting differs (or when samples files exist with no
    /// record of what made them). Otherwise a fresh record. Written before any samples file is opened.
    static func startProvenance(_ options: Options, settings: [String: String]) throws -> RunProvenance {
        let record: RunProvenance
        if options.resume, let recorded = try RunProvenance.load(from: options.outputDirectory) {
            try RunProvenance.requireSame(recorded: recorded.settings, current: settings, scope: "", outputDirectory: options.outputDirectory)
            record = recorded
        } else {
            if options.resume, let stray = options.tasks.map({ samplesPath($0, in: options.outputDirectory) }).first(where: FileManager.default.fileExists) {
                throw TaskError(task: stray, key: "--resume", reason: "no \(RunProvenance.fileName) records what made it; run without --resume or use another --output-dir")
            }
            record = RunProvenance(settings: settings)
        }
        try record.write(to: options.outputDirectory)
        return record
    }

    static func samplesPath(_ task: TaskDefinition, in outputDirectory: String) -> String {
        (outputDirectory as NSString).appendingPathComponent("samples_\(task.task).jsonl")
    }

    /// Sorted-key JSON of `value`, "none" for nil.
    static func canonicalJSON<T: Encodable>(_ value: T?) -> String {
        guard let value else { return "none" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "none"
    }

    /// What a strip depends on besides its text: library versions, fonts.conf and font files (SHA-256), the
    /// font description and the renderer's settings, hashed into one value.
    static func identity(of renderer: TextRenderer) throws -> String {
        let e = try renderer.environment()
        let c = renderer.config
        let parts = [e.pango, e.cairo, e.harfbuzz, e.freetype, e.fontconfig, e.fontsConfSHA256, e.fontDescription]
            + e.fonts.map { "\($0.family)=\($0.sha256)" }
            + ["pixels_per_patch \(c.pixelsPerPatch)", "rgb \(c.rgb)", "font_size \(c.fontSize)", "dpi \(c.dpi)"]
        var hasher = SHA256()
        hasher.update(Array(parts.joined(separator: "\n").utf8))
        return SHA256.hex(hasher.finalize())
    }

    /// "NAME:SHA-256" of a data file, hashed once per run; the file counts as read by the task being evaluated.
    func dataHash(_ path: String) throws -> String {
        let digest: String
        if let known = dataDigests[path] {
            digest = known
        } else {
            try RegularFile.require(path)
            digest = try SHA256.hexDigest(ofFile: path)
            dataDigests[path] = digest
        }
        taskDataFiles.insert(path)
        return "\((path as NSString).lastPathComponent):\(digest)"
    }

    /// SHA-256 of `paths` (already hashed by `dataHash`) by path relative to the data directory, for
    /// results.json; a path outside it stays absolute.
    func dataDigestTable(_ paths: some Sequence<String>) -> [String: String] {
        // The prefix `dataFile` puts before a relative path, spelled by the same call.
        let prefix = String((options.dataDirectory as NSString).appendingPathComponent("x").dropLast())
        return Dictionary(paths.compactMap { path in
            dataDigests[path].map { (path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path, $0) }
        }, uniquingKeysWith: { first, _ in first })
    }

    /// What a task's samples depend on besides the run-wide settings.
    func taskSettings(_ task: TaskDefinition, evaluated: EvaluatedData) throws -> [String: String] {
        let format = task.format(for: evaluated.split)
        var settings = [
            "version": "\(task.metadata.version)", "sequence-length": "\(task.pixelgpt.sequenceLength[options.modality] ?? 0)",
            "format": "header \(format.header), text_a \(format.textA), text_b \(format.textB.map { "\($0)" } ?? "none"), label \(format.label.map { "\($0)" } ?? "none")",
            "labels": task.labelList?.joined(separator: ",") ?? task.outputType.rawValue, "task-head-options": Self.canonicalJSON(task.pixelgpt.head),
            "split": evaluated.split.rawValue, "data": try dataHash(evaluated.file),
        ]
        if options.head != .checkpoint, evaluated.split != .train {
            settings["train-data"] = try dataFile(task, .train).map { try dataHash($0) } ?? "none"
        }
        return settings
    }

    /// Records `task` in run.json before its samples file is opened; resuming, refuses a task recorded with other
    /// settings or a samples file that no record covers.
    func recordTask(_ task: TaskDefinition, evaluated: EvaluatedData, samplesPath: String) throws {
        let settings = try taskSettings(task, evaluated: evaluated)
        if options.resume {
            if let recorded = provenance.tasks[task.task] {
                try RunProvenance.requireSame(recorded: recorded, current: settings, scope: "\(task.task) ", outputDirectory: options.outputDirectory)
            } else if FileManager.default.fileExists(atPath: samplesPath) {
                throw TaskError(task: samplesPath, key: "--resume", reason: "\(RunProvenance.fileName) has no record of this task; run without --resume or use another --output-dir")
            }
        }
        provenance.tasks[task.task] = settings
        try provenance.write(to: options.outputDirectory)
    }

    static func weightHashes(_ location: CheckpointLocation) throws -> [String] {
        let files: [String]
        switch location.weights {
        case .safetensors(let p), .hdf5(let p): files = [p]
        case .shardedSafeTensors(let index), .shardedHDF5(let index):
            let directory = (index as NSString).deletingLastPathComponent
            files = try ShardIndex.read(path: index).shardFiles.map { directory + "/" + $0 }
        }
        return try files.map { "\(($0 as NSString).lastPathComponent):\(try SHA256.hexDigest(ofFile: $0))" }
    }

    /// The checkpoint's own tokenizer, else the Llama-2 tokenizer of the data directory (the same file the
    /// released checkpoints ship; SPEC 6).
    static func defaultTokenizer(_ location: CheckpointLocation, dataDirectory: String) throws -> String {
        if let directory = location.directory, SentencePieceTokenizer.fileNames.contains(where: { FileManager.default.fileExists(atPath: directory + "/" + $0) }) {
            return directory
        }
        let shared = (dataDirectory as NSString).appendingPathComponent("tokenizer/llama2/tokenizer.model")
        if FileManager.default.fileExists(atPath: shared) { return shared }
        if let data = ProcessInfo.processInfo.environment["PIXELGPT_DATA"] {
            let path = (data as NSString).appendingPathComponent("tokenizer/llama2/tokenizer.model")
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw TaskError(task: location.path, key: "tokenizer", reason: "the checkpoint has no tokenizer.model/tokenizer.json; give --tokenizer")
    }
}
