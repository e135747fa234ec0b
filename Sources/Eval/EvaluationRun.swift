import Checkpoints
import Foundation
import Support
import Model
import Render
import SafeTensors
import Text

/// The main job: a checkpoint, a list of tasks and a modality in; per-row samples, metrics and results.json
/// out. table.md is the Report module's (`RunTable`).
public final class EvaluationRun {
    public enum HeadKind: String, Sendable, CaseIterable {
        /// The checkpoint's own bias-free score (fine-tuned checkpoints).
        case checkpoint
        /// A bias-free linear head trained here on pooled features of the train split.
        case probe
        /// The bias-free score trained here like the original's Trainer (AdamW, schedule, early stopping on a
        /// selection split; SPEC 8), on cached features, for each seed (docs/heads.md).
        case finetune
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
        /// Fine-tuned heads: one per seed; metrics are their mean (SPEC 8 used the single seed 42).
        public var seeds = [42]
        /// Command-line head hyper-parameters, over each task's `pixelgpt.head` block and the defaults.
        public var headOverrides: HeadTrainingSettings.Overrides?
        public var selectOn = SelectionTarget.heldOut
        /// How a shared-head group's head is trained (`TaskGroup.SharedHead`; XNLI's two settings).
        public var xnliSetting = XNLISetting.trainAll
        /// Tasks whose data trains and selects a shared head: the members of each task's shared-head group
        /// among them (all 15 XNLI languages for train-all, from the registry); those of `tasks` when empty.
        public var trainingPool: [TaskDefinition] = []
        /// Where --save-heads writes each fine-tuned head as an ErniePixelForSequenceClassification checkpoint.
        public var saveHeadsDirectory: String?
        /// `--train-layers K`: fine-tune the last K decoder layers and the final norm with the score
        /// (finetune only; 0 = the score alone on cached features). docs/heads.md.
        public var trainLayers = 0
        /// Refuse a K ≥ 1 run whose tail examples (the frozen inputs of layer N − K) would exceed this.
        public var tailMemoryLimit = 4 << 30
        /// Kernel threads for every forward pass of the run (nil: the process default, `--threads`). Results
        /// do not depend on it (batch- and thread-invariant kernels); results.json records the count used.
        public var threads: Int?
        public var toolVersion = "dev"
        /// Recorded in results.json (the tool's arguments).
        public var commandLine = CommandLine.arguments
        /// `--label`: the run's name in reports, recorded in results.json.
        public var label: String?
        /// The tool's git revision, recorded in results.json (null when nil: the caller knows none).
        public var gitRevision: String?

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
    /// SHA-256 of what the renderer's strips depend on (libraries, fonts, settings); nil in text modality.
    let rendererIdentity: String?
    /// OUTPUT/run.json: what this run's outputs depend on, checked by --resume.
    var provenance: RunProvenance
    /// SHA-256 of the data files read, by path (hashed once per run).
    var dataDigests: [String: String] = [:]
    /// The data files the task being evaluated has read so far (results.json's per-task `data_sha256`).
    var taskDataFiles: Set<String> = []
    /// Progress and notes go here (stderr in the tool).
    let log: (String) -> Void
    let progress: ProgressLine
    /// Fine-tuned heads already trained in this run, by group (a task, or a shared-head group's head).
    var trainedGroups: [String: TrainedGroup] = [:]
    /// Set during a sharded run's planning pass (`runShard`): feature requests are recorded, not computed.
    var featurePlanner: FeaturePlanner?

