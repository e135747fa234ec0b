import Foundation
import Model
import Render
import SafeTensors
import Support

/// One forward job of a run: the pooled features of `rows` (in this order) under a feature-cache key. A
/// sharded run first lists the requests the one-process run would make (a planning pass with zero features),
/// then computes only its share of them.
final class FeatureRequest {
    let key: FeatureCache.Key
    let rows: [ExampleRow]
    /// Rows per unit: 8 in pair modality with upstream pooling (the original's batches), else 1.
    let group: Int
    let featureSize: Int
    let compute: ([ExampleRow]) throws -> [Float]
    let cost: (ExampleRow) -> Int

    init(key: FeatureCache.Key, rows: [ExampleRow], group: Int, featureSize: Int,
         compute: @escaping ([ExampleRow]) throws -> [Float], cost: @escaping (ExampleRow) -> Int) {
        (self.key, self.rows, self.group, self.featureSize, self.compute, self.cost) = (key, rows, group, featureSize, compute, cost)
    }
}

/// Collects the feature requests of a planning pass; features come back as zeros.
final class FeaturePlanner {
    private(set) var requests: [FeatureRequest] = []

    func record(_ request: FeatureRequest) throws -> [Float] {
        if let known = requests.first(where: { $0.key == request.key }) {
            guard known.rows.map(\.index) == request.rows.map(\.index) else {
                throw TaskError(task: request.key.task, key: "--shard", reason: "two feature requests of \(request.key.split) with other rows")
            }
        } else if !request.rows.isEmpty {
            requests.append(request)
        }
        return [Float](repeating: 0, count: request.rows.count * request.featureSize)
    }
}

/// OUTPUT/shards/K-of-N/shard.json, written (atomically) when every piece of the shard is on disk: what the
/// merge checks before it trusts the shard.
struct ShardManifest: VersionedRecord {
    static let schema = "pixelgpt.eval-shard"
    static let currentVersion = 1
    static let fileName = "shard.json"

    struct Request: Codable, Equatable {
        let key: FeatureCache.Key
        let rows: Int
        /// SHA-256 of the row indices, in order.
        let rowsSHA256: String
        let group: Int
        enum CodingKeys: String, CodingKey { case key, rows, group, rowsSHA256 = "rows_sha256" }
    }

    struct Piece: Codable, Equatable {
        let file: String
        let request: Int
        let start: Int
        let count: Int
    }

    var schema: String = Self.schema
    var version: Int = Self.currentVersion
    let shard: Int
    let shards: Int
    /// The eval command line without --shard, --output-dir and --resume: what the merge runs.
    let arguments: [String]
    /// The run-wide and per-task settings of run.json (`RunProvenance`).
    let settings: [String: String]
    let tasks: [String: [String: String]]
    let cacheDirectory: String?
    /// SHA-256 of the whole plan (requests and every shard's ranges): shards of one run share it.
    let plan: String
    let requests: [Request]
    let pieces: [Piece]

    enum CodingKeys: String, CodingKey {
        case schema, version, shard, shards, arguments, settings, tasks, plan, requests, pieces
        case cacheDirectory = "cache_directory"
    }

    /// SHA-256 of row indices in order ("3,4,7").
    static func digest(rows: [Int]) -> String {
        SHA256.hexDigest(of: Array(rows.map(String.init).joined(separator: ",").utf8))
    }
}

/// Where a sharded run keeps its files: OUTPUT/shards/K-of-N/, one folder per shard, written by it alone.
public enum ShardLayout {
    public static func root(_ outputDirectory: String) -> String { (outputDirectory as NSString).appendingPathComponent("shards") }
    public static func directory(_ outputDirectory: String, _ position: ShardPosition) -> String {
        (root(outputDirectory) as NSString).appendingPathComponent(position.directoryName)
    }
    /// The planning pass's scratch folder (its zero-feature samples and results are thrown away).
    public static func planDirectory(_ outputDirectory: String, _ position: ShardPosition) -> String {
        (directory(outputDirectory, position) as NSString).appendingPathComponent("plan")
    }
}

