import Foundation
import Model
import SafeTensors
import Support

/// `pixelgpt convert`: any readable layout to safetensors or HDF5, optionally changing float precision
/// and sharding. Streams tensor by tensor (one source tensor in memory at a time), carries config.json
/// (torch_dtype updated) and the tokenizer files, records provenance in the file metadata, and writes
/// aside and renames, so an interrupted conversion leaves no destination at all.
public enum CheckpointConverter {
    public enum Format: String, CaseIterable, Sendable {
        case safetensors, hdf5

        var fileExtension: String { self == .safetensors ? "safetensors" : "h5" }
    }

    public struct Options: Sendable {
        public var format: Format?
        /// Target dtype for floating-point tensors (F32, F16 or BF16); nil keeps each tensor's dtype.
        public var dtype: DType?
        /// Shard when the tensors exceed this many bytes (directory destinations).
        public var maxShardBytes: Int?
        /// gzip level for HDF5 output (chunked, shuffled), nil for contiguous storage.
        public var gzipLevel: Int?
        /// Written into the provenance metadata.
        public var toolVersion: String

        public init(format: Format? = nil, dtype: DType? = nil, maxShardBytes: Int? = nil, gzipLevel: Int? = nil, toolVersion: String) {
            self.format = format
            self.dtype = dtype
            self.maxShardBytes = maxShardBytes
            self.gzipLevel = gzipLevel
            self.toolVersion = toolVersion
        }
    }

    public struct Summary: Codable, Sendable {
        public let source: String
        public let destination: String
        public let format: String
        public let files: [String]
        public let tensors: Int
        public let bytes: Int
        public let converted: Int
    }

    /// Parses sizes as transformers does for max_shard_size: "5GB", "500MB", "2GiB", "100kB" or bytes.
    public static func parseSize(_ text: String) -> Int? {
        let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("kB", 1e3), ("B", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value > 0 else { return nil }
            // Int(exactly:) is nil for infinity and for anything past Int.max, where Int(_:) would trap.
            return Int(exactly: (value * factor).rounded(.down)).flatMap { $0 > 0 ? $0 : nil }
        }
        return Int(trimmed).flatMap { $0 > 0 ? $0 : nil }
    }

    public static func convert(from sourcePath: String, to destination: String, options: Options) throws -> Summary {
        let location = try CheckpointLocation.resolve(sourcePath)
        let source = try location.openWeights()
        let loadedConfig = try location.loadConfig(weights: source)
        if let (_, config) = loadedConfig, let failure = LoadingReport.check(source, config: config).failure(path: location.configPath ?? sourcePath) {
            throw failure
        }
        if let dtype = options.dtype, !ElementConversion.encodableFromFloat32.contains(dtype) {
            throw CheckpointError(path: sourcePath, "--dtype must be f32, f16 or bf16, not \(dtype.rawValue)")
        }
        guard !FileManager.default.fileExists(atPath: destination) || StagedOutput.isEmptyDirectory(destination) else {
            throw CheckpointError(path: destination, "destination exists; choose a new path")
        }
        let asDirectory = location.directory != nil || options.maxShardBytes != nil
        let format = options.format ?? (destination.hasSuffix(".h5") || destination.hasSuffix(".hdf5") ? .hdf5 : .safetensors)

        let records = source.weights.map { record(for: $0, from: source, targetFloat: options.dtype) }
        let converted = zip(records, source.weights).filter { $0.dtype != $1.dtype }.count
        var metadata = source.metadata ?? [:]
        if format == .safetensors && metadata["format"] == nil { metadata["format"] = "pt" }
        metadata.merge(try provenance(location: location, options: options)) { _, new in new }
        let configText = try loadedConfig.map { try updatedConfig($0.text, dtype: options.dtype, path: location.configPath ?? sourcePath) }

        // A directory is assembled under a temporary name and renamed at the end (StagedOutput); a single
        // file is staged the same way by its writer. What an interrupted conversion to the same destination
        // left is removed first.
        StagedOutput.removeStaleTemporaries(for: destination)
        var files: [String] = []
        if asDirectory {
            try StagedOutput.requireFreeSpace(records.reduce(0) { $0 + ($1.dtype.byteCount(elements: $1.elementCount) ?? 0) }, at: destination)
            try StagedOutput.commit(destination) { staging in
                try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
                files = try writeWeights(records, metadata: metadata, configText: configText, format: format, directory: staging, options: options)
                if let directory = location.directory {
                    for name in location.companionFiles where name != "config.json" {
                        try RegularFile.copyContents(of: directory + "/" + name, to: staging + "/" + name)
                        files.append(name)
                    }
                }
                if let configText {
                    try Data(configText.utf8).write(to: URL(fileURLWithPath: staging + "/config.json"))
                    files.append("config.json")
                }
            }
        } else {
            switch format {
            case .safetensors: try SafeTensorsWriter.write(records, metadata: metadata, to: destination)
            case .hdf5: try HDF5WeightWriter.write(records, metadata: metadata, configJSON: configText, to: destination, options: .init(gzipLevel: options.gzipLevel))
            }
            files = [(destination as NSString).lastPathComponent]
        }
        return Summary(source: sourcePath, destination: destination, format: format.rawValue, files: files.sorted(),
                       tensors: records.count, bytes: records.reduce(0) { $0 + ($1.dtype.byteCount(elements: $1.elementCount) ?? 0) },
                       converted: converted)
    }

