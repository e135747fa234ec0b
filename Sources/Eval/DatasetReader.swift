import Foundation
import Render
import Support

/// One evaluation example as read from a data file.
public struct ExampleRow: Sendable, Equatable {
    public enum Label: Sendable, Equatable {
        case classIndex(Int)
        case score(Double)

        public var value: Double {
            switch self {
            case .classIndex(let i): Double(i)
            case .score(let s): s
            }
        }
    }

    /// 0-based position among the file's data rows (the index reported in samples).
    public let index: Int
    /// 1-based line in the file, for messages.
    public let line: Int
    public let textA: String
    public let textB: String?
    /// nil for unlabeled files (GLUE test sets, the public XNLI test copy).
    public let label: Label?
}

/// A row that could not be read: where and why. Counted and reported, never silently dropped.
public struct RowProblem: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let reason: String
    public var description: String { "\(file):\(line): \(reason)" }
}

public struct DatasetSplit: Sendable {
    public let file: String
    public let rows: [ExampleRow]
    public let problems: [RowProblem]
    public var isLabeled: Bool { rows.contains { $0.label != nil } }
}

/// Reads the formats users have: the original GLUE TSVs (each task's own column layout, MRPC's BOM, CoLA
/// without a header), XNLI TSVs with or without labels, and JSON lines with the same field names. Fields
/// are split on tabs only, never unquoted: GLUE's files contain unmatched quotes (HF reads them with
/// quoting off).
public enum DatasetReader {
    typealias RowReader = @Sendable (_ data: Data, _ path: String, _ task: TaskDefinition, _ format: TaskDefinition.Format, _ unlabeled: Bool) -> DatasetSplit

    /// The row reader of each `dataset_kind` a task file may name; the registry refuses any other. A file
    /// ending in .jsonl is read as JSON lines whatever the kind (a JSON-lines copy of the same rows).
    static let readers: [String: RowReader] = [
        "glue_tsv": readTSV, "xnli_tsv": readTSV, "tsv": readTSV, "jsonl": readJSONLines,
    ]

    /// Reads `path`, a file of `split`. `unlabeled`: the file is one of the task's `unlabeled_files` (no label
    /// column is read); otherwise it is one of its `data_files`, whose rows must carry the label when the
    /// format has a label column (a header without that column, as GLUE's test sets have, means unlabeled).
    public static func read(_ path: String, task: TaskDefinition, split: TaskDefinition.Split, unlabeled: Bool = false) throws -> DatasetSplit {
        do { try RegularFile.require(path) } catch { throw TaskError(task: task.task, key: "data", reason: "\(error)") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TaskError(task: task.task, key: "data", reason: "cannot read \(path)")
        }
        guard let reader = path.hasSuffix(".jsonl") ? readJSONLines : readers[task.datasetKind] else {
            throw TaskError(task: task.task, key: "dataset_kind", reason: "\(String(reflecting: task.datasetKind)) is not a known kind")
        }
        return reader(data, path, task, task.format(for: split), unlabeled)
    }

    /// Lines as the original's readers see them (Support's `TextLines`: Python's universal newlines): HF
    /// datasets' GLUE and XNLI scripts read the TSVs with csv.reader over open(path) (QUOTE_NONE).
    static func lines(of data: Data) -> [(number: Int, bytes: ArraySlice<UInt8>)] {
        TextLines.split([UInt8](data)).map { ($0.number, $0.bytes) }
    }