extension Featurizer {
    /// The forward cost of a row, in positions: its tokens (text), its attended patches (pixel: from the
    /// width of its text laid out by the renderer, without drawing, which would cost every shard more than the
    /// balance saves), both in pair modality (whose strips always run their full patch count).
    func estimatedCost(_ row: ExampleRow) -> Int {
        let tokens = text.map { $0.encode(row.textA, pair: row.textB).count } ?? 0
        switch modality {
        case .text: return tokens
        case .pair: return sequenceLength + tokens
        case .pixel: return renderer?.attendedPatches(row.textA, pair: row.textB, maxSeqLength: sequenceLength) ?? sequenceLength
        }
    }
}

extension EvaluationRun {
    /// A probe or checkpoint head's logits for the evaluated rows: recorded as a request when planning, from
    /// the assembled features when a merge put them in the cache, else computed chunk by chunk as before.
    func evaluatedHead(_ head: Head, task: TaskDefinition, split: TaskDefinition.Split, rows: [ExampleRow], featurizer: Featurizer,
                       images: RenderedImages?) throws -> Head {
        guard case .probe(let probe) = head.source, !rows.isEmpty else { return head }
        let key = try featureKey(task, split: split, featurizer: featurizer, limit: options.limit)
        let features: [Float]
        if let featurePlanner {
            features = try featurePlanner.record(request(key, rows: rows, featurizer: featurizer, images: images))
        } else if let entry = try cache.load(key), entry.rowIndices == rows.map(\.index) {
            log("\(task.task): \(split.rawValue) features of \(rows.count) rows from the cache")
            features = entry.features
        } else {
            return head
        }
        return Head(info: head.info, source: .logits(probe.logits(of: features, rows: rows)))
    }

    func request(_ key: FeatureCache.Key, rows: [ExampleRow], featurizer: Featurizer, images: RenderedImages?) -> FeatureRequest {
        let batchSize = options.batchSize
        return FeatureRequest(key: key, rows: rows, group: featurizer.effectiveBatchSize(batchSize) == Featurizer.upstreamEvalBatch
                                && featurizer.modality == .pair ? Featurizer.upstreamEvalBatch : 1,
                              featureSize: featurizer.featureSize,
                              compute: { try featurizer.features(of: $0, batchSize: batchSize, rendered: images) },
                              cost: { featurizer.estimatedCost($0) })
    }

