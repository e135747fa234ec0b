import Foundation
import Model
import SafeTensors
import Support

/// Writes a head trained here as a checkpoint that transformers loads as ErniePixelForSequenceClassification
/// (SPEC 2.2): config.json (the source's, with the classification fields), a sharded safetensors index, the
/// source's weight file(s) as the first shard(s) through relative symbolic links (no copy of the backbone),
/// and a last shard holding only `score.weight` F32 [num_labels, H]. The index lists the `model.*` tensors
/// and `score.weight`, so it describes exactly the classifier's state dict; the lm heads still inside the
/// linked file are what from_pretrained drops as unexpected keys when it builds a classifier from a CausalLM
/// file anyway. Tokenizer and generation files are copied (they are small). A head trained with layers
/// (`--train-layers K`) is written as a full copy instead (`writeFullCopy`).
public enum ClassificationCheckpointWriter {
    /// A tensor trained here (`--train-layers K`: the last K layers, `model.norm.weight`, `score.weight`),
    /// saved as F32 under its checkpoint name.
    public struct TrainedTensor: Sendable {
        public let name: String
        public let shape: [Int]
        public let values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// Writes `directory` (absent or empty) atomically: staged beside it, then renamed. `labels` are the
    /// class names in id order (nil for regression: one output). Returns the files written.
    @discardableResult
    public static func write(source: CheckpointLocation, config: PixelGPTConfig, labels: [String]?, score: [Float], to directory: String) throws -> [String] {
        let numLabels = labels?.count ?? 1
        guard score.count == numLabels * config.hiddenSize else {
            throw CheckpointError(path: directory, "score has \(score.count) values, expected \(numLabels) x \(config.hiddenSize)")
        }
        let sourceShards = try shards(of: source)
        // The tensors of the linked files that the classifier uses: the backbone, under its canonical name.
        var weightMap: [String: String] = [:]
        let count = sourceShards.count + 1
        var total = 0
        for (i, shard) in sourceShards.enumerated() {
            for info in try backboneTensors(shard).infos {
                weightMap[info.name] = SafeTensorsWriter.shardFileName(index: i + 1, of: count)
                total += info.byteCount
            }
        }
        let scoreFile = SafeTensorsWriter.shardFileName(index: count, of: count)
        weightMap[TensorRole.score.name()] = scoreFile
        total += 4 * score.count

        let target = try staging(directory, source: source, config: config, labels: labels) { staging, target in
            for (i, shard) in sourceShards.enumerated() {
                // Relative to the final directory, so the pair can move together inside a tree.
                let link = relativePath(from: target.path, to: URL(fileURLWithPath: shard).standardizedFileURL.resolvingSymlinksInPath().path)
                try FileManager.default.createSymbolicLink(atPath: staging.appendingPathComponent(SafeTensorsWriter.shardFileName(index: i + 1, of: count)).path,
                                                           withDestinationPath: link)
            }
            try SafeTensorsWriter.write([TensorRecord(name: TensorRole.score.name(), dtype: .f32, shape: [numLabels, config.hiddenSize], payload: .float32(score))],
                                        metadata: ["format": "pt"], to: staging.appendingPathComponent(scoreFile).path)
            try AtomicFile.write(ShardIndex(weightMap: weightMap, totalSize: total).encoded(),
                                 to: staging.appendingPathComponent(ShardIndex.defaultFileName).path)
        }
        return ([ShardIndex.defaultFileName, "config.json"] + (1...count).map { SafeTensorsWriter.shardFileName(index: $0, of: count) })
            .map { target.path + "/" + $0 }
    }