    public init(options: Options, log: @escaping (String) -> Void, progressOutput: @escaping (String) -> Void) throws {
        try options.validate()
        self.options = options
        self.log = log
        progress = ProgressLine(output: progressOutput)
        loaded = try PixelGPTModel.load(path: options.modelPath)
        log("model: \(options.modelPath) (\(loaded.model.config.architecture), \(loaded.memorySummary))")
        if options.trainLayers != 0 {
            let n = loaded.model.config.numHiddenLayers
            guard options.head == .finetune else {
                throw TaskError(task: "eval", key: "train-layers", reason: "only applies to --head finetune")
            }
            guard (0...n).contains(options.trainLayers) else {
                throw TaskError(task: options.modelPath, key: "train-layers", reason: "\(options.trainLayers) is outside 0...\(n) (the model has \(n) decoder layers)")
            }
        }
        try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)
        cache = try FeatureCache(directory: options.cacheDirectory ?? (options.outputDirectory as NSString).appendingPathComponent("features"))
        checkpointHash = try Self.weightHashes(loaded.location).joined(separator: ",")
        if options.modality != .pixel {
            let path = try options.tokenizerPath ?? Self.defaultTokenizer(loaded.location, dataDirectory: options.dataDirectory)
            tokenizer = try SentencePieceTokenizer(contentsOf: path)
            // A directory holds the tokenizer under one of its usual names; hash the file actually read.
            let file = SentencePieceTokenizer.fileNames.map { path + "/" + $0 }.first { FileManager.default.fileExists(atPath: $0) } ?? path
            tokenizerHash = try SHA256.hexDigest(ofFile: file)
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
        rendererIdentity = try renderer.map { try Self.identity(of: $0) }
        provenance = try Self.startProvenance(options, settings: [
            "weights": checkpointHash, "tokenizer": tokenizerHash ?? "none", "renderer": rendererIdentity ?? "none",
            "modality": options.modality.rawValue, "pooling": options.pooling.rawValue, "batch-size": "\(options.batchSize)",
            "limit": options.limit.map { "\($0)" } ?? "none", "head": options.head.rawValue, "split": options.split?.rawValue ?? "reported",
            "train-limit": "\(options.trainLimit)", "probe-l2": "\(options.probeL2)", "seeds": options.seeds.map { "\($0)" }.joined(separator: ","),
            "head-options": Self.canonicalJSON(options.headOverrides), "select-on": options.selectOn.rawValue,
            "xnli-setting": options.xnliSetting.rawValue, "train-layers": "\(options.trainLayers)", "rendered": "\(options.renderedDatasets)",
            "training-pool": options.trainingPool.map(\.task).joined(separator: ","),
        ])
        try removeStaleSamples()
    }

    /// Runs every task and writes results.json. Returns the results.
    public func run() throws -> EvaluationResults {
        try BLASRuntime.withThreads(options.threads ?? BLASRuntime.threads) { try runTasks() }
    }

    private func runTasks() throws -> EvaluationResults {
        let started = Date()
        var results: [EvaluationResults.TaskResult] = []
        var skipped: [EvaluationResults.SkippedTask] = []
        var failures: [NothingEvaluated] = []
        for task in options.tasks {
            guard task.pixelgpt.modalities.contains(options.modality) else {
                skipped.append(.init(task: task.task, reason: "no \(options.modality.rawValue) modality"))
                continue
            }
            do {
                results.append(try evaluate(task))
            } catch let missing as MissingData {
                // Said once: by the caller after the run, or in the error below when no task ran.
                skipped.append(.init(task: task.task, reason: missing.reason))
            } catch let nothing as NothingEvaluated {
                // The other tasks still run and results.json records this one as skipped; the run then fails.
                log("warning: \(nothing)")
                skipped.append(.init(task: task.task, reason: nothing.description))
                failures.append(nothing)
            }
        }
        let config = loaded.model.config
        var output = EvaluationResults(
            schema: EvaluationResults.schema, version: EvaluationResults.version, toolVersion: options.toolVersion,
            created: ISO8601DateFormatter().string(from: Date()),
            model: .init(path: options.modelPath, weightsSHA256: checkpointHash.split(separator: ",").map(String.init),
                         architecture: config.architecture, hiddenSize: config.hiddenSize, layers: config.numHiddenLayers),
            modality: options.modality.rawValue, pooling: options.pooling.rawValue, batchSize: options.effectiveBatchSize,
            limit: options.limit, threads: BLASRuntime.threads, gemmInstructionSet: BLASRuntime.gemmInstructionSet,
            seed: options.head == .finetune ? options.seeds.first : nil, dataDirectory: options.dataDirectory,
            tokenizerSHA256: tokenizerHash, renderer: try renderer?.environment(), tasks: results, skipped: skipped)
        output.requestedBatchSize = options.batchSize
        output.seeds = options.head == .finetune ? options.seeds : nil
        output.blasCore = BLASRuntime.coreName
        output.commandLine = options.commandLine
        output.label = options.label
        output.blasThreads = BLASRuntime.blasThreads
        output.cpu = JSONNullable(HostCPU.current())
        output.gitRevision = JSONNullable(options.gitRevision)
        output.dataSHA256 = dataDigestTable(dataDigests.keys)
        output.runtimeSeconds = Self.rounded(Date().timeIntervalSince(started))
        output.indexTasksByName()
        // A sharded run's planning pass has zero features: its metrics mean nothing and are not written.
        guard featurePlanner == nil else { return output }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(Array(try encoder.encode(output)) + [0x0A], to: (options.outputDirectory as NSString).appendingPathComponent("results.json"))
        if results.isEmpty, failures.isEmpty, !skipped.isEmpty {
            // A run that evaluated nothing must not pass as a success (a CI job would pass silently).
            throw TaskError(task: "eval", key: "nothing evaluated", reason: skipped.prefix(3).map { "\($0.task): \($0.reason)" }.joined(separator: "; ")
                            + (skipped.count > 3 ? " (and \(skipped.count - 3) more tasks, listed in results.json)" : ""))
        }
        if let failure = failures.first {
            throw TaskError(task: failure.file, key: failure.task, reason: TerminalText.escaped("evaluates nothing: \(failure.reason)")
                            + (failures.count > 1 ? " (and \(failures.count - 1) more tasks, listed in results.json)" : ""))
        }
        return output
    }

