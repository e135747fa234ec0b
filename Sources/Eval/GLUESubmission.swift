import Foundation
import Support

/// The test-split predictions of an evaluation run in the files the GLUE benchmark server takes: one
/// `NAME.tsv` per task, a header line `index<TAB>prediction`, then one line per row of the task's test file
/// with that file's own `index` value. What the server accepts per file (jiant's GLUE submission formatter
/// and its task classes, nyu-mll/jiant `glue_submission_formatter.py`, `GlueMixin.get_glue_preds`; the
/// facts are pinned in GLUESubmissionTests): the digits 0/1 for CoLA, SST-2, MRPC, QQP and WNLI; the
/// lower-case label names for MNLI (matched and mismatched), QNLI, RTE and AX (the diagnostic set, predicted
/// with an MNLI head); a score rounded to 3 decimals for STS-B.
public enum GLUESubmission {
    public enum Encoding: Sendable, Equatable {
        /// The class id as a digit: the GLUE files' own label (`DatasetReader.parseLabel` reads "k" as id k).
        case classDigit
        /// The task's label name; `accepted` are the names the server takes.
        case labelName(accepted: Set<String>)
        /// A number with 3 decimals.
        case score
    }

    public struct Entry: Sendable {
        public let file: String
        public let task: String
        public let encoding: Encoding
    }

    static let entailment: Set<String> = ["entailment", "not_entailment"]
    static let nli: Set<String> = ["entailment", "neutral", "contradiction"]

    /// Every file of a submission, in the server's order.
    public static let entries: [Entry] = [
        Entry(file: "CoLA.tsv", task: "cola", encoding: .classDigit),
        Entry(file: "SST-2.tsv", task: "sst2", encoding: .classDigit),
        Entry(file: "MRPC.tsv", task: "mrpc", encoding: .classDigit),
        Entry(file: "STS-B.tsv", task: "stsb", encoding: .score),
        Entry(file: "QQP.tsv", task: "qqp", encoding: .classDigit),
        Entry(file: "MNLI-m.tsv", task: "mnli", encoding: .labelName(accepted: nli)),
        Entry(file: "MNLI-mm.tsv", task: "mnli_mismatched", encoding: .labelName(accepted: nli)),
        Entry(file: "QNLI.tsv", task: "qnli", encoding: .labelName(accepted: entailment)),
        Entry(file: "RTE.tsv", task: "rte", encoding: .labelName(accepted: entailment)),
        Entry(file: "WNLI.tsv", task: "wnli", encoding: .classDigit),
        Entry(file: "AX.tsv", task: "ax", encoding: .labelName(accepted: nli)),
    ]

    public static let header = "index\tprediction"

    /// A file that can be written: its text, and whether it covers every row of the test file.
    public struct File: Sendable {
        public let name: String
        public let task: String
        public let text: String
        public let rows: Int
        /// Rows of the test file (nil when unknown: a pre-rendered file), and why the file is short of them.
        public let incomplete: String?
    }

    public struct Plan: Sendable {
        public let files: [File]
        /// One line per file that cannot be written: "NAME.tsv (task: reason)".
        public let missing: [String]
    }

    /// Builds every file the run in `runDirectory` can give, reading the label names from `registry`.
    /// Throws, in one line, for a directory that is not a run, a run without any GLUE test predictions,
    /// and anything that would make a written file wrong (a samples file that does not parse, a test file that
    /// changed since the run, labels that are not the server's).
    public static func plan(runDirectory: String, registry: TaskRegistry) throws -> Plan {
        let resultsPath = (runDirectory as NSString).appendingPathComponent("results.json")
        try RegularFile.require(resultsPath)
        guard let data = FileManager.default.contents(atPath: resultsPath),
              let results = try? JSONDecoder().decode(EvaluationResults.self, from: data), results.schema == EvaluationResults.schema else {
            throw TaskError(task: resultsPath, key: "file", reason: "not a \(EvaluationResults.schema) file")
        }
        let provenance = try RunProvenance.load(from: runDirectory)
        var files: [File] = [], missing: [String] = []
        for entry in entries {
            guard let result = results.tasks.first(where: { $0.task == entry.task }) else {
                let skipped = results.skipped.first { $0.task == entry.task }.map { "skipped: \($0.reason)" }
                missing.append("\(entry.file) (\(entry.task): \(skipped ?? "not in the run"))")
                continue
            }
            guard result.split == TaskDefinition.Split.test.rawValue else {
                missing.append("\(entry.file) (\(entry.task): evaluated on the \(result.split) split, not test)")
                continue
            }
            guard let task = registry.tasks.first(where: { $0.task == entry.task }) else {
                missing.append("\(entry.file) (\(entry.task): not a task of \(registry.directory))")
                continue
            }
            files.append(try file(entry, task: task, result: result, runDirectory: runDirectory,
                                  recorded: provenance?.tasks[entry.task], limit: results.limit))
        }
        guard !files.isEmpty else {
            throw TaskError(task: runDirectory, key: "export glue",
                            reason: "no test-split predictions of a GLUE task; evaluate with --split test (missing: \(missing.joined(separator: ", ")))")
        }
        return Plan(files: files, missing: missing)
    }

