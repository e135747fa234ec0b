import Foundation
import SafeTensors

/// What a user pointed at: a single .safetensors file, a sharded index, or a checkpoint directory with
/// its config and tokenizer files. Resolving reads directory listings and headers, never tensor bytes.
public struct CheckpointLocation: Sendable {
    public enum Weights: Sendable, Equatable {
        case safetensors(String)
        case shardedSafeTensors(index: String)
    }

    /// The path as given.
    public let path: String
    /// The directory when `path` is one, nil for a bare weights file.
    public let directory: String?
    public let weights: Weights
    /// config.json when present.
    public let configPath: String?
    /// Companion files present beside the weights (tokenizer, generation config), by file name.
    public let companionFiles: [String]

    /// Files a released checkpoint directory may carry besides its weights (SPEC 10).
    public static let companionFileNames = [
        "config.json", "generation_config.json", "tokenizer.model", "tokenizer.json",
        "tokenizer_config.json", "special_tokens_map.json",
    ]

    public static func resolve(_ path: String) throws(CheckpointError) -> CheckpointLocation {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError(path: path, "no such file or directory")
        }
        guard isDirectory.boolValue else {
            if path.hasSuffix(".index.json") {
                return CheckpointLocation(path: path, directory: nil, weights: .shardedSafeTensors(index: path), configPath: nil, companionFiles: [])
            }
            return CheckpointLocation(path: path, directory: nil, weights: .safetensors(path), configPath: nil, companionFiles: [])
        }
        let prefix = path.hasSuffix("/") ? path : path + "/"
        let fm = FileManager.default
        let weights: Weights
        if fm.fileExists(atPath: prefix + "model.safetensors") {
            weights = .safetensors(prefix + "model.safetensors")
        } else if fm.fileExists(atPath: prefix + ShardIndex.defaultFileName) {
            weights = .shardedSafeTensors(index: prefix + ShardIndex.defaultFileName)
        } else {
            throw CheckpointError(path: path, "no weights found: expected model.safetensors or \(ShardIndex.defaultFileName)")
        }
        let companions = companionFileNames.filter { fm.fileExists(atPath: prefix + $0) }
        return CheckpointLocation(
            path: path, directory: path, weights: weights,
            configPath: companions.contains("config.json") ? prefix + "config.json" : nil,
            companionFiles: companions)
    }

    /// Opens the weights: headers are read and validated, tensor bytes stay on disk until used.
    public func openTensors() throws(SafeTensorsError) -> any TensorSource {
        switch weights {
        case .safetensors(let file): try SafeTensorsFile(path: file)
        case .shardedSafeTensors(let index): try ShardedSafeTensors(indexPath: index)
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
