import Foundation
import SafeTensors

/// A sharded HDF5 checkpoint: `model.h5.index.json` (the same form as the safetensors index) naming
/// `model-00001-of-0000N.h5` shards. Each shard is opened (metadata only) and checked against the index.
public final class ShardedHDF5Weights: WeightSource {
    public static let defaultIndexName = "model.h5.index.json"

    public let path: String
    public let index: ShardIndex
    public let shards: [String: HDF5Weights]
    public let weights: [WeightInfo]
    /// Tensors a shard holds that the index does not read from it (ShardIndex.check).
    public let warnings: [String]

    public init(indexPath: String) throws {
        path = indexPath
        let index = try ShardIndex.read(path: indexPath)
        self.index = index
        let directory = (indexPath as NSString).deletingLastPathComponent
        var shards: [String: HDF5Weights] = [:]
        for file in index.shardFiles {
            let shardPath = directory.isEmpty ? file : directory + "/" + file
            guard FileManager.default.fileExists(atPath: shardPath) else {
                let tensor = index.weightMap.filter { $0.value == file }.keys.min() ?? "?"
                throw SafeTensorsError(path: indexPath, .missingShard(shard: file, tensor: tensor))
            }
            shards[file] = try HDF5Weights(path: shardPath)
        }
        warnings = try index.check(contents: shards.mapValues { $0.weights.map(\.name) }, indexPath: indexPath)
        let weights = index.shardFiles.flatMap { file in shards[file]!.weights.filter { index.weightMap[$0.name] == file } }
        self.shards = shards
        self.weights = weights
    }

    public var metadata: [String: String]? { index.shardFiles.first.flatMap { shards[$0]?.metadata } }

    public func load(_ name: String) throws -> LoadedWeight {
        guard let file = index.weightMap[name], let shard = shards[file] else {
            throw SafeTensorsError(path: path, .tensorNotFound(name))
        }
        return try shard.load(name)
    }
}
