import Foundation
import Render
import Support

/// results.json (schema "pixelgpt.results"): everything needed to reproduce and compare a run. Version 2
/// added multi-seed fine-tuned heads: per task `metrics` is the mean over seeds, `metrics_std`,
/// `seeds`, `metrics_by_seed`, `selection`; `head` gained `xnli_setting`, `training` and `saved`.
/// Version 3 records what ran rather than what was asked: `batch_size` is the batch the forward passes used
/// (`requested_batch_size` beside it), `seed` is absent for deterministic heads and `seeds` lists every
/// fine-tuning seed; it adds `runtime_seconds`, `command_line`, `blas_core`, and per task `runtime_seconds`
/// and `rows_per_second`; `label` (`--label`); the provenance fields `data_sha256` (every data file read),
/// `git_revision`, `cpu` and `blas_threads`; per task the standard errors `metrics_stderr` with their
/// `stderr_method`, `label_names` and the task's own `data_sha256`; `results` and `versions`, the tasks keyed
/// by name as lm-evaluation-harness writes them. docs/results.schema.json is the
/// schema of what version 3 writes. Every added field is optional in Swift, so files of versions 1 and 2
/// still decode.
public struct EvaluationResults: Codable, Sendable {
    public static let schema = "pixelgpt.results"
    public static let version = 3

    public struct ModelInfo: Codable, Sendable {
        public let path: String
        /// SHA-256 of each weight file, "name:hex".
        public let weightsSHA256: [String]
        public let architecture: String
        public let hiddenSize: Int
        public let layers: Int
        enum CodingKeys: String, CodingKey {
            case path, architecture, layers
            case weightsSHA256 = "weights_sha256", hiddenSize = "hidden_size"
        }
    }

    public struct HeadInfo: Codable, Sendable {
        /// "checkpoint" (the checkpoint's score), "probe" (trained here on the train split),
        /// "probe-crossfit" (no train split: k-fold over the evaluated rows, each row predicted by a head
        /// that never saw it), "finetune" (AdamW-trained score) or "finetune-crossfit" (the same over folds).
        public let kind: String
        public let trainedOn: String?
        public let trainingRows: Int?
        public let l2: Double?
        /// "train-all" or "train-en"; XNLI fine-tuned heads only.
        public var xnliSetting: String?
        /// Fine-tuning hyper-parameters (after the task's `pixelgpt.head` block and the command line).
        public var training: HeadTrainingSettings?
        /// Folds of the cross-fit fallback, when used.
        public var folds: Int?
        /// Checkpoint directories written by --save-heads.
        public var saved: [String]?

        public init(kind: String, trainedOn: String?, trainingRows: Int?, l2: Double?, xnliSetting: String? = nil,
                    training: HeadTrainingSettings? = nil, folds: Int? = nil, saved: [String]? = nil) {
            self.kind = kind
            self.trainedOn = trainedOn
            self.trainingRows = trainingRows
            self.l2 = l2
            self.xnliSetting = xnliSetting
            self.training = training
            self.folds = folds
            self.saved = saved
        }

        enum CodingKeys: String, CodingKey {
            case kind, l2, training, folds, saved
            case trainedOn = "trained_on", trainingRows = "training_rows", xnliSetting = "xnli_setting"
        }
    }

    /// How the best step of a fine-tuned head was chosen.
    public struct SelectionInfo: Codable, Sendable {
        /// The rows that selected, e.g. "validation", "train (held-out last 10%)", "fold k+1 of 5", or the
        /// reported split itself.
        public let split: String
        public let reportedSplit: String
        /// True when the reported rows selected (--select-on reported, as the paper did for GLUE).
        public let onReportedSplit: Bool
        public let metric: String
        /// One entry per trained head (seed, and fold in the cross-fit fallback).
        public let runs: [Run]

        public struct Run: Codable, Sendable {
            public let seed: Int
            public let fold: Int?
            public let bestStep: Int
            public let bestValue: Double?
            public let stepsRun: Int
            public let maxSteps: Int
            public let stoppedEarly: Bool
            enum CodingKeys: String, CodingKey {
                case seed, fold
                case bestStep = "best_step", bestValue = "best_value", stepsRun = "steps_run", maxSteps = "max_steps"
                case stoppedEarly = "stopped_early"
            }
        }

        enum CodingKeys: String, CodingKey {
            case split, metric, runs
            case reportedSplit = "reported_split", onReportedSplit = "on_reported_split"
        }
    }

