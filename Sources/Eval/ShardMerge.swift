import Foundation
import SafeTensors
import Support

/// `pixelgpt merge OUTPUT`: checks that OUTPUT/shards holds every shard of one sharded run, complete and
/// made with the same checkpoint, data and options, and assembles their pieces into the feature-cache entries
/// the one-process run would have computed. The caller then runs the eval command line the shards recorded,
/// which finds every feature in the cache and trains the heads (probe, finetune) on all of them.
public enum ShardMerge {
    public struct Assembled: Sendable {
        /// The eval command line the shards recorded (without --output-dir).
        public let arguments: [String]
        public let shards: Int
        public let rows: Int
    }

    public static func assemble(outputDirectory: String, log: (String) -> Void) throws -> Assembled {
        let root = ShardLayout.root(outputDirectory)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
        var manifests: [(name: String, manifest: ShardManifest)] = []
        var problems: [String] = []
        var counts = Set<Int>()
        for name in names {
            let parts = name.split(separator: "-")
            guard parts.count == 3, parts[1] == "of", let k = Int(parts[0]), let n = Int(parts[2]) else { continue }
            counts.insert(n)
            let path = (root as NSString).appendingPathComponent(name + "/" + ShardManifest.fileName)
            guard FileManager.default.fileExists(atPath: path) else {
                problems.append("shard \(k)/\(n) incomplete (no \(ShardManifest.fileName) yet)")
                continue
            }
            do {
                let manifest = try ShardManifest.read(path)
                guard manifest.shard == k, manifest.shards == n else {
                    problems.append("shard \(k)/\(n) duplicated (its \(ShardManifest.fileName) says shard \(manifest.shard)/\(manifest.shards))")
                    continue
                }
                manifests.append((name, manifest))
            } catch {
                problems.append("shard \(k)/\(n) unreadable (\(error))")
            }
        }
        guard let n = counts.max() ?? manifests.first?.manifest.shards else {
            throw TaskError(task: outputDirectory, key: "merge", reason: "no shards under \(root); run `pixelgpt eval ... --shard K/N` first")
        }
        if counts.count > 1 {
            for other in counts.sorted() where other != n {
                problems.append("shards of \(other) (\(names.filter { $0.hasSuffix("-of-\(other)") }.joined(separator: ", "))) are foreign to a run of \(n) shards")
            }
        }
        let ofRun = manifests.filter { $0.manifest.shards == n }
        for k in 0..<n where !names.contains("\(k)-of-\(n)") { problems.append("shard \(k)/\(n) missing") }
        // The reference is the record most shards agree on: a foreign shard is the odd one out.
        let reference = Dictionary(grouping: ofRun, by: { $0.manifest.plan }).max { ($0.value.count, $1.key) < ($1.value.count, $0.key) }?.value.first?.manifest
        var complete: [ShardManifest] = []
        for (_, manifest) in ofRun {
            let label = "shard \(manifest.shard)/\(n)"
            guard let reference else { break }
            if manifest.plan != reference.plan || manifest.arguments != reference.arguments || manifest.settings != reference.settings {
                let differing = Set(manifest.settings.keys).union(reference.settings.keys).sorted().first { manifest.settings[$0] != reference.settings[$0] }
                problems.append("\(label) foreign (" + (differing.map { "\($0) \(RunProvenance.shown(manifest.settings[$0])) vs \(RunProvenance.shown(reference.settings[$0]))" }
                    ?? (manifest.arguments != reference.arguments ? "other options" : "another plan: other data or tasks")) + ")")
                continue
            }
            let directory = (root as NSString).appendingPathComponent("\(manifest.shard)-of-\(n)")
            if let absent = manifest.pieces.first(where: { !FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent($0.file)) }) {
                problems.append("\(label) incomplete (\(absent.file) missing)")
                continue
            }
            complete.append(manifest)
        }
        guard problems.isEmpty, let reference else {
            throw TaskError(task: outputDirectory, key: "merge", reason: problems.isEmpty ? "no complete shard" : problems.joined(separator: "; "))
        }

        // Pieces of each request, in row order from every shard, must tile its rows exactly.
        let cache = try FeatureCache(directory: reference.cacheDirectory ?? (outputDirectory as NSString).appendingPathComponent("features"))
        var rows = 0
        for (r, request) in reference.requests.enumerated() {
            var pieces: [(ShardManifest.Piece, String)] = []
            for manifest in complete {
                let directory = (root as NSString).appendingPathComponent("\(manifest.shard)-of-\(n)")
                pieces += manifest.pieces.filter { $0.request == r }.map { ($0, (directory as NSString).appendingPathComponent($0.file)) }
            }
            pieces.sort { $0.0.start < $1.0.start }
            var features: [Float] = [], indices: [Int] = []
            var next = 0
            for (piece, path) in pieces {
                guard piece.start == next else {
                    throw TaskError(task: path, key: "merge", reason: "rows \(next)..<\(piece.start) of \(request.key.task) \(request.key.split) are in no shard")
                }
                let file = try ShardPiece.read(path, plan: reference.plan)
                guard file.rows.count == piece.count else { throw TaskError(task: path, key: "row_index", reason: "\(file.rows.count) rows, the plan gives \(piece.count)") }
                features += file.features
                indices += file.rows
                next += piece.count
            }
            guard next == request.rows, ShardManifest.digest(rows: indices) == request.rowsSHA256 else {
                throw TaskError(task: outputDirectory, key: "merge", reason: "the pieces of \(request.key.task) \(request.key.split) do not give its \(request.rows) planned rows")
            }
            try cache.store(.init(rowIndices: indices, features: features, featureSize: features.count / max(1, indices.count)), for: request.key)
            rows += indices.count
        }
        log("merge: \(n) shards complete, \(reference.requests.count) feature sets of \(rows) rows assembled")
        return Assembled(arguments: reference.arguments, shards: n, rows: rows)
    }
}