    /// A record that loads its source tensor only when the writer reaches it, converting floats to
    /// `targetFloat` when given. Integer, boolean and undecodable tensors keep their dtype.
    static func record(for weight: WeightInfo, from source: any WeightSource, targetFloat: DType?) -> TensorRecord {
        let target = targetFloat.flatMap { weight.dtype.isFloatingPoint && weight.dtype.convertsToFloat32 ? $0 : nil } ?? weight.dtype
        let name = weight.name
        return TensorRecord(name: name, dtype: target, shape: weight.shape, payload: .deferred {
            let loaded = try source.load(name)
            guard target != loaded.info.dtype else { return loaded.payload }
            switch loaded.payload {
            case .stored(let view): return .converted(view)
            case .bytes(let bytes): return .convertedBytes(bytes, from: loaded.info.dtype)
            default: return loaded.payload
            }
        })
    }

    private static func writeWeights(
        _ records: [TensorRecord], metadata: [String: String], configText: String?, format: Format, directory: String, options: Options
    ) throws -> [String] {
        switch format {
        case .safetensors:
            let written = try SafeTensorsWriter.writeSharded(records, metadata: metadata, directory: directory, maxShardBytes: options.maxShardBytes ?? .max)
            return written.map { ($0 as NSString).lastPathComponent }
        case .hdf5:
            let hdf5Options = HDF5WeightWriter.Options(gzipLevel: options.gzipLevel)
            let groups = SafeTensorsWriter.shardGroups(records, maxShardBytes: options.maxShardBytes ?? .max)
            if groups.count == 1 {
                try HDF5WeightWriter.write(records, metadata: metadata, configJSON: configText, to: directory + "/model.h5", options: hdf5Options)
                return ["model.h5"]
            }
            var weightMap: [String: String] = [:]
            var files: [String] = []
            for (i, group) in groups.enumerated() {
                let file = SafeTensorsWriter.shardFileName(index: i + 1, of: groups.count, extension: "h5")
                try HDF5WeightWriter.write(group, metadata: metadata, configJSON: configText, to: directory + "/" + file, options: hdf5Options)
                for record in group { weightMap[record.name] = file }
                files.append(file)
            }
            let total = records.reduce(0) { $0 + ($1.dtype.byteCount(elements: $1.elementCount) ?? 0) }
            try AtomicFile.write(ShardIndex(weightMap: weightMap, totalSize: total).encoded(), to: directory + "/" + ShardedHDF5Weights.defaultIndexName)
            return files + [ShardedHDF5Weights.defaultIndexName]
        }
    }

    /// What the converted file says about its origin: source files and their SHA-256, tool version, dtype policy.
    static func provenance(location: CheckpointLocation, options: Options) throws -> [String: String] {
        var sources: [String] = []
        switch location.weights {
        case .safetensors(let path), .hdf5(let path):
            sources = [path]
        case .shardedSafeTensors(let index), .shardedHDF5(let index):
            let directory = (index as NSString).deletingLastPathComponent
            sources = [index] + (try ShardIndex.read(path: index)).shardFiles.map { directory + "/" + $0 }
        }
        let hashes = try sources.map { "\(($0 as NSString).lastPathComponent):\(try SHA256.hexDigest(ofFile: $0))" }
        return [
            "pixelgpt.converted_by": "pixelgpt-swift \(options.toolVersion)",
            "pixelgpt.source_sha256": hashes.joined(separator: ","),
            "pixelgpt.dtype_policy": options.dtype.map { "floating-point tensors stored as \($0.rawValue), round to nearest even" } ?? "dtypes unchanged",
        ]
    }

    /// config.json with torch_dtype set to the new float dtype; other keys untouched.
    static func updatedConfig(_ text: String, dtype: DType?, path: String) throws -> String {
        guard let dtype else { return text }
        guard var object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw CheckpointError(path: path, "config.json is not a JSON object")
        }
        object["torch_dtype"] = ["F32": "float32", "F16": "float16", "BF16": "bfloat16"][dtype.rawValue]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
