import Foundation
import Model

/// One evaluation task as its YAML file under tasks/ describes it. Field names follow
/// lm-evaluation-harness where the meaning is the same (task, output_type, metric_list, metadata.version,
/// `include:` of a shared base file, see `TaskFile`); `dataset_kind`, `format`, `rendered_files` and
/// `pixelgpt` carry what PixelGPT needs (SPEC 7, 8). Groups are files of their own (`TaskGroup`).
public struct TaskDefinition: Decodable, Sendable, Equatable {
    public enum OutputType: String, Decodable, Sendable {
        case classification, regression
    }

    public enum Split: String, Decodable, Sendable, CaseIterable, CodingKeyRepresentable {
        case train, validation, test
    }

    public typealias Modality = Model.Modality

    /// A column by header name (files with a header row) or 0-based position (files without).
    public enum Column: Decodable, Sendable, Equatable, CustomStringConvertible {
        case name(String)
        case index(Int)

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let index = try? c.decode(Int.self) {
                self = .index(index)
            } else {
                self = .name(try c.decode(String.self))
            }
        }

        public var description: String {
            switch self {
            case .name(let n): "column \"\(n)\""
            case .index(let i): "column \(i)"
            }
        }
    }

    public struct Format: Decodable, Sendable, Equatable {
        public let header: Bool
        public let textA: Column
        public let textB: Column?
        public let label: Column?

        enum CodingKeys: String, CodingKey {
            case header, label
            case textA = "text_a", textB = "text_b"
        }
    }

    public struct Metric: Decodable, Sendable, Equatable {
        public let metric: MetricName
    }

    public struct Metadata: Decodable, Sendable, Equatable {
        public let version: Int
    }

    public enum RenderedGeometry: String, Decodable, Sendable {
        case crop, bicubic
    }

    /// The group whose members share one fine-tuned head, when this task is in one (set by the registry
    /// from the group file, `TaskGroup.SharedHead`).
    public struct SharedHead: Sendable, Equatable {
        public let group: String
        public let sourceTask: String
    }

    public struct PixelGPTSettings: Decodable, Sendable, Equatable {
        /// The split the paper reports (GLUE: validation; XNLI: test).
        public let reportedSplit: Split
        public let selectionMetric: MetricName
        public let modalities: [Modality]
        /// SEQ_LEN per modality: tokens for text, patches for pixel and pair (SPEC 8).
        public let sequenceLength: [Modality: Int]
        /// Fine-tuned head hyper-parameters for this task (`pixelgpt.head:`), over the defaults.
        public let head: HeadTrainingSettings.Overrides?
        /// How a pre-rendered strip becomes the pixel modality's input (`--rendered`), as the original's script
        /// for the task did it (SPEC 5.6): crop (the GLUE scripts; the default) or bicubic (the XNLI scripts).
        public let renderedGeometry: RenderedGeometry?

        enum CodingKeys: String, CodingKey {
            case modalities, head
            case reportedSplit = "reported_split", selectionMetric = "selection_metric", sequenceLength = "sequence_length"
            case renderedGeometry = "rendered_geometry"
        }
    }

    public let task: String
    public let language: String?
    public let outputType: OutputType
    /// Which reader reads `data_files` (`DatasetReader.readers`).
    public let datasetKind: String
    /// Data files per split, relative to the data directory.
    public let dataFiles: [Split: String]
    /// Copies without labels (the public XNLI test sets): predicted, not scored.
    public let unlabeledFiles: [Split: String]?
    /// The original's pre-rendered gzip JSON-lines files per split (SPEC 7.1, 7.2).
    public let renderedFiles: [Split: String]?
    /// The text keys of those files' rows (`text_a`, `text_b`: HF glue/xnli field names).
    public let renderedFields: [String: String]?
    public let format: Format
    /// Splits whose files are laid out differently (CoLA's test set has a header and two columns).
    public let splitFormats: [Split: Format]?
    /// Class names in label-id order; nil for regression.
    public let labelList: [String]?
    public let metricList: [Metric]
    public let metadata: Metadata
    public let pixelgpt: PixelGPTSettings
    public internal(set) var sharedHead: SharedHead? = nil

    enum CodingKeys: String, CodingKey {
        case task, language, format, metadata, pixelgpt
        case outputType = "output_type", datasetKind = "dataset_kind", dataFiles = "data_files"
        case unlabeledFiles = "unlabeled_files", renderedFiles = "rendered_files", labelList = "label_list"
        case metricList = "metric_list", splitFormats = "split_formats", renderedFields = "rendered_fields"
    }

    public func format(for split: Split) -> Format { splitFormats?[split] ?? format }

    public var numLabels: Int { labelList?.count ?? 1 }
    public var hasPair: Bool { format.textB != nil }

    /// Checks what decoding cannot: consistent labels, metrics that fit the output, modalities with lengths.
    func validate() throws(TaskError) {
        func fail(_ key: String, _ reason: String) -> TaskError { TaskError(task: task, key: key, reason: reason) }
        // The name becomes a file name under --output-dir (samples_TASK.jsonl) and --save-heads: a path in it
        // would write outside them.
        if let problem = Self.fileNameProblem(task) { throw fail("task", problem) }
        guard DatasetReader.readers[datasetKind] != nil else {
            throw fail("dataset_kind", "\(String(reflecting: datasetKind)) is not a known kind; use one of \(DatasetReader.readers.keys.sorted().joined(separator: ", "))")
        }
        switch outputType {
        case .classification:
            guard let labels = labelList, labels.count >= 2 else { throw fail("label_list", "a classification task needs at least 2 labels") }
            guard Set(labels).count == labels.count else { throw fail("label_list", "labels repeat") }
        case .regression:
            guard labelList == nil else { throw fail("label_list", "a regression task has no label list") }
        }
        guard !metricList.isEmpty else { throw fail("metric_list", "no metric") }
        for m in metricList.map(\.metric) + [pixelgpt.selectionMetric] where m.isRegression != (outputType == .regression) {
            throw fail("metric_list", "\(m.rawValue) does not apply to a \(outputType.rawValue) task")
        }
        guard !dataFiles.isEmpty else { throw fail("data_files", "no split") }
        for modality in pixelgpt.modalities {
            guard let length = pixelgpt.sequenceLength[modality], length > 0 else {
                throw fail("pixelgpt.sequence_length", "no length for \(modality.rawValue)")
            }
            // Refused here, by `pixelgpt tasks`, rather than by the forward pass after eval opened a samples file.
            guard length <= ResourceLimits.maxSequenceLength else {
                throw fail("pixelgpt.sequence_length", "\(modality.rawValue) \(length) is over the limit of \(ResourceLimits.maxSequenceLength) positions")
            }
        }
        if let problem = HeadTrainingSettings().applying(pixelgpt.head).problems.first { throw fail("pixelgpt.head", problem) }
        // "pair" is the pixels-then-tokens input mode (SPEC 3.1), not a sentence pair: single-sentence tasks
        // run it too (SPEC 8: cola_pair, sst2_pair).
        for (key, f) in [("format", format)] + (splitFormats ?? [:]).sorted(by: { $0.key.rawValue < $1.key.rawValue }).map({ ("split_formats.\($0.key.rawValue)", $0.value) }) {
            switch (f.header, f.textA) {
            case (false, .name), (true, .index): throw fail(key, "columns are named with a header row and numbered without one")
            default: break
            }
            // The reader indexes each row's fields with these and adds one to the largest.
            for (name, column) in [("text_a", f.textA), ("text_b", f.textB), ("label", f.label)] {
                if case .index(let i)? = column, !(0...Self.maxColumnIndex).contains(i) {
                    throw fail("\(key).\(name)", "column index \(i) is not in 0...\(Self.maxColumnIndex)")
                }
            }
        }
    }
}

extension TaskDefinition {
    /// The largest 0-based column a task may name (GLUE's widest files, MNLI's, have 12 columns).
    static let maxColumnIndex = 1023

    /// Why `name` cannot be a task name, nil when it can: a plain file-name component, so that files named
    /// after the task stay in the directory they are written to.
    static func fileNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        // NUL and other control characters would also break the one-line error, so they are not echoed.
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "contains a control character (NUL, newline, ...); a task name must be a plain name"
        }
        if name.hasPrefix(".") { return "\"\(name)\" starts with '.'; a task name must be a plain name" }
        if name.contains("..") { return "\"\(name)\" contains '..'; a task name must be a plain name" }
        if let bad = name.first(where: { $0 == "/" || $0 == "\\" }) {
            return "\"\(name)\" contains '\(bad)'; a task name must be a plain name"
        }
        return nil
    }
}

/// A task file that cannot be used: the task (or file) and the key at fault.
public struct TaskError: Error, CustomStringConvertible, Sendable {
    public let task: String
    public let key: String
    public let reason: String
    public var description: String { "\(task): \(key): \(reason)" }
}
