#if canImport(Glibc)
import Glibc
#endif
import Support

/// `model.safetensors.index.json`: which shard holds which tensor, as Hugging Face writes it:
/// `{"metadata": {"total_size": BYTES, ...}, "weight_map": {NAME: SHARD_FILE, ...}}`.
public struct ShardIndex: Sendable, Equatable {
    public static let defaultFileName = "model.safetensors.index.json"

    /// Tensor name to shard file name (relative to the index's directory).
    public var weightMap: [String: String]
    /// `metadata.total_size`: the sum of tensor bytes (not file sizes), when given.
    public var totalSize: Int?
    /// Other metadata entries, kept as their JSON text.
    public var otherMetadata: [String: String]

    public init(weightMap: [String: String], totalSize: Int?, otherMetadata: [String: String] = [:]) {
        self.weightMap = weightMap
        self.totalSize = totalSize
        self.otherMetadata = otherMetadata
    }

    /// Shard file names in a stable order (sorted).
    public var shardFiles: [String] { Set(weightMap.values).sorted() }

    public static func read(path: String) throws(SafeTensorsError) -> ShardIndex {
        let region = try MappedRegion(path: path)
        func invalid(_ reason: String) -> SafeTensorsError { SafeTensorsError(path: path, .invalidIndex(reason)) }
        guard String(validating: region.bytes.bindMemory(to: UInt8.self), as: UTF8.self) != nil else { throw invalid("not valid UTF-8") }
        let json: HeaderJSON.Value
        do {
            json = try HeaderJSON.parse(region.bytes)
        } catch {
            throw SafeTensorsError(path: path, .headerSyntax(message: error.message, offset: error.offset))
        }
        guard case .object(let top) = json else { throw invalid("top level must be an object") }
        guard let weightMapValue = top.first(where: { $0.key == "weight_map" })?.value,
            case .object(let entries) = weightMapValue
        else { throw invalid("\"weight_map\" object missing") }
        var weightMap: [String: String] = [:]
        for (name, value) in entries.map({ ($0.key, $0.value) }) {
            guard case .string(let file) = value, !file.isEmpty else { throw invalid("weight_map[\"\(name)\"] must be a file name") }
            guard !file.contains("/"), file != ".", file != ".." else { throw invalid("weight_map[\"\(name)\"] = \"\(file)\" leaves the directory") }
            // open(2) would stop at an embedded NUL and read the prefix's file instead.
            guard !TerminalText.hasControlCharacters(file) else {
                throw invalid("weight_map[\"\(TerminalText.escaped(name))\"] = \"\(TerminalText.escaped(file))\" holds a control character")
            }
            weightMap[name] = file
        }
        var totalSize: Int?
        var other: [String: String] = [:]
        if let metadataValue = top.first(where: { $0.key == "metadata" })?.value {
            guard case .object(let metadata) = metadataValue else { throw invalid("\"metadata\" must be an object") }
            for (key, value) in metadata.map({ ($0.key, $0.value) }) {
                if key == "total_size" {
                    guard let size = value.unsignedInteger, size <= UInt64(Int.max) else { throw invalid("metadata.total_size must be a non-negative integer") }
                    totalSize = Int(size)
                } else {
                    var text: [UInt8] = []
                    HeaderJSON.write(value, into: &text)
                    other[key] = String(decoding: text, as: UTF8.self)
                }
            }
        }
        return ShardIndex(weightMap: weightMap, totalSize: totalSize, otherMetadata: other)
    }

