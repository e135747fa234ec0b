import Foundation
import Support

/// A small JSON record this project writes beside its outputs (run.json, shard.json), identified by a
/// schema name and version: one reader that refuses anything else in one line, one atomic writer.
protocol VersionedRecord: Codable {
    static var schema: String { get }
    static var currentVersion: Int { get }
    var schema: String { get }
    var version: Int { get }
}

extension VersionedRecord {
    /// The record at `path`; `hint` (what the user can do instead) ends the refusal of another record.
    static func read(_ path: String, hint: String = "") throws -> Self {
        try RegularFile.require(path)
        let suffix = hint.isEmpty ? "" : "; " + hint
        guard let data = FileManager.default.contents(atPath: path),
              let record = try? JSONDecoder().decode(Self.self, from: data), record.schema == schema else {
            throw TaskError(task: path, key: "file", reason: "not a \(schema) record" + suffix)
        }
        guard record.version == currentVersion else {
            throw TaskError(task: path, key: "version", reason: "\(record.version) is not \(currentVersion)" + suffix)
        }
        return record
    }

    /// Pretty, sorted JSON and a final newline, written atomically.
    func write(toFile path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(Array(try encoder.encode(self)) + [0x0A], to: path)
    }
}
