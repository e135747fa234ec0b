import Foundation
import Support
import SafeTensors

/// What the outputs of an evaluation run depend on, kept in OUTPUT/run.json from its start: the weights'
/// and tokenizer's SHA-256, the renderer's identity, every option that changes a logit or a metric, and per
/// task the task's settings and its data files' SHA-256. `--resume` continues a run only when all of these
/// are the same; otherwise a samples file would mix rows of two models (or two tokenizers, or two data
/// files) under a results.json naming only the last (issue "Hostile inputs", item 10).
struct RunProvenance: VersionedRecord, Equatable {
    static let schema = "pixelgpt.eval-run"
    static let currentVersion = 1
    static let fileName = "run.json"

    var schema: String = Self.schema
    var version: Int = Self.currentVersion
    /// Run-wide settings by name (the command line's option names where there is one).
    var settings: [String: String]
    /// Per evaluated task: its settings and data files, recorded before its samples file is opened.
    var tasks: [String: [String: String]] = [:]

    init(settings: [String: String]) { self.settings = settings }

    static func path(in outputDirectory: String) -> String { (outputDirectory as NSString).appendingPathComponent(fileName) }

    /// The record in `outputDirectory`, or nil when there is none.
    static func load(from outputDirectory: String) throws -> RunProvenance? {
        let path = path(in: outputDirectory)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try read(path, hint: "run without --resume or use another --output-dir")
    }

    func write(to outputDirectory: String) throws { try write(toFile: Self.path(in: outputDirectory)) }

    /// Throws naming the first setting (in name order) that differs between the run being resumed (`recorded`)
    /// and this one; `scope` is "" for run-wide settings or "TASK " for a task's.
    static func requireSame(recorded: [String: String], current: [String: String], scope: String, outputDirectory: String) throws {
        for key in Set(recorded.keys).union(current.keys).sorted() where recorded[key] != current[key] {
            throw TaskError(task: outputDirectory, key: "--resume",
                            reason: "\(scope)\(key) differs from the run being resumed (was \(shown(recorded[key])), now \(shown(current[key]))); "
                                + "run without --resume or use another --output-dir")
        }
    }

    /// One line, short: long hashes are cut to their first 12 hex digits.
    static func shown(_ value: String?) -> String {
        guard let value else { return "absent" }
        let cut = value.split(separator: ",").map { part -> String in
            let pieces = part.split(separator: ":", maxSplits: 1).map(String.init)
            func short(_ s: String) -> String { s.count == 64 && s.allSatisfy(\.isHexDigit) ? String(s.prefix(12)) + "…" : s }
            return pieces.count == 2 ? pieces[0] + ":" + short(pieces[1]) : short(part.description)
        }.joined(separator: ",")
        return "\"" + String(cut.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) }) + "\""
    }
}