    static func file(_ entry: Entry, task: TaskDefinition, result: EvaluationResults.TaskResult, runDirectory: String,
                     recorded: [String: String]?, limit: Int?) throws -> File {
        func fail(_ reason: String) -> TaskError { TaskError(task: entry.task, key: entry.file, reason: reason) }
        let labels = task.labelList ?? []
        // The run's predictions are ids in the label order it ran with: names from a task file edited since
        // would be wrong.
        if let ran = recorded?["labels"], ran != (task.labelList?.joined(separator: ",") ?? task.outputType.rawValue) {
            throw fail("the run's labels (\(ran)) differ from the task file's (\(labels.joined(separator: ","))); export with the tasks directory the run used")
        }
        switch entry.encoding {
        case .classDigit where labels.count != 2, .score where task.outputType != .regression:
            throw fail("\(task.task) is not the GLUE task (\(task.outputType.rawValue), labels \(labels.joined(separator: ",")))")
        case .labelName(let accepted) where Set(labels) != accepted || labels.count != accepted.count:
            throw fail("\(task.task)'s labels (\(labels.joined(separator: ","))) are not the names GLUE takes (\(accepted.sorted().joined(separator: ",")))")
        default: break
        }
        let samplesPath = (runDirectory as NSString).appendingPathComponent(result.samplesFile)
        try RegularFile.require(samplesPath)
        guard let bytes = FileManager.default.contents(atPath: samplesPath) else { throw fail("cannot read \(samplesPath)") }
        var records: [Int: SampleRecord] = [:]
        for line in TextLines.split([UInt8](bytes)) where !line.isBlank {
            guard let record = try? JSONDecoder().decode(SampleRecord.self, from: Data(line.bytes)) else {
                throw fail("\(samplesPath):\(line.number): not a sample record")
            }
            records[record.index] = record
        }
        let indexes = try testIndexes(result.file, header: task.format(for: .test).header, recorded: recorded?["data"], fail: fail)
        var lines = [header]
        for record in records.keys.sorted().map({ records[$0]! }) {
            let index: String
            if let indexes {
                guard indexes.indices.contains(record.index), let named = indexes[record.index] else {
                    throw fail("\(samplesPath): row \(record.index) is not a data row of \(result.file)")
                }
                index = named
            } else {
                index = String(record.index)
            }
            lines.append(index + "\t" + (try prediction(record, entry.encoding, labels: labels, fail: fail)))
        }
        // Blank lines are no rows (the reader counts them as unreadable, so they keep their position).
        let expected = indexes.map { rows in Set(rows.indices.filter { rows[$0] != nil }) }
        var incomplete: String?
        if let expected, !expected.isSubset(of: records.keys) {
            incomplete = "\(expected.intersection(records.keys).count) of the \(expected.count) test rows"
        } else if expected == nil, limit != nil || result.skippedRows > 0 {
            incomplete = "\(records.count) rows, the run was limited or skipped rows"
        }
        return File(name: entry.file, task: entry.task, text: lines.joined(separator: "\n") + "\n", rows: records.count,
                    incomplete: incomplete.map { "\(entry.file) (\(entry.task): \($0))" })
    }

    /// The `index` value of each data row of the test file the run read, by row position (the samples' row
    /// index; nil for a blank line); the position itself where the file has no `index` column. nil for a
    /// pre-rendered file, whose rows are in the test set's order (their position is the index). The file must be
    /// the one the run read (run.json's SHA-256), or the rows would be named wrongly.
    static func testIndexes(_ path: String, header: Bool, recorded: String?, fail: (String) -> TaskError) throws -> [String?]? {
        if path.hasSuffix(".gz") { return nil }
        do { try RegularFile.require(path) } catch { throw fail("the test file the run read: \(error)") }
        if let recorded {
            let now = "\((path as NSString).lastPathComponent):\(try SHA256.hexDigest(ofFile: path))"
            guard now == recorded else { throw fail("\(path) changed since the run (SHA-256 differs from run.json's)") }
        }
        guard let bytes = FileManager.default.contents(atPath: path) else { throw fail("cannot read \(path)") }
        var lines = TextLines.split([UInt8](bytes))[...]
        func fields(_ line: TextLine) -> [Substring] {
            String(decoding: line.bytes, as: UTF8.self).split(separator: "\t", omittingEmptySubsequences: false)
        }
        let column = header ? lines.popFirst().flatMap { fields($0).firstIndex(of: "index") } : nil
        return lines.enumerated().map { position, line in
            if line.isBlank { return nil }
            let row = fields(line)
            guard let column else { return String(position) }
            return row.indices.contains(column) ? String(row[column]) : String(position)
        }
    }

    static func prediction(_ record: SampleRecord, _ encoding: Encoding, labels: [String], fail: (String) -> TaskError) throws -> String {
        switch encoding {
        case .score:
            guard record.prediction.isFinite else { throw fail("row \(record.index): prediction \(record.prediction) is not a number") }
            return String(format: "%.3f", record.prediction)
        case .classDigit, .labelName:
            let id = Int(exactly: record.prediction) ?? -1
            guard labels.indices.contains(id) else { throw fail("row \(record.index): prediction \(record.prediction) is not a class id") }
            if case .classDigit = encoding { return String(id) }
            return labels[id]
        }
    }
}
