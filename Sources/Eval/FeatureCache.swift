import Checkpoints
import Foundation
import Support
import SafeTensors

/// Pooled features on disk, so that a second run with another head costs no forward passes. One
/// safetensors file per (checkpoint, task file version, split, modality, renderer, tokenizer, pooling,
/// sequence length, data file): `features` F32 [N, H] and `row_index` I64 [N]; the key's parts are stored in the
/// metadata and checked on load, and the file name is the SHA-256 of the key.
public struct FeatureCache: Sendable {
    public struct Key: Codable, Sendable, Equatable {
        /// SHA-256 of the checkpoint's weight files.
        public var checkpoint: String
        public var task: String
        public var taskVersion: Int
        public var split: String
        public var modality: String
        public var sequenceLength: Int
        /// The renderer's identity (libraries, fonts, settings; pixel and pair), tokenizer hash (text and pair).
        public var renderer: String?
        public var tokenizer: String?
        /// "upstream" or "last-real-token", with the batch size when upstream pooling depends on it.
        public var pooling: String
        public var limit: Int?
        /// "NAME:SHA-256" of the data file whose rows were featurized: another file under the same task and
        /// split (another data directory) is another key.
        public var data: String?

        public init(checkpoint: String, task: String, taskVersion: Int, split: String, modality: String, sequenceLength: Int,
                    renderer: String?, tokenizer: String?, pooling: String, limit: Int?, data: String? = nil) {
            self.checkpoint = checkpoint
            self.task = task
            self.taskVersion = taskVersion
            self.split = split
            self.modality = modality
            self.sequenceLength = sequenceLength
            self.renderer = renderer
            self.tokenizer = tokenizer
            self.pooling = pooling
            self.limit = limit
            self.data = data
        }

        /// Canonical JSON (sorted keys), the stored form and the input of the file name.
        var canonical: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
        }

        var fileName: String {
            var hasher = SHA256()
            hasher.update(Array(canonical.utf8))
            return SHA256.hex(hasher.finalize()) + ".safetensors"
        }
    }

    public struct Entry: Sendable {
        public let rowIndices: [Int]
        /// Row-major [rowIndices.count, featureSize].
        public let features: [Float]
        public let featureSize: Int
    }

    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public func path(for key: Key) -> String { (directory as NSString).appendingPathComponent(key.fileName) }

    /// The cached features for `key`, or nil when there are none (or the file is for another key).
    public func load(_ key: Key) throws -> Entry? {
        let path = path(for: key)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let file = try SafeTensorsFile(path: path)
        guard file.metadata?["pixelgpt.feature_key"] == key.canonical else { return nil }
        let features = try file.tensor(named: "features")
        let indices = try file.tensor(named: "row_index")
        guard features.shape.count == 2, indices.shape == [features.shape[0]], indices.dtype == .i64 else {
            throw CheckpointError(path: path, "not a feature cache file (features [N, H] and row_index [N] expected)")
        }
        let rows = try indices.int64Values().map { Int($0) }
        return Entry(rowIndices: rows, features: try features.float32Values(), featureSize: features.shape[1])
    }

    /// Writes `entry` for `key` (atomically: a reader never sees a partial cache file).
    public func store(_ entry: Entry, for key: Key) throws {
        let n = entry.rowIndices.count
        precondition(entry.features.count == n * entry.featureSize)
        let indexBytes = entry.rowIndices.flatMap { withUnsafeBytes(of: Int64($0).littleEndian, Array.init) }
        try SafeTensorsWriter.write([
            TensorRecord(name: "features", dtype: .f32, shape: [n, entry.featureSize], payload: .float32(entry.features)),
            TensorRecord(name: "row_index", dtype: .i64, shape: [n], payload: .bytes(indexBytes)),
        ], metadata: ["pixelgpt.feature_key": key.canonical], to: path(for: key))
    }
}