    struct MissingData: Error { let reason: String }

    /// A data file that is there but gives no row (empty, a header only, binary, every row malformed): the
    /// task evaluates nothing, which must not look like a successful run.
    struct NothingEvaluated: Error, CustomStringConvertible {
        let file: String
        let task: String
        let reason: String
        var description: String { TerminalText.escaped("\(file): \(task) evaluates nothing: \(reason)") }

        init(_ data: DatasetSplit, task: String, what: String = "data row") {
            file = data.file
            self.task = task
            if let first = data.problems.first {
                reason = "no readable \(what), \(data.problems.count) unreadable (first, line \(first.line): \(first.reason))"
            } else {
                reason = "no \(what) (an empty file, or a header only)"
            }
        }
    }

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

    /// Names the file `split` would be read from (the pre-rendered .gz with --rendered), for the one line that
    /// says it is missing.
    func missingReason(_ task: TaskDefinition, _ split: TaskDefinition.Split) -> String {
        let relative = readsRenderedDatasets ? task.renderedFiles?[split] : task.dataFiles[split] ?? task.unlabeledFiles?[split]
        guard let relative else { return "the task defines no \(readsRenderedDatasets ? "pre-rendered " : "")\(split.rawValue) file" }
        return "no \(split.rawValue) data: \((options.dataDirectory as NSString).appendingPathComponent(relative)) is missing"
    }

    func read(_ file: String, task: TaskDefinition, split: TaskDefinition.Split) throws -> DatasetSplit {
        let data: DatasetSplit
        if readsRenderedDatasets {
            data = try DatasetReader.readRendered(file, task: task)
        } else {
            let unlabeled = task.unlabeledFiles?[split].map { (options.dataDirectory as NSString).appendingPathComponent($0) } == file
            data = try DatasetReader.read(file, task: task, split: split, unlabeled: unlabeled)
        }
        // Every file read is hashed (once per run) for results.json, after the reader's own checks spoke.
        _ = try dataHash(file)
        return data
    }

    /// Pixels of `file`'s rows from the pre-rendered file, with the transform of the original's script for
    /// this task and modality (SPEC 5.6); nil when rendering here.
    func renderedImages(_ file: String, task: TaskDefinition, featurizer: Featurizer) throws -> RenderedImages? {
        guard readsRenderedDatasets else { return nil }
        return try RenderedImages(path: file, transform: Self.renderedTransform(task, modality: options.modality),
                                  maxSeqLength: featurizer.sequenceLength)
    }

    /// Image-text scripts neither convert nor resize; image scripts convert, then crop or resize as the
    /// task's `pixelgpt.rendered_geometry` says (SPEC 5.6).
    static func renderedTransform(_ task: TaskDefinition, modality: TaskDefinition.Modality) -> ImageTransform {
        modality == .pair ? .imageText : ImageTransform(convertToRGB: true, geometry: task.pixelgpt.renderedGeometry == .bicubic ? .bicubic : .crop)
    }

