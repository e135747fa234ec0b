import Checkpoints
import Foundation
import Model
import Render
import SafeTensors
import Text

/// The main job: a checkpoint, a list of tasks and a modality in; per-row samples, metrics, results.json
/// and table.md out (DESIGN.md, "The data path of one evaluation").
public final class EvaluationRun {
    public enum HeadKind: String, Sendable, CaseIterable {
        /// The checkpoint's own bias-free score (fine-tuned checkpoints).
        case checkpoint
        /// A bias-free linear head trained here on pooled features of the train split.
        case probe
    }

    public struct Options: Sendable {
        public var modelPath: String
        public var tasks: [TaskDefinition]
        public var modality: TaskDefinition.Modality
        public var dataDirectory: String
        public var outputDirectory: String
        public var limit: Int?
        public var batchSize: Int = 8
        public var head: HeadKind = .probe
        public var pooling: PoolingRule = .upstream
        public var resume = false
        /// Evaluate this split instead of each task's reported one.
        public var split: TaskDefinition.Split?
        public var tokenizerPath: String?
        public var rendererDirectory: String?
        public var cacheDirectory: String?
        /// Read pixels from the original's pre-rendered datasets (`rendered_files`) instead of rendering.
        public var renderedDatasets = false
        public var trainLimit = 2000
        public var probeL2 = 1.0
        public var threads = 1
        public var toolVersion = "dev"

        public init(modelPath: String, tasks: [TaskDefinition], modality: TaskDefinition.Modality, dataDirectory: String, outputDirectory: String) {
            self.modelPath = modelPath
            self.tasks = tasks
            self.modality = modality
            self.dataDirectory = dataDirectory
            self.outputDirectory = outputDirectory
        }
    }

    public let options: Options
    let loaded: LoadedModel
    let tokenizer: SentencePieceTokenizer?
    let tokenizerHash: String?
    let renderer: TextRenderer?
    let cache: FeatureCache
    let checkpointHash: String
    /// Progress and notes go here (stderr in the tool).
    let log: (String) -> Void
    let progress: ProgressLine

