import Foundation
import Support
import Model
import SafeTensors

/// What a user pointed at: a weights file (.safetensors or .h5), a sharded index, or a checkpoint
/// directory with its config and tokenizer files. Resolving reads directory listings only; opening reads
/// headers and HDF5 metadata, never tensor bytes.
public struct CheckpointLocation: Sendable {
    public enum Weights: Sendable, Equatable {
        case safetensors(String)
        case shardedSafeTensors(index: String)
        case hdf5(String)
        case shardedHDF5(index: String)

        public var path: String {
            switch self {
            case .safetensors(let p), .hdf5(let p): p
            case .shardedSafeTensors(let p), .shardedHDF5(let p): p
            }
        }

        public var kind: String {
            switch self {
            case .safetensors: "safetensors"
            case .shardedSafeTensors: "sharded-safetensors"
            case .hdf5: "hdf5"
            case .shardedHDF5: "sharded-hdf5"
            }
        }
    }

    /// The path as given.
    public let path: String
    /// The directory when `path` is one, nil for a bare weights file.
    public let directory: String?
    public let weights: Weights
    /// config.json when present.
    public let configPath: String?
    /// Companion files present beside the weights (config, tokenizer, generation config), by file name.
    public let companionFiles: [String]

    /// Files a released checkpoint directory may carry besides its weights (SPEC 10).
    public static let companionFileNames = [
        "config.json", "generation_config.json", "tokenizer.model", "tokenizer.json",
        "tokenizer_config.json", "special_tokens_map.json",
    ]

    /// Weight files looked for in a directory, in order of preference.
    static let weightFiles: [(String, @Sendable (String) -> Weights)] = [
        ("model.safetensors", { .safetensors($0) }),
        (ShardIndex.defaultFileName, { .shardedSafeTensors(index: $0) }),
        ("model.h5", { .hdf5($0) }),
        (ShardedHDF5Weights.defaultIndexName, { .shardedHDF5(index: $0) }),
        ("tf_model.h5", { .hdf5($0) }),
    ]

    public static func resolve(_ path: String) throws(CheckpointError) -> CheckpointLocation {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            // A repo id such as baidu/PixelGPT, downloaded before by huggingface_hub.
            if let snapshot = HubCache.snapshot(forRepoId: path) { return try resolve(snapshot) }
            throw CheckpointError(path: path, "no such file or directory (nor a repo id in the local Hugging Face cache)")
        }
        guard isDirectory.boolValue else {
            let weights: Weights
            if path.hasSuffix(".h5.index.json") {
                weights = .shardedHDF5(index: path)
            } else if path.hasSuffix(".index.json") {
                weights = .shardedSafeTensors(index: path)
            } else if path.hasSuffix(".h5") || path.hasSuffix(".hdf5") {
                weights = .hdf5(path)
            } else {
                weights = .safetensors(path)
            }
            return CheckpointLocation(path: path, directory: nil, weights: weights, configPath: nil, companionFiles: [])
        }
        let prefix = path.hasSuffix("/") ? path : path + "/"
        let fm = FileManager.default
        let present = weightFiles.filter { fm.fileExists(atPath: prefix + $0.0) }
        guard let (file, make) = present.first else {
            throw CheckpointError(path: path, "no weights found: expected one of " + weightFiles.map(\.0).joined(separator: ", "))
        }
        // Two of this project's weight forms side by side may hold different models; taking the first silently
        // would evaluate one while the user meant the other. (tf_model.h5 beside them is Hugging Face's TF copy.)
        let ours = present.map(\.0).filter { $0 != "tf_model.h5" }
        if ours.count > 1 {
            throw CheckpointError(path: path, "holds both \(ours[0]) and \(ours[1]); move one of them out of the directory")
        }
        let companions = companionFileNames.filter { fm.fileExists(atPath: prefix + $0) }
        return CheckpointLocation(
            path: path, directory: path, weights: make(prefix + file),
            configPath: companions.contains("config.json") ? prefix + "config.json" : nil,
            companionFiles: companions)
    }

    /// Every file this checkpoint is read from: the weights (index and shards) and the companion files.
    public func files() throws -> [String] {
        var files = [weights.path]
        switch weights {
        case .shardedSafeTensors(let index), .shardedHDF5(let index):
            let directory = (index as NSString).deletingLastPathComponent
            files += try ShardIndex.read(path: index).shardFiles.map { directory + "/" + $0 }
        case .safetensors, .hdf5:
            break
        }
        if let directory { files += companionFiles.map { (directory as NSString).appendingPathComponent($0) } }
        return files
    }

    /// Opens the weights: headers and HDF5 metadata are read and validated, tensor bytes stay on disk.
    public func openWeights() throws -> any WeightSource {
        switch weights {
        case .safetensors(let file): return SafeTensorsWeights(try SafeTensorsFile(path: file))
        case .shardedSafeTensors(let index): return SafeTensorsWeights(try ShardedSafeTensors(indexPath: index))
        case .hdf5(let file):
            // The safetensors readers check this themselves; HDF5's open of a FIFO would block forever.
            try RegularFile.require(file)
            return try HDF5Weights(path: file)
        case .shardedHDF5(let index):
            let directory = (index as NSString).deletingLastPathComponent
            // A missing shard is left to ShardedHDF5Weights, which names the tensor it holds.
            for shard in try ShardIndex.read(path: index).shardFiles {
                let path = directory.isEmpty ? shard : directory + "/" + shard
                if FileManager.default.fileExists(atPath: path) { try RegularFile.require(path) }
            }
            return try ShardedHDF5Weights(indexPath: index)
        }
    }

    /// config.json as stored (text) and decoded, nil when the checkpoint has none. A bare HDF5 file of this
    /// project's layout carries its config in the `config_json` attribute.
    public func loadConfig(weights source: (any WeightSource)? = nil) throws -> (text: String, config: PixelGPTConfig)? {
        let text: String
        let origin: String
        if let configPath {
            try RegularFile.require(configPath)   // reading a FIFO would block forever
            guard let data = FileManager.default.contents(atPath: configPath) else { throw CheckpointError(path: configPath, "cannot read") }
            guard let decoded = String(data: data, encoding: .utf8) else { throw CheckpointError(path: configPath, "not valid UTF-8") }
            text = decoded
            origin = configPath
        } else if let embedded = (source as? HDF5Weights)?.configJSON {
            text = embedded
            origin = weights.path + " (attribute config_json)"
        } else {
            return nil
        }
        // JSONDecoder keeps the first of two equal keys and Python's json the last, so a repeated key
        // would make this tool and transformers read different models: refuse it.
        if let key = JSONDuplicateKeys.first(in: text) {
            throw CheckpointError(path: origin, "config key \"\(key)\" appears more than once; keep one")
        }
        do {
            return (text, try PixelGPTConfig.decode(json: Data(text.utf8)))
        } catch {
            throw CheckpointError(path: origin, CheckpointInspection.describe(decodingError: error))
        }
    }
}

/// A checkpoint-level failure: the file or directory it concerns and what is wrong.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public init(path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): \(reason)" }
}
