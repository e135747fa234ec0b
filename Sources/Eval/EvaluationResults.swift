import Foundation
import Render

/// results.json (schema "pixelgpt.results", version 1): everything needed to reproduce and compare a run.
public struct EvaluationResults: Codable, Sendable {
    public static let schema = "pixelgpt.results"
    public static let version = 1

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
        /// "checkpoint" (the checkpoint's score), "probe" (trained here on the train split), or
        /// "probe-crossfit" (no train split: k-fold over the evaluated rows, each row predicted by a head
        /// that never saw it).
        public let kind: String
        public let trainedOn: String?
        public let trainingRows: Int?
        public let l2: Double?
        enum CodingKeys: String, CodingKey {
            case kind, l2
            case trainedOn = "trained_on", trainingRows = "training_rows"
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
        public let metrics: [String: Double]
        public let combinedScore: Double?
        public let selectionMetric: String
        public let head: HeadInfo
        public let samplesFile: String
        enum CodingKeys: String, CodingKey {
            case task, split, file, rows, problems, labeled, metrics, head
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
    public let batchSize: Int
    public let limit: Int?
    public let threads: Int
    public let seed: Int
    public let dataDirectory: String
    public let tokenizerSHA256: String?
    public let renderer: RenderEnvironment?
    public let tasks: [TaskResult]
    public let skipped: [SkippedTask]

    enum CodingKeys: String, CodingKey {
        case schema, version, created, model, modality, pooling, limit, threads, seed, renderer, tasks, skipped
        case toolVersion = "tool_version", batchSize = "batch_size", dataDirectory = "data_directory"
        case tokenizerSHA256 = "tokenizer_sha256"
    }
}