    public struct TaskResult: Codable, Sendable {
        public let task: String
        public let taskVersion: Int
        public let split: String
        /// Why another split than the reported one was evaluated, when it was.
        public let splitNote: String?
        public let file: String
        public let rows: Int
        /// Rows that could not be parsed (reported with file and line, never dropped silently).
        public let skippedRows: Int
        public let problems: [String]
        public let labeled: Bool
        /// The mean over seeds (the single run's values with one seed or a deterministic head).
        public let metrics: [String: Double]
        public let combinedScore: Double?
        public let selectionMetric: String
        public let head: HeadInfo
        public let samplesFile: String
        /// Seeds of the fine-tuned heads, in run order; empty for deterministic heads (checkpoint, probe).
        public var seeds: [Int] = []
        /// Sample standard deviation over seeds (ddof = 1), only with more than one seed.
        public var metricsStd: [String: Double]?
        /// The standard error of each metric over the evaluated rows (version 3, `MetricStandardError`):
        /// lm-eval's `acc_stderr` etc.; absent for a metric where it is undefined. Empty without labels.
        public var metricsStderr: [String: Double]?
        /// How each metric's standard error was computed: "analytic" or "bootstrap-1000" (version 3).
        public var stderrMethod: [String: String]?
        /// Class names by class id (the samples' `label_name`); null for regression (version 3).
        public var labelNames: JSONNullable<[String]>?
        /// SHA-256 of each data file this task read (evaluated rows, and the rows its head trained and
        /// selected on), by path relative to `data_directory` (version 3; lm-eval's `task_hashes`).
        public var dataSHA256: [String: String]?
        /// Per seed, in the order of `seeds`; only for fine-tuned heads.
        public var metricsBySeed: [[String: Double]]?
        public var selection: SelectionInfo?
        /// Wall time of the task (features, head and metrics; version 3), and evaluated rows per second.
        public var runtimeSeconds: Double?
        public var rowsPerSecond: Double?
        enum CodingKeys: String, CodingKey {
            case task, split, file, rows, problems, labeled, metrics, head, seeds, selection
            case runtimeSeconds = "runtime_seconds", rowsPerSecond = "rows_per_second"
            case metricsStd = "metrics_std", metricsBySeed = "metrics_by_seed", metricsStderr = "metrics_stderr", stderrMethod = "stderr_method"
            case labelNames = "label_names", dataSHA256 = "data_sha256"
            case taskVersion = "task_version", splitNote = "split_note", skippedRows = "skipped_rows"
            case combinedScore = "combined_score", selectionMetric = "selection_metric", samplesFile = "samples_file"
        }
    }

    public struct SkippedTask: Codable, Sendable {
        public let task: String
        public let reason: String
    }

    public let schema: String
    public let version: Int
    public let toolVersion: String
    public let created: String
    public let model: ModelInfo
    public let modality: String
    public let pooling: String
    /// The rows per forward pass actually run (version 3; the requested value before).
    public let batchSize: Int
    /// `--batch-size` as given (version 3).
    public var requestedBatchSize: Int?
    public let limit: Int?
    /// Kernel threads the forward passes ran with.
    public let threads: Int
    /// The GEMM's instruction set (avx512, avx2, scalar); absent in files written before it was recorded.
    public let gemmInstructionSet: String?
    /// OpenBLAS's kernel set (training tail's backward pass; version 3).
    public var blasCore: String?
    /// OpenBLAS's thread count (the training tail's backward pass; version 3). `threads` is the forward
    /// kernels' count.
    public var blasThreads: Int?
    /// The processor (version 3); null where the system does not say (no /proc/cpuinfo).
    public var cpu: JSONNullable<HostCPU>?
    /// The git commit of the checkout the executable was built in, "-dirty" appended when tracked files
    /// differ from it (version 3); null for an executable outside a checkout of this package
    /// (`ToolRevision` in the command-line tool).
    public var gitRevision: JSONNullable<String>?
    /// SHA-256 of every data file the run read, by path relative to `data_directory` (absolute outside
    /// it; version 3).
    public var dataSHA256: [String: String]?
    /// The first fine-tuning seed; absent for deterministic heads (version 3; 0 before).
    public let seed: Int?
    /// Every fine-tuning seed, in run order (version 3; absent for deterministic heads).
    public var seeds: [Int]?
    /// Wall time of the whole run (version 3).
    public var runtimeSeconds: Double?
    /// The command line that made this run (version 3).
    public var commandLine: [String]?
    /// `--label`: the run's name in reports (version 3).
    public var label: String?
    public let dataDirectory: String
    public let tokenizerSHA256: String?
    public let renderer: RenderEnvironment?
    public let tasks: [TaskResult]
    public let skipped: [SkippedTask]
    /// lm-evaluation-harness's view of `tasks` (version 3): by task name, each metric beside its standard
    /// error as `<metric>_stderr`, as lm-eval's `results` holds `acc` and `acc_stderr`.
    public var results: [String: [String: Double]]?
    /// The task file's version by task name (lm-eval's `versions`; version 3).
    public var versions: [String: Int]?

    /// Fills `results` and `versions` from `tasks`, so that the two views cannot disagree.
    public mutating func indexTasksByName() {
        results = Dictionary(tasks.map { task in
            var values = task.metrics
            for (metric, error) in task.metricsStderr ?? [:] where task.metrics[metric] != nil { values[metric + "_stderr"] = error }
            return (task.task, values)
        }, uniquingKeysWith: { first, _ in first })
        versions = Dictionary(tasks.map { ($0.task, $0.taskVersion) }, uniquingKeysWith: { first, _ in first })
    }

    enum CodingKeys: String, CodingKey {
        case schema, version, created, model, modality, pooling, limit, threads, seed, seeds, renderer, tasks, skipped, label, results, versions
        case requestedBatchSize = "requested_batch_size", blasCore = "blas_core", runtimeSeconds = "runtime_seconds", commandLine = "command_line"
        case blasThreads = "blas_threads", cpu, gitRevision = "git_revision", dataSHA256 = "data_sha256"
        case toolVersion = "tool_version", batchSize = "batch_size", dataDirectory = "data_directory"
        case tokenizerSHA256 = "tokenizer_sha256", gemmInstructionSet = "gemm_instruction_set"
    }
}