    /// The rows a task reports on: the reported split (or --split), else validation when the reported one
    /// is absent or unlabeled here (the public XNLI test copy), said in `note`, never silently.
    struct EvaluatedData {
        let split: TaskDefinition.Split
        let file: String
        let data: DatasetSplit
        let note: String?
        /// The first --limit rows.
        let rows: [ExampleRow]
    }

    func evaluatedData(_ task: TaskDefinition, quiet: Bool = false) throws -> EvaluatedData {
        var split = options.split ?? task.pixelgpt.reportedSplit
        var file = dataFile(task, split)
        var data = try file.map { try read($0, task: task, split: split) }
        var note: String?
        if options.split == nil, split != .validation, data?.isLabeled != true, let validation = dataFile(task, .validation) {
            note = "the \(split.rawValue) split is \(data == nil ? "absent" : "unlabeled") in \(options.dataDirectory); evaluated validation"
            if !quiet { log("\(task.task): \(note!)") }
            split = .validation
            file = validation
            data = try read(validation, task: task, split: split)
        }
        guard let file, let data else { throw MissingData(reason: missingReason(task, split)) }
        return EvaluatedData(split: split, file: file, data: data, note: note, rows: options.limit.map { Array(data.rows.prefix($0)) } ?? data.rows)
    }

    func makeFeaturizer(_ task: TaskDefinition) throws -> Featurizer {
        let length = task.pixelgpt.sequenceLength[options.modality]!
        // A length the forward pass would refuse is refused before the task's samples file is opened.
        do {
            try ResourceLimits.checkForward(config: loaded.model.config, batch: 1, patches: options.modality == .text ? 0 : length,
                                            tokens: options.modality == .text ? length : 0, hiddenStates: false, lmHeads: false)
        } catch {
            throw TaskError(task: task.task, key: "pixelgpt.sequence_length", reason: "\(error)")
        }
        return try Featurizer(model: loaded.model, modality: options.modality, sequenceLength: length,
                              pooling: options.pooling, tokenizer: tokenizer, renderer: renderer)
    }

    /// argmax for classification, the raw scalar for regression (SPEC 4).
    static func prediction(_ logits: [Double], regression: Bool) -> Double {
        regression ? logits[0] : Double(logits.indices.max { logits[$0] < logits[$1] }!)
    }

    /// Seconds to the millisecond: wall times are provenance, not measurements to compare bit for bit.
    static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }

    func evaluate(_ task: TaskDefinition) throws -> EvaluationResults.TaskResult {
        let taskStarted = Date()
        taskDataFiles = []
        var result = try evaluateRows(task)
        result.dataSHA256 = dataDigestTable(taskDataFiles)
        let seconds = Date().timeIntervalSince(taskStarted)
        result.runtimeSeconds = Self.rounded(seconds)
        result.rowsPerSecond = seconds > 0 ? Self.rounded(Double(result.rows) / seconds) : nil
        return result
    }