    public init(options: Options, log: @escaping (String) -> Void, progressOutput: @escaping (String) -> Void) throws {
        self.options = options
        self.log = log
        progress = ProgressLine(output: progressOutput)
        loaded = try PixelGPTModel.load(path: options.modelPath)
        log("model: \(options.modelPath) (\(loaded.model.config.architecture), \(loaded.memorySummary))")
        try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)
        cache = try FeatureCache(directory: options.cacheDirectory ?? (options.outputDirectory as NSString).appendingPathComponent("features"))
        checkpointHash = try Self.weightHashes(loaded.location).joined(separator: ",")
        if options.modality != .pixel {
            let path = try options.tokenizerPath ?? Self.defaultTokenizer(loaded.location, dataDirectory: options.dataDirectory)
            tokenizer = try SentencePieceTokenizer(contentsOf: path)
            // A directory holds the tokenizer under one of its usual names; hash the file actually read.
            let file = SentencePieceTokenizer.fileNames.map { path + "/" + $0 }.first { FileManager.default.fileExists(atPath: $0) } ?? path
            tokenizerHash = try Checkpoints.SHA256.hexDigest(ofFile: file)
            log("tokenizer: \(path)")
        } else {
            tokenizer = nil
            tokenizerHash = nil
        }
        if options.modality != .text {
            let directory = try options.rendererDirectory ?? RendererLocation.defaultDirectory()
            renderer = try TextRenderer(directory: directory)
            log("renderer: \(directory)")
        } else {
            renderer = nil
        }
    }

    static func weightHashes(_ location: CheckpointLocation) throws -> [String] {
        let files: [String]
        switch location.weights {
        case .safetensors(let p), .hdf5(let p): files = [p]
        case .shardedSafeTensors(let index), .shardedHDF5(let index):
            let directory = (index as NSString).deletingLastPathComponent
            files = try ShardIndex.read(path: index).shardFiles.map { directory + "/" + $0 }
        }
        return try files.map { "\(($0 as NSString).lastPathComponent):\(try Checkpoints.SHA256.hexDigest(ofFile: $0))" }
    }

    /// The checkpoint's own tokenizer, else the Llama-2 tokenizer of the data directory (the same file the
    /// released checkpoints ship; SPEC 6).
    static func defaultTokenizer(_ location: CheckpointLocation, dataDirectory: String) throws -> String {
        if let directory = location.directory, SentencePieceTokenizer.fileNames.contains(where: { FileManager.default.fileExists(atPath: directory + "/" + $0) }) {
            return directory
        }
        let shared = (dataDirectory as NSString).appendingPathComponent("tokenizer/llama2/tokenizer.model")
        if FileManager.default.fileExists(atPath: shared) { return shared }
        if let data = ProcessInfo.processInfo.environment["PIXELGPT_DATA"] {
            let path = (data as NSString).appendingPathComponent("tokenizer/llama2/tokenizer.model")
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw TaskError(task: location.path, key: "tokenizer", reason: "the checkpoint has no tokenizer.model/tokenizer.json; give --tokenizer")
    }

    /// Runs every task and writes results.json and table.md. Returns the results.
    public func run() throws -> EvaluationResults {
        var results: [EvaluationResults.TaskResult] = []
        var skipped: [EvaluationResults.SkippedTask] = []
        for task in options.tasks {
            guard task.pixelgpt.modalities.contains(options.modality) else {
                skipped.append(.init(task: task.task, reason: "no \(options.modality.rawValue) modality"))
                continue
            }
            do {
                results.append(try evaluate(task))
            } catch let missing as MissingData {
                log("skipped \(task.task): \(missing.reason)")
                skipped.append(.init(task: task.task, reason: missing.reason))
            }
        }
        let config = loaded.model.config
        let output = EvaluationResults(
            schema: EvaluationResults.schema, version: EvaluationResults.version, toolVersion: options.toolVersion,
            created: ISO8601DateFormatter().string(from: Date()),
            model: .init(path: options.modelPath, weightsSHA256: checkpointHash.split(separator: ",").map(String.init),
                         architecture: config.architecture, hiddenSize: config.hiddenSize, layers: config.numHiddenLayers),
            modality: options.modality.rawValue, pooling: options.pooling.rawValue, batchSize: options.batchSize,
            limit: options.limit, threads: options.threads, seed: 0, dataDirectory: options.dataDirectory,
            tokenizerSHA256: tokenizerHash, renderer: try renderer?.environment(), tasks: results, skipped: skipped)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(Array(try encoder.encode(output)) + [0x0A], to: (options.outputDirectory as NSString).appendingPathComponent("results.json"))
        let scores = Dictionary(uniqueKeysWithValues: results.map { r in
            (r.task, Dictionary(uniqueKeysWithValues: r.metrics.compactMap { k, v in MetricName(rawValue: k).map { ($0, v) } }))
        })
        let label = "\((options.modelPath as NSString).lastPathComponent) (\(options.modality.rawValue), \(options.head.rawValue) head)"
        try AtomicFile.write(Array(LeaderboardTable.markdown(rows: [(label: label, scores: scores)]).utf8),
                             to: (options.outputDirectory as NSString).appendingPathComponent("table.md"))
        return output
    }

    struct MissingData: Error { let reason: String }

    var readsRenderedDatasets: Bool { options.renderedDatasets && options.modality != .text }

    /// The file of `split` (the pre-rendered one with --rendered), labeled when possible; nil when the data
    /// directory does not have it.
    func dataFile(_ task: TaskDefinition, _ split: TaskDefinition.Split) -> String? {
        let candidates = readsRenderedDatasets ? [task.renderedFiles?[split]] : [task.dataFiles[split], task.unlabeledFiles?[split]]
        for relative in candidates.compactMap({ $0 }) {
            let path = (options.dataDirectory as NSString).appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    func read(_ file: String, task: TaskDefinition, split: TaskDefinition.Split) throws -> DatasetSplit {
        readsRenderedDatasets ? try DatasetReader.readRendered(file, task: task) : try DatasetReader.read(file, task: task, split: split)
    }

    /// Pixels of `file`'s rows from the pre-rendered file, with the transform of the original's script for
    /// this task and modality (SPEC 5.6); nil when rendering here.
    func renderedImages(_ file: String, task: TaskDefinition, featurizer: Featurizer) throws -> RenderedImages? {
        guard readsRenderedDatasets else { return nil }
        return try RenderedImages(path: file, transform: .forScript(xnli: task.tag.contains("xnli"), pair: options.modality == .pair),
                                  maxSeqLength: featurizer.sequenceLength)
    }

    func evaluate(_ task: TaskDefinition) throws -> EvaluationResults.TaskResult {
        // The reported split, or the validation split when the reported one is absent or unlabeled here
        // (the public XNLI test copy): said in the results, never silently.
        var split = options.split ?? task.pixelgpt.reportedSplit
        var file = dataFile(task, split)
        var data = try file.map { try read($0, task: task, split: split) }
        var note: String?
        if options.split == nil, split != .validation, data?.isLabeled != true, let validation = dataFile(task, .validation) {
            note = "the \(split.rawValue) split is \(data == nil ? "absent" : "unlabeled") in \(options.dataDirectory); evaluated validation"
            log("\(task.task): \(note!)")
            split = .validation
            file = validation
            data = try read(validation, task: task, split: split)
        }
        guard let file, let data else { throw MissingData(reason: "no \(split.rawValue) data under \(options.dataDirectory)") }
        for problem in data.problems.prefix(5) { log("warning: \(problem)") }
        if data.problems.count > 5 { log("warning: \(data.problems.count - 5) more unreadable rows in \(file)") }
        let rows = options.limit.map { Array(data.rows.prefix($0)) } ?? data.rows
        let sequenceLength = task.pixelgpt.sequenceLength[options.modality]!
        let featurizer = try Featurizer(model: loaded.model, modality: options.modality, sequenceLength: sequenceLength,
                                        pooling: options.pooling, tokenizer: tokenizer, renderer: renderer)
        let samplesPath = (options.outputDirectory as NSString).appendingPathComponent("samples_\(task.task).jsonl")
        let log = try SampleLog(path: samplesPath, resume: options.resume)
        let images = try renderedImages(file, task: task, featurizer: featurizer)
        let head = try makeHead(task, featurizer: featurizer, evaluated: rows, split: split, images: images)

        // Rows already in the samples log (a resumed run) are not computed again. Batches are always the
        // consecutive groups of all rows in file order, so a resumed run batches (and, in pair mode, pools)
        // exactly as an uninterrupted one; a batch with some rows done is recomputed, its done rows kept.
        let batch = featurizer.effectiveBatchSize(options.batchSize)
        let alreadyDone = rows.filter { log.records[$0.index] != nil }.count
        if alreadyDone > 0 { self.log("\(task.task): resuming, \(alreadyDone) of \(rows.count) rows done") }
        let started = Date()
        var computed = 0
        for start in stride(from: 0, to: rows.count, by: batch) {
            let chunk = Array(rows[start..<min(rows.count, start + batch)])
            guard chunk.contains(where: { log.records[$0.index] == nil }) else { continue }
            let features = try head.features(for: chunk, featurizer: featurizer, rendered: images)
            var records: [SampleRecord] = []
            for (i, row) in chunk.enumerated() where log.records[row.index] == nil {
                let logits = head.probe.logits(features[(i * head.probe.featureSize)..<((i + 1) * head.probe.featureSize)])
                let prediction = task.outputType == .regression ? logits[0] : Double(logits.indices.max { logits[$0] < logits[$1] }!)
                records.append(SampleRecord(index: row.index, label: row.label?.value, prediction: prediction, logits: logits.map(Float.init)))
            }
            try log.append(records)
            computed += records.count
            progress.update("\(task.task) [\(options.modality.rawValue)]", done: alreadyDone + computed, total: rows.count, since: started, newlyDone: computed)
        }
        progress.finish()

        let evaluatedIndices = Set(rows.map(\.index))
        let scored = log.orderedRecords.filter { $0.label != nil && evaluatedIndices.contains($0.index) }
        var metrics: [String: Double] = [:]
        if !scored.isEmpty {
            for metric in task.metricList.map(\.metric) {
                metrics[metric.rawValue] = Metrics.value(metric, predictions: scored.map(\.prediction), labels: scored.map { $0.label! })
            }
        }
        let combined = Metrics.combinedScore(task.metricList.compactMap { metrics[$0.metric.rawValue] })
        self.log("\(task.task): " + (metrics.isEmpty ? "no labels, predictions only" : metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))" }.joined(separator: ", ")))
        return .init(task: task.task, taskVersion: task.metadata.version, split: split.rawValue, splitNote: note, file: file,
                     rows: rows.count, skippedRows: data.problems.count, problems: data.problems.prefix(20).map(\.description),
                     labeled: !scored.isEmpty, metrics: metrics, combinedScore: combined, selectionMetric: task.pixelgpt.selectionMetric.rawValue,
                     head: head.info, samplesFile: (samplesPath as NSString).lastPathComponent)
    }

    /// A head and how it gets the features of a chunk of evaluated rows.
    struct Head {
        let probe: LinearProbe
        let info: EvaluationResults.HeadInfo
        /// Precomputed features of all evaluated rows (cross-fit), by row index.
        let precomputed: [Int: ArraySlice<Float>]?

        func features(for rows: [ExampleRow], featurizer: Featurizer, rendered: RenderedImages?) throws -> [Float] {
            if let precomputed {
                return rows.flatMap { Array(precomputed[$0.index]!) }
            }
            return try featurizer.features(of: rows, batchSize: rows.count, rendered: rendered)
        }
    }

    func featureKey(_ task: TaskDefinition, split: TaskDefinition.Split, featurizer: Featurizer, limit: Int?) -> FeatureCache.Key {
        FeatureCache.Key(checkpoint: checkpointHash, task: task.task, taskVersion: task.metadata.version, split: split.rawValue,
                         modality: options.modality.rawValue, sequenceLength: featurizer.sequenceLength,
                         renderer: readsRenderedDatasets ? "pre-rendered" : try? renderer.map { r in try r.environment().fontsConfSHA256 + "/" + r.fontDescriptionString },
                         tokenizer: tokenizerHash, pooling: "\(options.pooling.rawValue)/\(featurizer.effectiveBatchSize(options.batchSize))",
                         limit: limit)
    }

    /// Features of `rows` of `split`, from the cache or computed (and cached).
    func cachedFeatures(_ task: TaskDefinition, split: TaskDefinition.Split, rows: [ExampleRow], featurizer: Featurizer, limit: Int?,
                        images: RenderedImages?) throws -> [Float] {
        let key = featureKey(task, split: split, featurizer: featurizer, limit: limit)
        if let entry = try cache.load(key), entry.rowIndices == rows.map(\.index) { return entry.features }
        let started = Date()
        let features = try featurizer.features(of: rows, batchSize: options.batchSize, rendered: images) { done in
            progress.update("\(task.task) [\(options.modality.rawValue), \(split.rawValue) features]", done: done, total: rows.count, since: started, newlyDone: done)
        }
        progress.finish()
        try cache.store(.init(rowIndices: rows.map(\.index), features: features, featureSize: featurizer.featureSize), for: key)
        return features
    }

    func makeHead(_ task: TaskDefinition, featurizer: Featurizer, evaluated: [ExampleRow], split: TaskDefinition.Split,
                  images: RenderedImages?) throws -> Head {
        let h = featurizer.featureSize
        switch options.head {
        case .checkpoint:
            guard let score = loaded.model.weights.score else {
                throw TaskError(task: options.modelPath, key: "score.weight", reason: "the checkpoint has no classification head; use --head probe")
            }
            guard score.shape == [task.numLabels, h] else {
                throw TaskError(task: options.modelPath, key: "score.weight", reason: "shape \(score.shape) does not fit \(task.task) (\(task.numLabels) labels, hidden \(h))")
            }
            let weight = score.withFloat32 { $0.map(Double.init) }
            return Head(probe: LinearProbe(numLabels: task.numLabels, featureSize: h, weight: weight),
                        info: .init(kind: "checkpoint", trainedOn: nil, trainingRows: nil, l2: nil), precomputed: nil)
        case .probe:
            if split != .train, let trainFile = dataFile(task, .train) {
                let train = try read(trainFile, task: task, split: .train)
                let rows = Array(train.rows.filter { $0.label != nil }.prefix(options.trainLimit))
                guard !rows.isEmpty else { throw MissingData(reason: "the train split has no labelled rows") }
                let features = try cachedFeatures(task, split: .train, rows: rows, featurizer: featurizer, limit: options.trainLimit,
                                                  images: try renderedImages(trainFile, task: task, featurizer: featurizer))
                return Head(probe: fit(task, features: features, rows: rows, featureSize: h),
                            info: .init(kind: "probe", trainedOn: "train (\(trainFile))", trainingRows: rows.count, l2: options.probeL2), precomputed: nil)
            }
            // No train split here (XNLI's translated training data, QNLI train): k-fold cross-fitting over
            // the evaluated rows, each row predicted by a head trained on the other folds only.
            let labeled = evaluated.filter { $0.label != nil }
            guard labeled.count >= 10 else { throw MissingData(reason: "no train split and too few labelled rows to cross-fit a probe") }
            let features = try cachedFeatures(task, split: split, rows: evaluated, featurizer: featurizer, limit: options.limit, images: images)
            // Folds are contiguous blocks of the file, not interleaved rows: XNLI lists each premise three
            // times in a row (one per label), and a head trained on a premise's other rows would learn to
            // predict the wrong label for the held-out one.
            let folds = 5
            func fold(_ position: Int) -> Int { position * folds / evaluated.count }
            var byIndex: [Int: ArraySlice<Float>] = [:]
            var foldOf: [Int: Int] = [:]
            for (i, row) in evaluated.enumerated() {
                byIndex[row.index] = features[(i * h)..<((i + 1) * h)]
                foldOf[row.index] = fold(i)
            }
            var crossFit: [Int: [Double]] = [:]
            for k in 0..<folds {
                let trainRows = labeled.filter { foldOf[$0.index] != k }
                let probe = fit(task, features: trainRows.flatMap { Array(byIndex[$0.index]!) }, rows: trainRows, featureSize: h)
                for row in evaluated where foldOf[row.index] == k {
                    crossFit[row.index] = probe.logits(byIndex[row.index]!)
                }
            }
            // The per-row logits become a "head" that returns them: features are one-hot row selectors.
            return try crossFitHead(crossFit, evaluated: evaluated, numLabels: task.numLabels, folds: folds, labeled: labeled.count)
        }
    }

    /// Cross-fitted logits served through the same interface: each row's "feature" is its logits and the
    /// head is the identity.
    func crossFitHead(_ logits: [Int: [Double]], evaluated: [ExampleRow], numLabels: Int, folds: Int, labeled: Int) throws -> Head {
        var identity = [Double](repeating: 0, count: numLabels * numLabels)
        for k in 0..<numLabels { identity[k * numLabels + k] = 1 }
        var precomputed: [Int: ArraySlice<Float>] = [:]
        for row in evaluated { precomputed[row.index] = ArraySlice(logits[row.index]!.map(Float.init)) }
        return Head(probe: LinearProbe(numLabels: numLabels, featureSize: numLabels, weight: identity),
                    info: .init(kind: "probe-crossfit", trainedOn: "\(folds)-fold cross-fit on the evaluated rows", trainingRows: labeled * (folds - 1) / folds, l2: options.probeL2),
                    precomputed: precomputed)
    }

    func fit(_ task: TaskDefinition, features: [Float], rows: [ExampleRow], featureSize: Int) -> LinearProbe {
        switch task.outputType {
        case .regression:
            LinearProbe.ridgeRegression(features: features, targets: rows.map { $0.label!.value }, featureSize: featureSize, l2: options.probeL2)
        case .classification:
            LinearProbe.logisticRegression(features: features, labels: rows.map { Int($0.label!.value) }, featureSize: featureSize,
                                           numLabels: task.numLabels, l2: options.probeL2, maxIterations: 200)
        }
    }
}

/// One progress line on stderr: rows, rate and ETA, redrawn at most five times a second.
final class ProgressLine: @unchecked Sendable {
    private let output: (String) -> Void
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(output: @escaping (String) -> Void) { self.output = output }

    func update(_ label: String, done: Int, total: Int, since: Date, newlyDone: Int) {
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.2 || done == total else { return }
        lastDraw = now
        let elapsed = max(1e-3, now.timeIntervalSince(since))
        let rate = Double(newlyDone) / elapsed
        let eta = rate > 0 ? Double(total - done) / rate : 0
        output(String(format: "\r%@ %d/%d rows, %.1f rows/s, ETA %.0f s   ", label, done, total, rate, eta))
        drawn = true
    }

    func finish() {
        if drawn { output("\n") }
        drawn = false
    }
}
