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
        /// Byte range in the file's data section, as the header gives it.
        public let dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case name, dtype, shape, bytes, parameters, file
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
        /// Parameters an ErniePixelForCausalLM of this config has (SPEC 2.4).
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
    /// "safetensors", "sharded-safetensors", or "directory".
    public let kind: String
    /// Weight files read (absolute or as given).
    public let files: [String]
    public let metadata: [String: String]?
    public let tensors: [Tensor]
    public let totals: Totals
    public let config: ConfigSummary?
    /// Companion files present in a checkpoint directory.
    public let companionFiles: [String]
    public let warnings: [String]

    enum CodingKeys: String, CodingKey {
        case schema, version, path, kind, files, metadata, tensors, totals, config, warnings
        case companionFiles = "companion_files"
    }

    public static func inspect(_ path: String) throws -> CheckpointInspection {
        let location = try CheckpointLocation.resolve(path)
        let source = try location.openTensors()
        var warnings: [String] = []
        var files: [String] = []
        var fileOf: (TensorInfo) -> String
        switch source {
        case let sharded as ShardedSafeTensors:
            warnings += sharded.warnings
            files = sharded.index.shardFiles
            fileOf = { sharded.index.weightMap[$0.name] ?? "" }
        default:
            let name = (source.path as NSString).lastPathComponent
            files = [source.path]
            fileOf = { _ in name }
        }
        let tensors = source.tensorInfos.map { info in
            Tensor(name: info.name, dtype: info.dtype.rawValue, shape: info.shape, bytes: info.byteCount,
                   parameters: info.elementCount, file: fileOf(info),
                   dataOffsets: [info.dataOffsets.lowerBound, info.dataOffsets.upperBound])
        }
        var byDtype: [String: DTypeTotal] = [:]
        for t in tensors {
            let old = byDtype[t.dtype] ?? DTypeTotal(tensors: 0, parameters: 0, bytes: 0)
            byDtype[t.dtype] = DTypeTotal(tensors: old.tensors + 1, parameters: old.parameters + t.parameters, bytes: old.bytes + t.bytes)
        }
        var summary: ConfigSummary?
        if let configPath = location.configPath {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: configPath)) } catch {
                throw CheckpointError(path: configPath, "cannot read: \(error.localizedDescription)")
            }
            let config: PixelGPTConfig
            do { config = try PixelGPTConfig.decode(json: data) } catch {
                throw CheckpointError(path: configPath, describe(decodingError: error))
            }
            let expected = config.causalLMParameters.reduce(0) { $0 + $1.elementCount }
            summary = ConfigSummary(
                modelType: config.modelType, architectures: config.architectures, hiddenSize: config.hiddenSize,
                intermediateSize: config.intermediateSize, numHiddenLayers: config.numHiddenLayers,
                numAttentionHeads: config.numAttentionHeads, numKeyValueHeads: config.keyValueHeads,
                vocabSize: config.vocabSize, rmsNormEps: config.rmsNormEps, torchDtype: config.torchDtype,
                expectedParameters: expected)
            let actual = source.parameterCount
            if actual != expected {
                warnings.append("weights hold \(actual) parameters; an ErniePixelForCausalLM with this config has \(expected)")
            }
        }
        return CheckpointInspection(
            schema: schema, version: version, path: path,
            kind: location.directory != nil ? "directory" : (source is ShardedSafeTensors ? "sharded-safetensors" : "safetensors"),
            files: files, metadata: source.metadata, tensors: tensors,
            totals: Totals(tensors: tensors.count, parameters: source.parameterCount, bytes: source.totalTensorBytes, byDtype: byDtype),
            config: summary, companionFiles: location.companionFiles, warnings: warnings)
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