    /// `--shard K/N`: plans the whole run (every task × split × rows the one-process run featurizes, with zero
    /// features and no forward pass), cuts it into N shards of near-equal cost, computes shard K's pieces into
    /// OUTPUT/shards/K-of-N (each written aside and renamed) and then its shard.json. `resume` keeps pieces
    /// already there. `arguments` is the eval command line the merge will run.
    public func runShard(_ position: ShardPosition, sharedOutput: String, resume: Bool, arguments: [String], cacheDirectory: String?) throws {
        guard options.trainLayers == 0 else {
            throw TaskError(task: "eval", key: "--shard", reason: "--train-layers \(options.trainLayers) computes tail examples, which are not sharded; use --train-layers 0")
        }
        let stall = try ShardStall(environment: ProcessInfo.processInfo.environment)
        let planner = FeaturePlanner()
        featurePlanner = planner
        do {
            _ = try run()
        } catch let error as TaskError where error.reason.contains("evaluates nothing") {
            log("warning: \(error)")
        }
        featurePlanner = nil
        let requests = planner.requests
        let shardDirectory = ShardLayout.directory(sharedOutput, position)
        try? FileManager.default.removeItem(atPath: options.outputDirectory)

        let plan = ShardPlan(costs: requests.map { $0.rows.map($0.cost) }, groups: requests.map(\.group), shards: position.count)
        let manifestRequests = requests.map {
            ShardManifest.Request(key: $0.key, rows: $0.rows.count, rowsSHA256: ShardManifest.digest(rows: $0.rows.map(\.index)), group: $0.group)
        }
        var planHasher = SHA256()
        planHasher.update(Array(Self.canonicalJSON(manifestRequests).utf8))
        planHasher.update(Array("\(plan.ranges)".utf8))
        let planHash = SHA256.hex(planHasher.finalize())

        let manifestPath = (shardDirectory as NSString).appendingPathComponent(ShardManifest.fileName)
        if resume, FileManager.default.fileExists(atPath: manifestPath), let old = try? ShardManifest.read(manifestPath), old.plan != planHash {
            throw TaskError(task: manifestPath, key: "--resume", reason: "the shard was planned with other settings or data; run without --resume")
        }
        if !resume { try? FileManager.default.removeItem(atPath: shardDirectory) }
        try FileManager.default.createDirectory(atPath: shardDirectory, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: manifestPath)

        var pieces: [ShardManifest.Piece] = []
        let total = requests.indices.reduce(0) { $0 + plan.ranges[$1][position.index].count }
        var done = 0, computed = 0
        let started = Date()
        try BLASRuntime.withThreads(options.threads ?? BLASRuntime.threads) {
            for (r, request) in requests.enumerated() {
                for range in ShardPlan.pieces(of: plan.ranges[r][position.index], group: request.group) {
                    let piece = ShardManifest.Piece(file: "request-\(r)-rows-\(range.lowerBound)-\(range.upperBound).safetensors", request: r,
                                                    start: range.lowerBound, count: range.count)
                    let path = (shardDirectory as NSString).appendingPathComponent(piece.file)
                    let rows = Array(request.rows[range])
                    if !(resume && (try? ShardPiece.read(path, plan: planHash))?.rows == rows.map(\.index)) {
                        let features = try request.compute(rows)
                        try ShardPiece.store(features, rows: rows.map(\.index), featureSize: request.featureSize, plan: planHash, to: path)
                        computed += rows.count
                    }
                    pieces.append(piece)
                    done += rows.count
                    progress.update("shard \(position) [\(options.modality.rawValue)]", done: done, total: total, since: started, newlyDone: computed)
                    if let stall, stall.isDue(position, piecesDone: pieces.count) {
                        progress.finish()
                        try stall.stall(position, log: log)
                    }
                }
            }
        }
        progress.finish()
        try ShardManifest(shard: position.index, shards: position.count, arguments: arguments, settings: provenance.settings,
                          tasks: provenance.tasks, cacheDirectory: cacheDirectory, plan: planHash, requests: manifestRequests,
                          pieces: pieces).write(toFile: manifestPath)
        log("shard \(position): \(done) rows in \(pieces.count) pieces (\(computed) computed now) in \(shardDirectory)")
    }
}

/// A shard's piece file: the features of a row range of one request (safetensors, `features` F32 [N, H]
/// and `row_index` I64 [N]), tagged with the run's plan.
enum ShardPiece {
    static func store(_ features: [Float], rows: [Int], featureSize: Int, plan: String, to path: String) throws {
        let indexBytes = rows.flatMap { withUnsafeBytes(of: Int64($0).littleEndian, Array.init) }
        try SafeTensorsWriter.write([
            TensorRecord(name: "features", dtype: .f32, shape: [rows.count, featureSize], payload: .float32(features)),
            TensorRecord(name: "row_index", dtype: .i64, shape: [rows.count], payload: .bytes(indexBytes)),
        ], metadata: ["pixelgpt.shard_plan": plan], to: path)
    }

    /// The piece at `path`, refused when it belongs to another plan or is malformed.
    static func read(_ path: String, plan: String) throws -> (features: [Float], rows: [Int]) {
        let file = try SafeTensorsFile(path: path)
        guard file.metadata?["pixelgpt.shard_plan"] == plan else { throw TaskError(task: path, key: "pixelgpt.shard_plan", reason: "a piece of another plan") }
        let features = try file.tensor(named: "features"), indices = try file.tensor(named: "row_index")
        guard features.shape.count == 2, indices.dtype == .i64, indices.shape == [features.shape[0]] else {
            throw TaskError(task: path, key: "features", reason: "not a shard piece (features [N, H] and row_index [N] expected)")
        }
        return (try features.float32Values(), try indices.int64Values().map { Int($0) })
    }
}
