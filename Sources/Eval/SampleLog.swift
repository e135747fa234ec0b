import Foundation

/// One evaluated row as samples_TASK.jsonl records it (lm-evaluation-harness keeps one such line per doc,
/// with the doc itself): the row's index, its text(s), the gold and predicted class ids with their names, and
/// the logits. Lines written before the texts and names were recorded still decode (those fields nil).
public struct SampleRecord: Codable, Sendable, Equatable {
    /// The row's index in its data file (`ExampleRow.index`).
    public let index: Int
    /// Class id or score; nil for unlabeled rows.
    public let label: Double?
    /// Predicted class id (argmax) or the regression score.
    public let prediction: Double
    public let logits: [Float]
    /// The row's text, and the second text of a pair task (HF tokenizers' `text` and `text_pair`).
    public let text: String?
    public let textPair: String?
    /// The names of `label` and `prediction` (the task's label_list); nil for regression and unlabeled rows.
    public let labelName: String?
    public let predictionName: String?

    public init(index: Int, label: Double?, prediction: Double, logits: [Float], text: String? = nil, textPair: String? = nil,
                labelName: String? = nil, predictionName: String? = nil) {
        self.index = index
        self.label = label
        self.prediction = prediction
        self.logits = logits
        self.text = text
        self.textPair = textPair
        self.labelName = labelName
        self.predictionName = predictionName
    }

    /// The record of `row`, named through `labelNames` (nil: a regression task).
    public init(row: ExampleRow, prediction: Double, logits: [Float], labelNames: [String]?) {
        func name(_ value: Double?) -> String? {
            guard let labelNames, let value, let id = Int(exactly: value), labelNames.indices.contains(id) else { return nil }
            return labelNames[id]
        }
        self.init(index: row.index, label: row.label?.value, prediction: prediction, logits: logits, text: row.textA, textPair: row.textB,
                  labelName: name(row.label?.value), predictionName: name(prediction))
    }

    enum CodingKeys: String, CodingKey {
        case index, label, prediction, logits, text
        case textPair = "text_pair", labelName = "label_name", predictionName = "prediction_name"
    }

    /// Why this record, read back by `--resume`, cannot be `row`'s result under a head of `classes` outputs
    /// (nil: a regression score), or nil when it can. A samples file edited or damaged since it was written
    /// would otherwise reach the metrics (a prediction of 9.2e18 is no class) or score the wrong rows.
    public func problem(against row: ExampleRow, classes: Int?) -> String? {
        guard label == row.label?.value else { return "label \(label.map { "\($0)" } ?? "none") is not the data file's \(row.label.map { "\($0.value)" } ?? "none")" }
        if let text, text != row.textA { return "its text is not the data file's row \(row.index)" }
        if let textPair, textPair != row.textB { return "its second text is not the data file's row \(row.index)" }
        guard logits.count == (classes ?? 1), logits.allSatisfy(\.isFinite) else {
            return "\(logits.count) logits where the head gives \(classes ?? 1) finite ones"
        }
        if let classes {
            // The stored logits are Float roundings of the ones argmax saw: the predicted one is still a maximum.
            guard let id = Int(exactly: prediction), (0..<classes).contains(id), logits.allSatisfy({ $0 <= logits[id] }) else {
                return "prediction \(prediction) is not the argmax of its logits"
            }
        } else if Float(prediction) != logits[0] {
            return "prediction \(prediction) is not its score \(logits[0])"
        }
        return nil
    }
}

/// samples_TASK.jsonl, appended line by line as rows finish, so that an interrupted run leaves a valid
/// file and `--resume` continues after the last complete line. Each line is written with one write(2) and
/// synced per batch; a torn last line (killed mid-write) is cut off when the log is reopened.
public final class SampleLog {
    public let path: String
    /// Records already in the file, by row index.
    public private(set) var records: [Int: SampleRecord] = [:]
    private let handle: FileHandle
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    /// Opens `path` for appending. With `resume`, keeps its complete lines (and drops a torn last one);
    /// without, starts it empty.
    public init(path: String, resume: Bool) throws {
        self.path = path
        let fm = FileManager.default
        if resume, let data = fm.contents(atPath: path) {
            var keep = 0
            var lineNumber = 0
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                lineNumber += 1
                let end = keep + line.count + 1
                guard end <= data.count else { break }  // no newline: torn by an interruption
                guard let record = try? JSONDecoder().decode(SampleRecord.self, from: Data(line)) else {
                    throw TaskError(task: path, key: "line \(lineNumber)", reason: "not a sample record; remove the file or run without --resume")
                }
                records[record.index] = record
                keep = end
            }
            if keep < data.count { try Data(data.prefix(keep)).write(to: URL(fileURLWithPath: path)) }
        } else {
            guard fm.createFile(atPath: path, contents: nil) else { throw TaskError(task: path, key: "file", reason: "cannot create") }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw TaskError(task: path, key: "file", reason: "cannot open for writing") }
        self.handle = handle
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    /// Appends `batch` (rows already present are skipped) and syncs.
    public func append(_ batch: [SampleRecord]) throws {
        var bytes = Data()
        for record in batch where records[record.index] == nil {
            bytes.append(try encoder.encode(record))
            bytes.append(UInt8(ascii: "\n"))
            records[record.index] = record
        }
        guard !bytes.isEmpty else { return }
        try handle.write(contentsOf: bytes)
        try handle.synchronize()
    }

    /// Records in row order.
    public var orderedRecords: [SampleRecord] { records.keys.sorted().map { records[$0]! } }
}
