import Foundation

/// What `pixelgpt report` reads of one run's results.json (schema "pixelgpt.results", versions 1 to 3). A
/// lenient view of its own rather than `EvaluationResults`, so that the report keeps reading older runs
/// when that format gains fields: only the keys below are required.
public struct RunSummary: Sendable {
    public static let schema = "pixelgpt.results"
    public static let supportedVersions = 1 ... 3

    public struct Task: Sendable, Equatable {
        public let task: String
        /// Fractions by metric name; the mean over seeds in version 2.
        public let metrics: [String: Double]
        /// Sample standard deviation over seeds, by metric name (version 2, more than one seed).
        public let metricsStd: [String: Double]
        public let seeds: [Int]
        public let headKind: String?
        public let xnliSetting: String?
        /// A fine-tuned head whose best step was chosen on the reported rows (`--select-on reported`).
        public var selectedOnReportedSplit = false
    }

    /// The results.json read.
    public let file: String
    public let version: Int
    public let modelPath: String
    /// "name:hex" per weight file.
    public let weightsSHA256: [String]
    public let modality: String
    public let tasks: [Task]
    /// `eval --label` (version 3), the row name in reports.
    public let label: String?
    /// The options behind the numbers, as `--name value` (`NumbersOptions`).
    public let numbersOptions: [String]

    /// Reads `path`: a run directory written by `pixelgpt eval`, or its results.json.
    public init(path: String) throws(ReportError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReportError(file: path, reason: "no such run directory or results.json; give a directory written by `pixelgpt eval`")
        }
        let file = isDirectory.boolValue ? (path as NSString).appendingPathComponent("results.json") : path
        guard let data = FileManager.default.contents(atPath: file) else {
            let reason = isDirectory.boolValue ? "no results.json here; give a directory written by `pixelgpt eval` (or its results.json)" : "unreadable"
            throw ReportError(file: isDirectory.boolValue ? path : file, reason: reason)
        }
        try self.init(data: data, file: file)
    }

    /// Decodes results.json bytes; `file` names them in errors.
    public init(data: Data, file: String) throws(ReportError) {
        let decoder = JSONDecoder()
        // The schema and version first, so that a foreign or newer file is refused as such rather than for
        // some key it happens to lack.
        let header: Header
        do {
            header = try decoder.decode(Header.self, from: data)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                throw ReportError(file: file, reason: "not JSON; give the results.json written by `pixelgpt eval`")
            }
            throw ReportError(file: file, key: ReportError.key(of: error), reason: "not a \(Self.schema) file (\(ReportError.reason(of: error)))")
        } catch {
            throw ReportError(file: file, reason: "not JSON; give the results.json written by `pixelgpt eval`")
        }
        guard header.schema == Self.schema else {
            throw ReportError(file: file, key: "schema", reason: "\"\(header.schema)\" is not \(Self.schema); give the results.json written by `pixelgpt eval`")
        }
        guard Self.supportedVersions.contains(header.version) else {
            throw ReportError(file: file, key: "version",
                              reason: "version \(header.version) is not supported (this tool reads versions \(Self.supportedVersions.lowerBound) to \(Self.supportedVersions.upperBound)); use a matching pixelgpt")
        }
        let body: Body
        do {
            body = try decoder.decode(Body.self, from: data)
        } catch let error as DecodingError {
            throw ReportError(file: file, decoding: error)
        } catch {
            throw ReportError(file: file, reason: "\(error)")
        }
        self.file = file
        version = header.version
        modelPath = body.model.path
        weightsSHA256 = body.model.weightsSHA256
        modality = body.modality
        label = body.label
        numbersOptions = NumbersOptions.changing(commandLine: body.commandLine, limit: body.limit, pooling: body.pooling)
        tasks = body.tasks.map {
            Task(task: $0.task, metrics: $0.metrics, metricsStd: $0.metricsStd ?? [:], seeds: $0.seeds ?? [],
                 headKind: $0.head?.kind, xnliSetting: $0.head?.xnliSetting,
                 selectedOnReportedSplit: $0.selection?.onReportedSplit ?? false)
        }
    }

    /// Names the checkpoint by its weights, so that the same weights under two paths are one checkpoint;
    /// by its path when the run recorded no hashes.
    public var checkpointIdentity: String {
        weightsSHA256.isEmpty ? "path:" + modelPath : weightsSHA256.sorted().joined(separator: ",")
    }

    /// The first 8 hex digits of the first weight file's hash, to tell apart checkpoints of the same name.
    public var shortHash: String? {
        guard let first = weightsSHA256.first else { return nil }
        let hex = first.split(separator: ":").last.map(String.init) ?? first
        return String(hex.prefix(8))
    }

    /// The model's name, as rows are labelled: its directory's name, except where that name says nothing
    /// (`CheckpointName`).
    public var checkpointName: String { CheckpointName.of(path: modelPath) }

    private struct Header: Decodable {
        let schema: String
        let version: Int
    }

    private struct Body: Decodable {
        struct Model: Decodable {
            let path: String
            let weightsSHA256: [String]
            enum CodingKeys: String, CodingKey {
                case path
                case weightsSHA256 = "weights_sha256"
            }
        }
        struct Head: Decodable {
            let kind: String
            let xnliSetting: String?
            enum CodingKeys: String, CodingKey {
                case kind
                case xnliSetting = "xnli_setting"
            }
        }
        struct Selection: Decodable {
            let onReportedSplit: Bool
            enum CodingKeys: String, CodingKey { case onReportedSplit = "on_reported_split" }
        }
        struct TaskEntry: Decodable {
            let task: String
            let metrics: [String: Double]
            let metricsStd: [String: Double]?
            let seeds: [Int]?
            let head: Head?
            let selection: Selection?
            enum CodingKeys: String, CodingKey {
                case task, metrics, seeds, head, selection
                case metricsStd = "metrics_std"
            }
        }
        let model: Model
        let modality: String
        let tasks: [TaskEntry]
        let label: String?
        let limit: Int?
        let pooling: String?
        let commandLine: [String]?
        enum CodingKeys: String, CodingKey {
            case model, modality, tasks, label, limit, pooling
            case commandLine = "command_line"
        }
    }
}
