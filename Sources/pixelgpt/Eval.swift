import ArgumentParser
import Eval
import Foundation
import Model
import Report

extension TaskDefinition.Split: ExpressibleByArgument {}
extension EvaluationRun.HeadKind: ExpressibleByArgument {}
extension XNLISetting: ExpressibleByArgument {}
extension SelectionTarget: ExpressibleByArgument {}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on GLUE and XNLI tasks in text, pixel or pair modality.",
        discussion: """
            Writes results.json, samples_TASK.jsonl (one line per row, appended as rows finish) and table.md to \
            --output-dir. Features are cached under OUTPUT/features, so another head costs no forward passes; \
            --resume continues an interrupted run without redoing finished rows. --head finetune trains the \
            bias-free score with AdamW and early stopping on a selection split, once per --seeds value \
            (docs/heads.md); results.json then holds the mean, the standard deviation and each seed's metrics. \
            --train-layers K also fine-tunes the last K decoder layers and the final norm (slower; no feature cache).
            """
    )

    @Option(help: "Checkpoint directory (or weights file with an embedded config).")
    var model: String

    @Option(help: "Comma-separated task and group names (see `pixelgpt tasks`), e.g. glue,xnli or rte,xnli_en.")
    var tasks: String

    @Option(help: "text, pixel or pair.")
    var modality: TaskDefinition.Modality

    @Option(help: "Data directory holding glue/ and xnli/ as in samples/ (default: $PIXELGPT_DATA).")
    var dataDir: String?

    @Option(help: "Evaluate only the first N rows of each task.")
    var limit: Int?

    @Option(help: "Rows per forward pass (pair mode with upstream pooling always uses the original's 8).")
    var batchSize: Int = 8

    @Option(help: "Where results go.")
    var outputDir: String = "eval-results"

    @Option(help: "Kernel threads for the forward passes (default: the cores available, or OPENBLAS_NUM_THREADS). Results do not depend on it.")
    var threads: Int?

    @Option(help: "checkpoint (its own score head), probe (logistic/ridge regression on the train split) or finetune (AdamW-trained score, early stopping).")
    var head: EvaluationRun.HeadKind = .probe

    @Option(help: "upstream (the original's pooling, batch-dependent in pair mode) or last-real-token.")
    var pooling: PoolingRule = .upstream

    @Option(help: "Evaluate this split instead of each task's reported one (train, validation, test).")
    var split: TaskDefinition.Split?

    @Option(help: "Tokenizer file or directory (default: the checkpoint's, else DATA/tokenizer/llama2/tokenizer.model).")
    var tokenizer: String?

    @Option(help: "Renderer directory (default: the project's renderers/noto).")
    var renderer: String?

    @Option(help: "The tasks directory (default: the project's tasks/).")
    var tasksDir: String?

    @Option(help: "Feature cache directory (default: OUTPUT/features); share it between runs that differ only in the head.")
    var cacheDir: String?

    @Option(help: "Train rows used for a probe head.")
    var trainLimit: Int = 2000

    @Option(help: "finetune: comma-separated seeds, one head each; metrics are their mean (and sample std). Default 42.")
    var seeds: String?

    @Option(help: "finetune: held-out (validation when it is not reported, else the last 10% of train, else the next fold) or reported (the reported rows, as the paper did for GLUE). Default held-out.")
    var selectOn: SelectionTarget?

    @Option(help: "finetune, groups with a shared head (XNLI): train-all (every member's data, one shared head) or train-en (the group's source task, English, only). Default train-all.")
    var xnliSetting: XNLISetting?

    @Option(help: "finetune: write each trained head to DIR/GROUP/seed-S[/fold-K] as an ErniePixelForSequenceClassification checkpoint.")
    var saveHeads: String?

    @Option(help: "finetune: also fine-tune the final norm and the last K decoder layers (0 = the score alone; docs/heads.md).")
    var trainLayers: Int = 0

    @Option(help: "finetune: peak learning rate (default: the task's pixelgpt.head, else 1e-3).")
    var headLr: Double?

    @Option(help: "finetune: training batch size.")
    var headBatchSize: Int?

    @Option(help: "finetune: optimizer steps.")
    var headMaxSteps: Int?

    @Option(help: "finetune: epochs over the training rows (instead of --head-max-steps).")
    var headEpochs: Double?

    @Option(help: "finetune: linear warmup steps.")
    var headWarmupSteps: Int?

    @Option(help: "finetune: evaluate on the selection rows every N steps.")
    var headEvalEvery: Int?

    @Option(help: "finetune: stop after N evaluations without improvement.")
    var headPatience: Int?

    @Option(help: "finetune: AdamW decoupled weight decay.")
    var headWeightDecay: Double?

    @Flag(help: "Pixel and pair modality: read the original's pre-rendered datasets (rendered_glue, rendered_xnli) instead of rendering.")
    var rendered = false

    @Option(help: "A name for this run, recorded in results.json and used by `pixelgpt report` as its row name.")
    var label: String?

    @Flag(help: "Continue an interrupted run in --output-dir.")
    var resume = false

    @Option(help: "Compute only shard K of N (0 <= K < N) of the run's forward work into OUTPUT/shards/K-of-N; `pixelgpt merge OUTPUT` then writes the results (docs/cluster.md).")
    var shard: String?

    func run() throws {
        try reportingErrors { () throws in
            guard trainLayers == 0 || head == .finetune else {
                throw ValidationError("--train-layers \(trainLayers) only applies to --head finetune")
            }
            guard trainLayers >= 0 else { throw ValidationError("--train-layers \(trainLayers): give 0 or more layers") }
            try refuseFinetuneOptionsWithoutFinetune()
            guard let data = dataDir ?? ProcessInfo.processInfo.environment["PIXELGPT_DATA"] else {
                throw ValidationError("no data directory: give --data-dir or set PIXELGPT_DATA")
            }
            let registry = try TaskRegistry(directory: tasksDir ?? TaskRegistry.defaultDirectory())
            var options = EvaluationRun.Options(modelPath: model, tasks: try registry.resolve(tasks), modality: modality,
                                                dataDirectory: data, outputDirectory: outputDir)
            options.limit = limit
            options.batchSize = batchSize
            if let threads {
                guard (1...1024).contains(threads) else { throw ValidationError("--threads \(threads): give 1 to 1024") }
                BLASRuntime.setThreads(threads)
            }
            options.head = head
            options.pooling = pooling
            options.resume = resume
            options.split = split
            options.tokenizerPath = tokenizer
            options.rendererDirectory = renderer
            options.trainLimit = trainLimit
            options.cacheDirectory = cacheDir
            options.renderedDatasets = rendered
            options.label = label
            options.toolVersion = PixelGPT.toolVersion
            options.gitRevision = ToolRevision.ofRunningExecutable()
            let seeds = self.seeds ?? "42"
            let seedList = seeds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let parsedSeeds = seedList.compactMap { Int($0) }
            guard !parsedSeeds.isEmpty, parsedSeeds.count == seedList.count, Set(parsedSeeds).count == parsedSeeds.count else {
                throw ValidationError("--seeds \"\(seeds)\": give distinct integers separated by commas, e.g. 1,2,3")
            }
            options.seeds = parsedSeeds
            options.selectOn = selectOn ?? .heldOut
            options.xnliSetting = xnliSetting ?? .trainAll
            options.saveHeadsDirectory = saveHeads
            options.trainLayers = trainLayers
            options.trainingPool = registry.tasks.filter { $0.sharedHead != nil }
            var overrides = HeadTrainingSettings.Overrides()
            (overrides.learningRate, overrides.batchSize, overrides.maxSteps, overrides.epochs) = (headLr, headBatchSize, headMaxSteps, headEpochs)
            (overrides.warmupSteps, overrides.evalEvery, overrides.patience, overrides.weightDecay) = (headWarmupSteps, headEvalEvery, headPatience, headWeightDecay)
            if let problem = HeadTrainingSettings().applying(overrides).problems.first {
                throw ValidationError("head options: \(problem)")
            }
            options.headOverrides = overrides
            let progress: (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
            if let shard {
                let position = try ShardPosition(parsing: shard)
                options.outputDirectory = ShardLayout.planDirectory(outputDir, position)
                options.resume = false
                try EvaluationRun(options: options, log: log, progressOutput: progress)
                    .runShard(position, sharedOutput: outputDir, resume: resume, arguments: EvalCommandLine.forMerge(EvalCommandLine.current()),
                              cacheDirectory: cacheDir)
                return
            }
            let results = try EvaluationRun(options: options, log: log, progressOutput: progress).run()
            let table = try RunTable.write(results, head: head.rawValue, table: LeaderboardTable(groups: registry.taskGroups), to: outputDir)
            print(table, terminator: "")
            for skipped in results.skipped { log("skipped \(skipped.task): \(skipped.reason)") }
        }
    }
}
