import ArgumentParser
import Eval
import Foundation
import Model

extension TaskDefinition.Modality: ExpressibleByArgument {}
extension TaskDefinition.Split: ExpressibleByArgument {}
extension EvaluationRun.HeadKind: ExpressibleByArgument {}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on GLUE and XNLI tasks in text, pixel or pair modality.",
        discussion: """
            Writes results.json, samples_TASK.jsonl (one line per row, appended as rows finish) and table.md to \
            --output-dir. Features are cached under OUTPUT/features, so another head costs no forward passes; \
            --resume continues an interrupted run without redoing finished rows.
            """
    )

    @Option(help: "Checkpoint directory (or weights file with an embedded config).")
    var model: String

    @Option(help: "Comma-separated task and group names (see `pixelgpt tasks`), e.g. glue,xnli or rte,xnli_en.")
    var tasks: String

    @Option(help: "text, pixel or pair.")
    var modality: TaskDefinition.Modality

    @Option(help: "Data directory in the layout of ../shared/data (default: $PIXELGPT_DATA).")
    var dataDir: String?

    @Option(help: "Evaluate only the first N rows of each task.")
    var limit: Int?

    @Option(help: "Rows per forward pass (pair mode with upstream pooling always uses the original's 8).")
    var batchSize: Int = 8

    @Option(help: "Where results go.")
    var outputDir: String = "eval-results"

    @Option(help: "checkpoint (its own score head) or probe (a bias-free head trained here on the train split).")
    var head: EvaluationRun.HeadKind = .probe

    @Option(help: "upstream (SPEC 4, batch-dependent in pair mode) or last-real-token.")
    var pooling: PoolingRule = .upstream

    @Option(help: "Evaluate this split instead of each task's reported one (train, validation, test).")
    var split: TaskDefinition.Split?

    @Option(help: "Tokenizer file or directory (default: the checkpoint's, else DATA/tokenizer/llama2/tokenizer.model).")
    var tokenizer: String?

    @Option(help: "Renderer directory (default: the project's renderers/noto).")
    var renderer: String?

    @Option(help: "The tasks directory (default: the project's tasks/).")
    var tasksDir: String?

    @Option(help: "Train rows used for a probe head.")
    var trainLimit: Int = 2000

    @Flag(help: "Pixel and pair modality: read the original's pre-rendered datasets (rendered_glue, rendered_xnli) instead of rendering.")
    var rendered = false

    @Flag(help: "Continue an interrupted run in --output-dir.")
    var resume = false

    func run() throws {
        let results = try reportingErrors { () throws -> EvaluationResults in
            guard let data = dataDir ?? ProcessInfo.processInfo.environment["PIXELGPT_DATA"] else {
                throw ValidationError("no data directory: give --data-dir or set PIXELGPT_DATA")
            }
            let registry = try TaskRegistry(directory: tasksDir ?? TaskRegistry.defaultDirectory())
            var options = EvaluationRun.Options(modelPath: model, tasks: try registry.resolve(tasks), modality: modality,
                                                dataDirectory: data, outputDirectory: outputDir)
            options.limit = limit
            options.batchSize = batchSize
            options.head = head
            options.pooling = pooling
            options.resume = resume
            options.split = split
            options.tokenizerPath = tokenizer
            options.rendererDirectory = renderer
            options.trainLimit = trainLimit
            options.renderedDatasets = rendered
            options.toolVersion = PixelGPT.toolVersion
            let progress: (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
            return try EvaluationRun(options: options, log: log, progressOutput: progress).run()
        }
        print(try String(contentsOfFile: (outputDir as NSString).appendingPathComponent("table.md"), encoding: .utf8), terminator: "")
        for skipped in results.skipped { log("skipped \(skipped.task): \(skipped.reason)") }
    }
}