    /// Checks the shards' own tensor lists (`contents`: shard file to tensor names) against `weight_map`, and
    /// returns what is worth a warning. Every mapped tensor must be in its shard. A tensor that a shard holds
    /// but the map does not list, or lists under another shard, is not read from that shard; that is said, not
    /// silent. transformers loads whole shard files in sorted order, so the last shard holding a name wins
    /// there: when that is not the shard the map names, the two tools would load different values, which is
    /// refused naming both shards. (This project's saved heads link the source checkpoint's file as a shard
    /// whose LM heads, and a classifier's old score, are deliberately left out of the map.)
    public func check(contents: [String: [String]], indexPath: String) throws(SafeTensorsError) -> [String] {
        let held = contents.mapValues(Set.init)
        var warnings: [String] = []
        for file in contents.keys.sorted() {
            var unlisted: [String] = []
            for name in contents[file]! where weightMap[name] != file {
                guard let mapped = weightMap[name] else {
                    unlisted.append(name)
                    continue
                }
                let lastHolder = contents.keys.sorted().last { held[$0]?.contains(name) == true }!
                if lastHolder != mapped {
                    throw SafeTensorsError(path: indexPath, .shardDisagrees(shard: lastHolder, reason:
                        "holds \"\(TerminalText.escaped(name))\" too, after the index's shard \"\(mapped)\": transformers would load this copy, this tool the index's (a tensor in two shards)"))
                }
                warnings.append("shard \"\(file)\" also holds \"\(TerminalText.escaped(name))\", which the index maps to \"\(mapped)\"; that copy is read")
            }
            if !unlisted.isEmpty {
                warnings.append("shard \"\(file)\" holds \(unlisted.count) tensors the index's weight_map does not list (\(unlisted.prefix(3).map { "\"\(TerminalText.escaped($0))\"" }.joined(separator: ", "))\(unlisted.count > 3 ? ", ..." : "")); they are not read")
            }
        }
        for (name, file) in weightMap.sorted(by: { $0.key < $1.key }) where held[file]?.contains(name) != true {
            throw SafeTensorsError(path: indexPath, .shardDisagrees(shard: file, reason: "index lists \"\(TerminalText.escaped(name))\" but the shard has no such tensor"))
        }
        return warnings
    }

    /// The index as JSON, keys sorted and indented by two spaces as `json.dumps(..., indent=2,
    /// sort_keys=True)` writes it in transformers.
    public func encoded() -> [UInt8] {
        func sortedKeys<V>(_ map: [String: V]) -> [String] {
            map.keys.sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }
        }
        var out: [UInt8] = Array("{\n  \"metadata\": {".utf8)
        var metadataLines: [[UInt8]] = []
        var metadata = otherMetadata
        if let totalSize { metadata["total_size"] = String(totalSize) }
        for key in sortedKeys(metadata) {
            var line: [UInt8] = Array("\n    ".utf8)
            HeaderJSON.writeString(key, into: &line)
            line += Array(": ".utf8) + Array(metadata[key]!.utf8)
            metadataLines.append(line)
        }
        out += metadataLines.joined(separator: Array(",".utf8))
        out += Array((metadataLines.isEmpty ? "},\n  \"weight_map\": {" : "\n  },\n  \"weight_map\": {").utf8)
        var mapLines: [[UInt8]] = []
        for name in sortedKeys(weightMap) {
            var line: [UInt8] = Array("\n    ".utf8)
            HeaderJSON.writeString(name, into: &line)
            line += Array(": ".utf8)
            HeaderJSON.writeString(weightMap[name]!, into: &line)
            mapLines.append(line)
        }
        out += mapLines.joined(separator: Array(",".utf8))
        out += Array((mapLines.isEmpty ? "}\n}\n" : "\n  }\n}\n").utf8)
        return out
    }
}

/// A sharded safetensors checkpoint opened through its index: every shard's header is read and checked
/// against the index; no tensor bytes are read.
public final class ShardedSafeTensors: TensorSource, Sendable {
    public let path: String
    public let index: ShardIndex
    /// Open shards by file name.
    public let shards: [String: SafeTensorsFile]
    public let tensorInfos: [TensorInfo]
    /// Problems that do not stop reading (a total_size that disagrees with the tensors).
    public let warnings: [String]