    func evaluateRows(_ task: TaskDefinition) throws -> EvaluationResults.TaskResult {
        let evaluated = try evaluatedData(task)
        let (split, file, data, note, rows) = (evaluated.split, evaluated.file, evaluated.data, evaluated.note, evaluated.rows)
        guard !data.rows.isEmpty else { throw NothingEvaluated(data, task: task.task) }
        for problem in data.problems.prefix(5) { log("warning: \(TerminalText.escaped(problem.description))") }
        if data.problems.count > 5 { log("warning: \(data.problems.count - 5) more unreadable rows in \(file)") }
        let featurizer = try makeFeaturizer(task)
        // The registry refuses such names already; a task decoded elsewhere must not escape --output-dir either.
        if let problem = TaskDefinition.fileNameProblem(task.task) { throw TaskError(task: task.task, key: "task", reason: problem) }
        let samplesPath = Self.samplesPath(task, in: options.outputDirectory)
        try recordTask(task, evaluated: evaluated, samplesPath: samplesPath)
        let log = try SampleLog(path: samplesPath, resume: options.resume)
        let rowsByIndex = Dictionary(rows.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, record) in log.records.sorted(by: { $0.key < $1.key }) {
            let problem = rowsByIndex[index].map { record.problem(against: $0, classes: task.outputType == .regression ? nil : task.numLabels) }
                ?? "row \(index) is not one of this run's \(rows.count) rows"
            if let problem { throw TaskError(task: samplesPath, key: "row \(index)", reason: problem + "; remove the file or run without --resume") }
        }
        let images = try renderedImages(file, task: task, featurizer: featurizer)
        var tuned: FinetunedTask?
        let head: Head
        if options.head == .finetune {
            let result = try finetunedHead(task, evaluated: evaluated, featurizer: featurizer, images: images)
            tuned = result
            head = Head(info: result.info, source: .logits(result.logitsBySeed[0]))
        } else {
            head = try evaluatedHead(try makeHead(task, featurizer: featurizer, evaluated: rows, split: split, images: images),
                                     task: task, split: split, rows: rows, featurizer: featurizer, images: images)
        }
        let regression = task.outputType == .regression

        // Rows already in the samples log (a resumed run) are not computed again. Chunks are always whole
        // consecutive groups of all rows in file order, so a resumed run pools (pair mode) exactly as an
        // uninterrupted one; a chunk with some rows done is recomputed, its done rows kept. A chunk spans
        // several batches so the featurizer can sort its rows by length (less padding).
        // Fine-tuned heads log the first seed's predictions (the others are in metrics_by_seed).
        let batch = featurizer.effectiveBatchSize(options.batchSize) * Self.batchesPerChunk
        let alreadyDone = rows.filter { log.records[$0.index] != nil }.count
        if alreadyDone > 0 { self.log("\(task.task): resuming, \(alreadyDone) of \(rows.count) rows done") }
        // A probe or checkpoint head reads the evaluated rows' features from the cache another head left, and
        // caches those it computes, so that another head over the same --cache-dir costs no forward pass.
        let evaluatedKey = try featureKey(task, split: split, featurizer: featurizer, limit: options.limit)
        // (`evaluatedHead` has already turned a cache hit into logits; those rows compute nothing here.)
        var collected: [Float]? = alreadyDone == 0 ? [] : nil
        let started = Date()
        var computed = 0
        for start in stride(from: 0, to: rows.count, by: batch) {
            let chunk = Array(rows[start..<min(rows.count, start + batch)])
            guard chunk.contains(where: { log.records[$0.index] == nil }) else { continue }
            let (logits, features) = try head.logits(for: chunk, featurizer: featurizer, batchSize: options.batchSize, rendered: images)
            if let features { collected? += features } else { collected = nil }
            var records: [SampleRecord] = []
            for (i, row) in chunk.enumerated() where log.records[row.index] == nil {
                records.append(SampleRecord(row: row, prediction: Self.prediction(logits[i], regression: regression), logits: logits[i].map(Float.init),
                                            labelNames: regression ? nil : task.labelList))
            }
            try log.append(records)
            computed += records.count
            progress.update("\(task.task) [\(options.modality.rawValue)]", done: alreadyDone + computed, total: rows.count, since: started, newlyDone: computed)
        }
        progress.finish()
        if let collected, collected.count == rows.count * featurizer.featureSize {
            try cache.store(.init(rowIndices: rows.map(\.index), features: collected, featureSize: featurizer.featureSize), for: evaluatedKey)
        }

        let evaluatedIndices = Set(rows.map(\.index))
        let scored = log.orderedRecords.filter { $0.label != nil && evaluatedIndices.contains($0.index) }
        // A metric undefined on these rows (a correlation of constant predictions or of one row, where scipy
        // warns and returns nan) is left out and said in `problems`: JSON has no NaN.
        func metricValues(predictions: [Double], labels: [Double]) -> [String: Double] {
            guard !labels.isEmpty else { return [:] }
            return Dictionary(uniqueKeysWithValues: task.metricList.map(\.metric).map { ($0.rawValue, Metrics.value($0, predictions: predictions, labels: labels)) })
                .filter { $0.value.isFinite }
        }
        var metrics = metricValues(predictions: scored.map(\.prediction), labels: scored.map { $0.label! })
        var metricsStd: [String: Double]?
        var metricsBySeed: [[String: Double]]?
        if let tuned {
            let labeled = rows.filter { $0.label != nil }
            let bySeed = tuned.logitsBySeed.map { logits in
                metricValues(predictions: labeled.map { Self.prediction(logits[$0.index]!, regression: regression) }, labels: labeled.map { $0.label!.value })
            }
            metricsBySeed = bySeed
            if bySeed.count > 1, !metrics.isEmpty {
                var std: [String: Double] = [:]
                for key in metrics.keys {
                    let values = bySeed.compactMap { $0[key] }
                    guard values.count == bySeed.count else { metrics[key] = nil; continue }  // undefined for some seed
                    let summary = Metrics.meanAndSampleStandardDeviation(values)
                    metrics[key] = summary.mean
                    std[key] = summary.standardDeviation
                }
                metricsStd = std
            }
        }
        var standardErrors: (values: [String: Double], methods: [String: String]) = ([:], [:])
        // (A sharded run's planning pass has zero features: no metric of it is written.)
        if !metrics.isEmpty, featurePlanner == nil {
            let names = task.metricList.map(\.metric)
            if let tuned, tuned.logitsBySeed.count > 1 {
                // The reported value is the mean over seeds: its standard error comes from every seed's predictions.
                let labeled = rows.filter { $0.label != nil }
                standardErrors = MetricStandardError.standardErrors(
                    names, predictionsBySeed: tuned.logitsBySeed.map { logits in labeled.map { Self.prediction(logits[$0.index]!, regression: regression) } },
                    labels: labeled.map { $0.label!.value })
            } else {
                standardErrors = MetricStandardError.standardErrors(names, predictionsBySeed: [scored.map(\.prediction)], labels: scored.map { $0.label! })
            }
        }
        var problems = data.problems.prefix(20).map(\.description)
        if !scored.isEmpty, featurePlanner == nil {
            for name in task.metricList.map(\.metric.rawValue) where metrics[name] == nil {
                let problem = "\(name): undefined on these \(scored.count) rows (constant predictions or labels, or a single row); left out"
                self.log("warning: \(task.task): " + problem)
                problems.append(problem)
            }
        }
        let combined = Metrics.combinedScore(task.metricList.compactMap { metrics[$0.metric.rawValue] })
        let stdText = { (key: String) in metricsStd?[key].map { String(format: " ± %.4f", $0) } ?? "" }
        if featurePlanner == nil { self.log("\(task.task): " + (metrics.isEmpty ? (scored.isEmpty ? "no labels, predictions only" : "no metric defined on these rows") : metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))\(stdText($0.key))" }.joined(separator: ", "))) }
        var result = EvaluationResults.TaskResult(
            task: task.task, taskVersion: task.metadata.version, split: split.rawValue, splitNote: note, file: file,
            rows: rows.count, skippedRows: data.problems.count, problems: problems,
            labeled: !scored.isEmpty, metrics: metrics, combinedScore: combined, selectionMetric: task.pixelgpt.selectionMetric.rawValue,
            head: head.info, samplesFile: (samplesPath as NSString).lastPathComponent, seeds: tuned?.seeds ?? [],
            metricsStd: metricsStd, metricsBySeed: metricsBySeed, selection: tuned?.selection)
        result.metricsStderr = standardErrors.values
        result.stderrMethod = standardErrors.methods
        result.labelNames = JSONNullable(regression ? nil : task.labelList)
        return result
    }

    /// A head and how it gets the logits of a chunk of evaluated rows.
    struct Head {
        enum Source {
            /// A linear head applied to the rows' features (computed batch by batch).
            case probe(LinearProbe)
            /// Logits already computed for every evaluated row (cross-fit and fine-tuned heads), by row index.
            case logits([Int: [Double]])
        }
        let info: EvaluationResults.HeadInfo
        let source: Source

        /// The logits of `rows`, and their features when computed here.
        func logits(for rows: [ExampleRow], featurizer: Featurizer, batchSize: Int, rendered: RenderedImages?) throws -> ([[Double]], [Float]?) {
            switch source {
            case .logits(let byIndex):
                return (rows.map { byIndex[$0.index]! }, nil)
            case .probe(let probe):
                let features = try featurizer.features(of: rows, batchSize: batchSize, rendered: rendered)
                return (rows.indices.map { probe.logits(features[($0 * probe.featureSize)..<(($0 + 1) * probe.featureSize)]) }, features)
            }
        }
    }

    /// Forward batches per chunk of the evaluation loop (and per samples-log append).
    static let batchesPerChunk = 4
}