    static func readTSV(_ data: Data, path: String, task: TaskDefinition, format: TaskDefinition.Format, unlabeled: Bool) -> DatasetSplit {
        var problems: [RowProblem] = []
        var rows: [ExampleRow] = []
        var lines = lines(of: data)[...]
        var header: [String: Int] = [:]
        if format.header, let first = lines.popFirst() {
            let names = String(decoding: first.bytes, as: UTF8.self).split(separator: "\t", omittingEmptySubsequences: false)
            for (i, name) in names.enumerated() { header[String(name)] = i }
        }
        func position(_ column: TaskDefinition.Column) -> Int? {
            switch column {
            case .index(let i): i
            case .name(let n): header[n]
            }
        }
        // An empty file: no header to check, no rows.
        if lines.isEmpty && header.isEmpty { return DatasetSplit(file: path, rows: [], problems: []) }
        guard let a = position(format.textA) else {
            return DatasetSplit(file: path, rows: [], problems: [RowProblem(file: path, line: 1, reason: "no \(format.textA) in the header")])
        }
        let b = format.textB.flatMap(position)
        if format.textB != nil && b == nil {
            return DatasetSplit(file: path, rows: [], problems: [RowProblem(file: path, line: 1, reason: "no \(format.textB!) in the header")])
        }
        // The file's role decides whether rows carry labels (a short first row used to make a whole file
        // unlabeled); a header without the label column (GLUE's test sets) is unlabeled too.
        let labelColumn = unlabeled ? nil : format.label.flatMap(position)
        let needed = max(a, b ?? 0, labelColumn ?? 0) + 1
        for (number, bytes) in lines {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                problems.append(RowProblem(file: path, line: number, reason: "invalid UTF-8"))
                continue
            }
            let fields = text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= needed else {
                problems.append(RowProblem(file: path, line: number, reason: "\(fields.count) fields, expected at least \(needed)"))
                continue
            }
            var label: ExampleRow.Label?
            if let l = labelColumn {
                switch parseLabel(fields[l], task: task) {
                case .success(let parsed): label = parsed
                case .failure(let problem):
                    problems.append(RowProblem(file: path, line: number, reason: problem.reason))
                    continue
                }
            }
            rows.append(ExampleRow(index: rows.count + problems.count, line: number, textA: fields[a], textB: b.map { fields[$0] }, label: label))
        }
        return DatasetSplit(file: path, rows: rows, problems: problems)
    }

    static func readJSONLines(_ data: Data, path: String, task: TaskDefinition, format: TaskDefinition.Format, unlabeled: Bool) -> DatasetSplit {
        func key(_ column: TaskDefinition.Column?) -> String? {
            if case .name(let n) = column { return n }
            return nil
        }
        let keyA = key(format.textA) ?? "text_a", keyB = key(format.textB), keyLabel = key(format.label) ?? "label"
        var rows: [ExampleRow] = [], problems: [RowProblem] = []
        for entry in JSONLines.entries([UInt8](data)) {
            let number = entry.line
            let object: [String: JSONValue]
            switch entry.object {
            case .success(let parsed): object = parsed
            case .failure(let problem):
                problems.append(RowProblem(file: path, line: number, reason: problem.description))
                continue
            }
            guard case .string(let a)? = object[keyA] else {
                problems.append(RowProblem(file: path, line: number, reason: "no string \"\(keyA)\""))
                continue
            }
            var b: String?
            if let keyB {
                guard case .string(let text)? = object[keyB] else {
                    problems.append(RowProblem(file: path, line: number, reason: "no string \"\(keyB)\""))
                    continue
                }
                b = text
            }
            var label: ExampleRow.Label?
            if !unlabeled, let raw = object[keyLabel], raw != .null {
                switch parseLabel(raw.labelText, task: task) {
                case .success(let parsed): label = parsed
                case .failure(let problem):
                    problems.append(RowProblem(file: path, line: number, reason: problem.reason))
                    continue
                }
            }
            rows.append(ExampleRow(index: rows.count + problems.count, line: number, textA: a, textB: b, label: label))
        }
        return DatasetSplit(file: path, rows: rows, problems: problems)
    }

    /// The rows of one of the original's pre-rendered files (SPEC 7.1, 7.2), without their images (which
    /// `RenderedImages` streams again when features are computed: a whole split of decoded strips would not
    /// fit in memory). Malformed lines are reported and counted like unreadable TSV rows.
    public static func readRendered(_ path: String, task: TaskDefinition) throws -> DatasetSplit {
        let reader = try RenderedDatasetReader(path: path)
        let keyA = task.renderedFields?["text_a"] ?? "text_a", keyB = task.hasPair ? task.renderedFields?["text_b"] ?? "text_b" : nil
        var rows: [ExampleRow] = [], problems: [RowProblem] = []
        var ordinal = 0
        try reader.forEachRow({ row in
            defer { ordinal += 1 }
            guard let a = row.texts[keyA], keyB.map({ row.texts[$0] != nil }) ?? true else {
                problems.append(RowProblem(file: path, line: row.line, reason: "no \"\(keyA)\"\(keyB.map { " or \"\($0)\"" } ?? "") text"))
                return
            }
            var label: ExampleRow.Label?
            if let value = row.label {
                if task.outputType == .regression {
                    label = .score(value)
                } else if value == value.rounded(), Int(value) >= 0, Int(value) < task.numLabels {
                    label = .classIndex(Int(value))
                } else {
                    problems.append(RowProblem(file: path, line: row.line, reason: "label \(value) is not a class id of \(task.task)"))
                    return
                }
            }
            rows.append(ExampleRow(index: ordinal, line: row.line, textA: a, textB: keyB.flatMap { row.texts[$0] }, label: label))
        }, malformed: { error in
            if case .malformedLine(let line, let reason) = error.problem {
                problems.append(RowProblem(file: path, line: line, reason: reason))
            } else {
                problems.append(RowProblem(file: path, line: reader.linesRead, reason: "\(error)"))
            }
            ordinal += 1
        })
        return DatasetSplit(file: path, rows: rows, problems: problems)
    }

    struct LabelProblem: Error { let reason: String }

    /// Class names map through label_list; integer labels (CoLA, SST-2, MRPC, QQP, WNLI) are class ids;
    /// regression labels are numbers.
    static func parseLabel(_ text: String, task: TaskDefinition) -> Result<ExampleRow.Label, LabelProblem> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let labels = task.labelList else {
            guard let score = Double(trimmed), score.isFinite else { return .failure(LabelProblem(reason: "label \"\(text)\" is not a number")) }
            return .success(.score(score))
        }
        if let index = labels.firstIndex(of: trimmed) { return .success(.classIndex(index)) }
        if let id = Int(trimmed), labels.indices.contains(id) { return .success(.classIndex(id)) }
        return .failure(LabelProblem(reason: "label \"\(text)\" is not one of \(labels.joined(separator: ", "))"))
    }
}

extension JSONValue {
    /// A label as the TSV column would hold it: a string as is, an integral number without ".0".
    var labelText: String {
        switch self {
        case .string(let text): text
        case .number(let n) where n == n.rounded() && abs(n) < 1e15: String(Int(n))
        case .number(let n): String(n)
        default: summary
        }
    }
}
