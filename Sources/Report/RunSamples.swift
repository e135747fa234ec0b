import Eval
import Foundation
import Render

/// One task of one run as the HTML report shows it: results.json's entry, the task's definition, and per
/// evaluated row its text(s) (read back from the data file the run names), gold and predicted label and
/// probabilities (samples_TASK.jsonl), and for pixel and pair modality the strip the model read.
struct RunSamples {
    struct Row {
        let record: SampleRecord
        let textA: String
        let textB: String?
        /// Softmax of the logits (classification); empty for regression.
        let probabilities: [Double]
    }

    /// What the page says about a row's strip, kept instead of its pixels (a split's strips would not fit in
    /// memory together).
    struct StripLayout {
        /// The end patch's index: the text (and separator) patches before it.
        let numTextPatches: Int
        /// Separator then end patch for a pair; the end patch for a single text.
        let markedPatches: [Int]
        /// The text reaches the last patch, so it may be cut.
        let fillsStrip: Bool

        init(_ strip: RenderedStrip) {
            numTextPatches = strip.numTextPatches
            markedPatches = strip.sepPatches.map { $0 / strip.pixelsPerPatch }
            fillsStrip = strip.numTextPatches + 1 >= strip.maxSeqLength
        }
    }

    let runIndex: Int
    let results: EvaluationResults
    let result: EvaluationResults.TaskResult
    let task: TaskDefinition
    /// Patches per strip the run used for this task; nil in text modality.
    let sequenceLength: Int?
    var rows: [Row]

    /// "r0-cola": the task's key in the page, its data file and its strip folder.
    var key: String { "r\(runIndex)-" + result.task.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "-" }.map(String.init).joined() }

    var isClassification: Bool { task.outputType == .classification }

    /// Reads the samples file and the data rows behind it; `runDirectory` holds results.json.
    init(runIndex: Int, results: EvaluationResults, result: EvaluationResults.TaskResult, task: TaskDefinition,
         runDirectory: String) throws(ReportError) {
        self.runIndex = runIndex
        self.results = results
        self.result = result
        self.task = task
        let samplesPath = (runDirectory as NSString).appendingPathComponent(result.samplesFile)
        guard let samplesData = FileManager.default.contents(atPath: samplesPath) else {
            throw ReportError(file: samplesPath, reason: "missing or unreadable; the run's samples are needed for --html")
        }
        var records: [SampleRecord] = []
        for (number, line) in samplesData.split(separator: UInt8(ascii: "\n")).enumerated() {
            guard let record = try? JSONDecoder().decode(SampleRecord.self, from: Data(line)) else {
                throw ReportError(file: samplesPath, key: "line \(number + 1)", reason: "not a sample record")
            }
            records.append(record)
        }
        records.sort { $0.index < $1.index }

        guard let split = TaskDefinition.Split(rawValue: result.split) else {
            throw ReportError(file: runDirectory, key: "tasks.\(result.task).split", reason: "\"\(result.split)\" is not train, validation or test")
        }
        let unlabeled = !result.labeled && (task.unlabeledFiles?[split].map { result.file.hasSuffix($0) } ?? false)
        let preRendered = task.renderedFiles?[split].map { result.file.hasSuffix($0) } ?? false
        let data: DatasetSplit
        do {
            data = preRendered ? try DatasetReader.readRendered(result.file, task: task)
                : try DatasetReader.read(result.file, task: task, split: split, unlabeled: unlabeled)
        } catch {
            throw ReportError(file: result.file, reason: "cannot read the run's data file (\(error)); run the report where the run ran")
        }
        let byIndex = Dictionary(data.rows.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
        rows = try records.map { (record) throws(ReportError) -> Row in
            guard let row = byIndex[record.index] else {
                throw ReportError(file: samplesPath, key: "index \(record.index)", reason: "no such row in \(result.file); the data file changed since the run")
            }
            // A record edited or damaged since the run would mislabel the page (or trap converting a
            // prediction that is no class).
            if let problem = record.problem(against: row, classes: task.outputType == .classification ? task.numLabels : nil) {
                throw ReportError(file: samplesPath, key: "index \(record.index)", reason: problem)
            }
            return Row(record: record, textA: row.textA, textB: row.textB,
                       probabilities: task.outputType == .classification ? Self.softmax(record.logits) : [])
        }
        sequenceLength = results.modality == "text" ? nil
            : Self.recordedSequenceLength(runDirectory: runDirectory, task: result.task) ?? task.pixelgpt.sequenceLength[
                TaskDefinition.Modality(rawValue: results.modality) ?? .pixel]
    }

    /// The patches per strip run.json recorded for the task when the run has one (the task file may have
    /// changed since).
    static func recordedSequenceLength(runDirectory: String, task: String) -> Int? {
        guard let tasks = recordedRun(runDirectory)?["tasks"] as? [String: Any], let settings = tasks[task] as? [String: Any],
              let value = settings["sequence-length"] as? String else { return nil }
        return Int(value)
    }

    /// Whether run.json says the run read the original's pre-rendered images (--rendered) instead of rendering.
    static func readPreRenderedImages(runDirectory: String) -> Bool {
        (recordedRun(runDirectory)?["settings"] as? [String: Any])?["rendered"] as? String == "true"
    }

    /// The run's run.json (schema pixelgpt.eval-run) as JSON, when it has one.
    static func recordedRun(_ runDirectory: String) -> [String: Any]? {
        let path = (runDirectory as NSString).appendingPathComponent("run.json")
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    static func softmax(_ logits: [Float]) -> [Double] {
        let values = logits.map(Double.init)
        guard let top = values.max(), top.isFinite else { return values.map { _ in .nan } }
        let exps = values.map { Foundation.exp($0 - top) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }

    /// Label names by class id; "#k" past the list.
    func labelName(_ value: Double?) -> String? {
        guard let value else { return nil }
        guard isClassification else { return String(format: "%.3f", value) }
        let id = Int(value)
        if let names = task.labelList, names.indices.contains(id) { return names[id] }
        return "#\(id)"
    }

    /// Renders row `i`'s strip as the featurizer does (the same `RenderRequest` call, rgb, the run's patches
    /// per strip); nil in text modality.
    func strip(_ i: Int, with renderer: TextRenderer) throws(ReportError) -> RenderedStrip? {
        guard let sequenceLength else { return nil }
        let request = RenderRequest(text: rows[i].textA, textPair: rows[i].textB, maxSeqLength: sequenceLength, mode: .rgb)
        do {
            return try request.render(with: renderer)
        } catch {
            throw ReportError(file: result.file, key: "row \(rows[i].record.index)", reason: "cannot render: \(error)")
        }
    }
}