    /// Writes a self-contained classifier (`--train-layers K` ≥ 1): one model.safetensors with every
    /// `model.*` tensor of the source (bytes and dtype unchanged) except those in `trained`, which replace
    /// them as F32, plus `trained`'s `score.weight`. Not linked like `write`: a linked backbone would still
    /// hold the old values of the trained names, and which copy a loader keeps would be up to it. `trained`
    /// must hold `score.weight` [num_labels, H]; its other names must be source tensors of the same shape.
    @discardableResult
    public static func writeFullCopy(source: CheckpointLocation, config: PixelGPTConfig, labels: [String]?, trained: [TrainedTensor],
                                     to directory: String) throws -> [String] {
        let numLabels = labels?.count ?? 1
        var pending = Dictionary(trained.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        guard let score = pending[TensorRole.score.name()], score.shape == [numLabels, config.hiddenSize] else {
            throw CheckpointError(path: directory, "trained tensors need \(TensorRole.score.name()) of shape [\(numLabels), \(config.hiddenSize)]")
        }
        for tensor in trained where tensor.values.count != tensor.shape.reduce(1, *) {
            throw CheckpointError(path: directory, "\(tensor.name) has \(tensor.values.count) values for shape \(tensor.shape)")
        }
        var records: [TensorRecord] = []
        for shard in try shards(of: source) {
            let (file, infos) = try backboneTensors(shard)
            for info in infos {
                if let replacement = pending.removeValue(forKey: info.name) {
                    guard replacement.shape == info.shape else {
                        throw CheckpointError(path: shard, "\(info.name) has shape \(info.shape), the trained tensor \(replacement.shape)")
                    }
                    records.append(TensorRecord(name: info.name, dtype: .f32, shape: info.shape, payload: .float32(replacement.values)))
                } else {
                    records.append(TensorRecord(name: info.name, dtype: info.dtype, shape: info.shape, payload: .stored(try file.tensor(named: info.name))))
                }
            }
        }
        pending[TensorRole.score.name()] = nil
        if let missing = pending.keys.sorted().first {
            throw CheckpointError(path: source.path, "has no tensor \(missing) to replace with its trained values")
        }
        records.append(TensorRecord(name: TensorRole.score.name(), dtype: .f32, shape: score.shape, payload: .float32(score.values)))
        let bytes = records.reduce(0) { $0 + ($1.dtype.byteCount(shape: $1.shape) ?? 0) }
        let target = try staging(directory, source: source, config: config, labels: labels) { staging, _ in
            try StagedOutput.requireFreeSpace(bytes, at: staging.path)
            try SafeTensorsWriter.write(records, metadata: ["format": "pt"], to: staging.appendingPathComponent("model.safetensors").path)
        }
        return ["config.json", "model.safetensors"].map { target.path + "/" + $0 }
    }

    /// The source's safetensors weight files; HDF5 is refused (nothing to link to or copy bytes from).
    static func shards(of source: CheckpointLocation) throws -> [String] {
        switch source.weights {
        case .safetensors(let file): return [file]
        case .shardedSafeTensors(let index):
            let base = (index as NSString).deletingLastPathComponent
            return try ShardIndex.read(path: index).shardFiles.map { (base as NSString).appendingPathComponent($0) }
        case .hdf5, .shardedHDF5:
            throw CheckpointError(path: source.path, "saving a head needs safetensors weights; convert the checkpoint first (pixelgpt convert SRC DST --format safetensors)")
        }
    }

    /// The `model.*` tensors of one source file (what the classifier uses, SPEC 2.2), which must be in the
    /// canonical spelling and carry the metadata transformers requires.
    static func backboneTensors(_ shard: String) throws -> (file: SafeTensorsFile, infos: [TensorInfo]) {
        let file = try SafeTensorsFile(path: shard)
        guard file.metadata?["format"] == "pt" else {
            throw CheckpointError(path: shard, "has no {\"format\": \"pt\"} metadata, which transformers requires; re-save it with pixelgpt convert")
        }
        var infos: [TensorInfo] = []
        for info in file.tensorInfos {
            guard let match = WeightNameTable.canonical(info.name), match.canonical.hasPrefix(TensorRole.innerModelPrefix) else { continue }
            guard info.name == match.canonical else {
                throw CheckpointError(path: shard, "tensor \"\(info.name)\" is not in the ErniePixelForCausalLM spelling; convert the checkpoint first")
            }
            infos.append(info)
        }
        return (file, infos)
    }

    /// Stages the checkpoint beside `directory` (config.json, companion files, then `body`'s weight files),
    /// then renames it into place; nothing is left behind on failure. Returns the final directory.
    static func staging(_ directory: String, source: CheckpointLocation, config: PixelGPTConfig, labels: [String]?,
                        _ body: (_ staging: URL, _ target: URL) throws -> Void) throws -> URL {
        var classifier = config.forSequenceClassification(numLabels: labels?.count ?? 1)
        if let labels {
            // transformers writes id2label with string keys ("0": name) and label2id name -> int.
            classifier.id2label = Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) })
            classifier.label2id = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) })
        }
        let fm = FileManager.default
        let target = URL(fileURLWithPath: directory).standardizedFileURL
        if fm.fileExists(atPath: target.path) {
            guard StagedOutput.isEmptyDirectory(target.path) else {
                throw CheckpointError(path: directory, "exists and is not an empty directory; choose another --save-heads directory or remove it")
            }
            try fm.removeItem(at: target)
        }
        try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try StagedOutput.commit(target.path) { stagingPath in
            let staging = URL(fileURLWithPath: stagingPath)
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(classifier).write(to: staging.appendingPathComponent("config.json"))
            try body(staging, target)
            if let sourceDirectory = source.directory {
                for name in source.companionFiles where name != "config.json" {
                    try RegularFile.copyContents(of: (sourceDirectory as NSString).appendingPathComponent(name), to: staging.appendingPathComponent(name).path)
                }
            }
        }
        return target
    }

    /// `destination` as seen from inside `directory` (both absolute), e.g. "../../model/model.safetensors".
    static func relativePath(from directory: String, to destination: String) -> String {
        let base = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().pathComponents
        let goal = URL(fileURLWithPath: destination).standardizedFileURL.pathComponents
        var common = 0
        while common < min(base.count, goal.count) && base[common] == goal[common] { common += 1 }
        return (Array(repeating: "..", count: base.count - common) + goal[common...]).joined(separator: "/")
    }
}
