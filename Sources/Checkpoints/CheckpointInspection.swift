import Foundation
import Model
import SafeTensors

/// What `pixelgpt inspect` reports: every tensor, totals by dtype, file metadata and a config summary.
/// Its JSON form (schema "pixelgpt.inspect", version 1) is documented in the README; fields are only
/// ever added, never renamed or removed, within a version.
public struct CheckpointInspection: Codable, Sendable {
    public static let schema = "pixelgpt.inspect"
    public static let version = 1

    public struct Tensor: Codable, Sendable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let bytes: Int
        public let parameters: Int
        /// The file holding it (a shard file name for sharded checkpoints).
        public let file: String
        /// "safetensors", or the HDF5 storage ("contiguous", "chunked+shuffle+gzip").
        public let storage: String
        /// Byte range in a safetensors file's data section, as its header gives it (absent for HDF5).
        public let dataOffsets: [Int]?

        enum CodingKeys: String, CodingKey {
            case name, dtype, shape, bytes, parameters, file, storage
            case dataOffsets = "data_offsets"
        }
    }

    public struct DTypeTotal: Codable, Sendable {
        public let tensors: Int
        public let parameters: Int
        public let bytes: Int
    }

    public struct Totals: Codable, Sendable {
        public let tensors: Int
        public let parameters: Int
        public let bytes: Int
        public let byDtype: [String: DTypeTotal]
        enum CodingKeys: String, CodingKey {
            case tensors, parameters, bytes
            case byDtype = "by_dtype"
        }
    }

    public struct ConfigSummary: Codable, Sendable {
        public let modelType: String
        public let architectures: [String]?
        public let hiddenSize: Int
        public let intermediateSize: Int
        public let numHiddenLayers: Int
        public let numAttentionHeads: Int
        public let numKeyValueHeads: Int
        public let vocabSize: Int
        public let rmsNormEps: Double
        public let torchDtype: String?
        /// Parameters a checkpoint of this config's architecture has (SPEC 2.4).
        public let expectedParameters: Int
        enum CodingKeys: String, CodingKey {
            case modelType = "model_type", architectures, hiddenSize = "hidden_size"
            case intermediateSize = "intermediate_size", numHiddenLayers = "num_hidden_layers"
            case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads"
            case vocabSize = "vocab_size", rmsNormEps = "rms_norm_eps", torchDtype = "torch_dtype"
            case expectedParameters = "expected_parameters"
        }
    }

    public let schema: String
    public let version: Int
    public let path: String
    /// "directory", or the weights' kind: "safetensors", "sharded-safetensors", "hdf5", "sharded-hdf5".
    public let kind: String
    /// The weights' kind inside a directory (same values as `kind`).
    public let weightsKind: String
    /// Weight files read (shard names for sharded checkpoints).
    public let files: [String]
    public let metadata: [String: String]?
    public let tensors: [Tensor]
    public let totals: Totals
    public let config: ConfigSummary?
    /// The tensors checked against config.json (absent without a config).
    public let loading: LoadingReport?
    /// Companion files present in a checkpoint directory.
    public let companionFiles: [String]
    public let warnings: [String]

    enum CodingKeys: String, CodingKey {
        case schema, version, path, kind, files, metadata, tensors, totals, config, loading, warnings
        case weightsKind = "weights_kind"
        case companionFiles = "companion_files"
    }

    public static func inspect(_ path: String) throws -> CheckpointInspection {
        let location = try CheckpointLocation.resolve(path)
        let source = try location.openWeights()
        var warnings: [String] = []
        let files: [String]
        var offsets: [String: [Int]] = [:]
        switch source {
        case let safetensors as SafeTensorsWeights:
            if let sharded = safetensors.tensors as? ShardedSafeTensors {
                warnings += sharded.warnings
                files = sharded.index.shardFiles
            } else {
                files = [safetensors.path]
            }
            for info in safetensors.tensors.tensorInfos { offsets[info.name] = [info.dataOffsets.lowerBound, info.dataOffsets.upperBound] }
        case let sharded as ShardedHDF5Weights:
            warnings += sharded.warnings
            files = sharded.index.shardFiles
        default:
            files = [source.path]
        }
        let tensors = source.weights.map { info in
            Tensor(name: info.name, dtype: info.dtype.rawValue, shape: info.shape, bytes: info.byteCount,
                   parameters: info.elementCount, file: info.file, storage: info.storage, dataOffsets: offsets[info.name])
        }
        var byDtype: [String: DTypeTotal] = [:]
        for t in tensors {
            let old = byDtype[t.dtype] ?? DTypeTotal(tensors: 0, parameters: 0, bytes: 0)
            byDtype[t.dtype] = DTypeTotal(tensors: old.tensors + 1, parameters: old.parameters + t.parameters, bytes: old.bytes + t.bytes)
        }
        var summary: ConfigSummary?
        var loading: LoadingReport?
        if let (_, config) = try location.loadConfig(weights: source) {
            let report = LoadingReport.check(source, config: config)
            let expected = config.stateDictParameters.reduce(0) { $0 + $1.elementCount }
            summary = ConfigSummary(
                modelType: config.modelType, architectures: config.architectures, hiddenSize: config.hiddenSize,
                intermediateSize: config.intermediateSize, numHiddenLayers: config.numHiddenLayers,
                numAttentionHeads: config.numAttentionHeads, numKeyValueHeads: config.keyValueHeads,
                vocabSize: config.vocabSize, rmsNormEps: config.rmsNormEps, torchDtype: config.torchDtype,
                expectedParameters: expected)
            if let failure = report.failure(path: location.configPath ?? location.path) { warnings.append(failure.reason) }
            if !report.unexpected.isEmpty { warnings.append("\(report.unexpected.count) tensors the config does not expect: \(report.unexpected.prefix(5).joined(separator: ", "))") }
            loading = report
        }
        return CheckpointInspection(
            schema: schema, version: version, path: path,
            kind: location.directory != nil ? "directory" : location.weights.kind, weightsKind: location.weights.kind,
            files: files, metadata: source.metadata, tensors: tensors,
            totals: Totals(tensors: tensors.count, parameters: source.parameterCount, bytes: source.byteCount, byDtype: byDtype),
            config: summary, loading: loading, companionFiles: location.companionFiles, warnings: warnings)
    }

    /// A one-line reason from a JSONDecoder or validation error, naming the key.
    static func describe(decodingError error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "config key \"\(key)\": \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return "not valid JSON: \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)"
        case DecodingError.keyNotFound(let key, _):
            return "config key \"\(key.stringValue)\" missing"
        default:
            return "\(error)"
        }
    }
}