    public init(indexPath: String) throws(SafeTensorsError) {
        path = indexPath
        index = try ShardIndex.read(path: indexPath)
        let directory = indexPath.lastIndex(of: "/").map { String(indexPath[...$0]) } ?? ""
        var shards: [String: SafeTensorsFile] = [:]
        let firstTensorOfShard = Dictionary(index.weightMap.map { ($0.value, $0.key) }, uniquingKeysWith: { a, b in min(a, b) })
        for file in index.shardFiles {
            let shardPath = directory + file
            if access(shardPath, F_OK) != 0 {
                throw SafeTensorsError(path: indexPath, .missingShard(shard: file, tensor: firstTensorOfShard[file] ?? "?"))
            }
            shards[file] = try SafeTensorsFile(path: shardPath)
        }
        let shardWarnings = try index.check(contents: shards.mapValues { $0.tensorInfos.map(\.name) }, indexPath: indexPath)
        let weightMap = index.weightMap
        let infos = shards.sorted(by: { $0.key < $1.key }).flatMap { file, shard in shard.tensorInfos.filter { weightMap[$0.name] == file } }
        tensorInfos = infos
        self.shards = shards
        let bytes = infos.reduce(0) { $0 + $1.byteCount }
        var warnings = shardWarnings
        if let declared = index.totalSize, declared != bytes {
            warnings.append("metadata.total_size is \(declared) but the indexed tensors hold \(bytes) bytes")
        }
        self.warnings = warnings
    }

    /// The first shard's `__metadata__` (the shards of one checkpoint carry the same).
    public var metadata: [String: String]? { index.shardFiles.first.flatMap { shards[$0]?.metadata } }

    public func tensor(named name: String) throws(SafeTensorsError) -> TensorView {
        guard let file = index.weightMap[name], let shard = shards[file] else {
            throw SafeTensorsError(path: path, .tensorNotFound(name))
        }
        return try shard.tensor(named: name)
    }
}

extension SafeTensorsWriter {
    /// Shard file name in the Hugging Face pattern, `model-00001-of-00003.safetensors`.
    public static func shardFileName(base: String = "model", index: Int, of count: Int, extension: String = "safetensors") -> String {
        func pad(_ n: Int) -> String { String(repeating: "0", count: max(0, 5 - String(n).count)) + String(n) }
        return "\(base)-\(pad(index))-of-\(pad(count)).\(`extension`)"
    }

    /// Consecutive groups of `records` holding at most `maxShardBytes` tensor bytes each; a tensor larger
    /// than the limit gets a group of its own (transformers' rule).
    public static func shardGroups(_ records: [TensorRecord], maxShardBytes: Int) -> [[TensorRecord]] {
        var groups: [[TensorRecord]] = [[]]
        var currentBytes = 0
        for record in records {
            let size = record.dtype.byteCount(elements: record.elementCount) ?? 0
            if !groups[groups.count - 1].isEmpty && currentBytes + size > maxShardBytes {
                groups.append([])
                currentBytes = 0
            }
            groups[groups.count - 1].append(record)
            currentBytes += size
        }
        return groups
    }

    /// Splits `records` into shards of at most `maxShardBytes` tensor bytes (a larger tensor gets a shard
    /// of its own), in the writer's order, and writes them plus `model.safetensors.index.json` into
    /// `directory`. When everything fits in one shard, writes a single `model.safetensors` and no index,
    /// as transformers does. Shards are each written atomically and the index last, so an interrupted
    /// write leaves no index that names missing shards. Returns the paths written.
    @discardableResult
    public static func writeSharded(
        _ records: [TensorRecord], metadata: [String: String]? = nil, directory: String, maxShardBytes: Int,
        base: String = "model"
    ) throws(SafeTensorsError) -> [String] {
        let ordered = try validatedInReferenceOrder(records, path: directory)
        let groups = shardGroups(ordered, maxShardBytes: maxShardBytes)
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        if groups.count == 1 {
            let single = prefix + base + ".safetensors"
            try write(ordered, metadata: metadata, to: single)
            return [single]
        }
        var written: [String] = []
        var weightMap: [String: String] = [:]
        var total = 0
        for (i, group) in groups.enumerated() {
            let file = shardFileName(base: base, index: i + 1, of: groups.count)
            let header = try write(group, metadata: metadata, to: prefix + file)
            for info in header.tensors { weightMap[info.name] = file }
            total += header.dataByteCount
            written.append(prefix + file)
        }
        let indexPath = prefix + base + ".safetensors.index.json"
        try AtomicFile.write(to: indexPath, failure: writeFailure) { (sink: inout ByteSink) throws(SafeTensorsError) in sink.append(ShardIndex(weightMap: weightMap, totalSize: total).encoded()) }
        written.append(indexPath)
        return written
    }
}
