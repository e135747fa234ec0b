import Foundation
import TestSupport
import Testing
@testable import Eval

/// samples_TASK.jsonl lines carry the row's text(s) and the names of the gold and predicted labels beside the
/// ids (as lm-eval's samples carry the doc), and lines written before these fields still decode on --resume.
@Suite struct SampleRecordTests {
    /// `--resume` reads records back: one that cannot be the row's result under this head is refused before it
    /// reaches the metrics (found by scripts/fuzz.py: a prediction of 9.2e18 trapped converting it to a class).
    @Test func aResumedRecordMustBeItsRowsResult() throws {
        let row = ExampleRow(index: 3, line: 5, textA: "A man plays.", textB: "Nobody plays.", label: .classIndex(1))
        let good = SampleRecord(row: row, prediction: 2, logits: [0.1, 0.2, 0.7], labelNames: ["e", "n", "c"])
        #expect(good.problem(against: row, classes: 3) == nil)
        // An old line without texts is still its row's.
        #expect(SampleRecord(index: 3, label: 1, prediction: 2, logits: [0.1, 0.2, 0.7]).problem(against: row, classes: 3) == nil)
        func problem(_ edit: (inout [String: Any]) -> Void) throws -> String? {
            var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(good)) as! [String: Any]
            edit(&object)
            let record = try JSONDecoder().decode(SampleRecord.self, from: JSONSerialization.data(withJSONObject: object))
            return record.problem(against: row, classes: 3)
        }
        #expect(try problem { $0["prediction"] = 9.223372036854776e18 }?.contains("not the argmax") == true)
        #expect(try problem { $0["prediction"] = 1 }?.contains("not the argmax") == true)
        #expect(try problem { $0["prediction"] = -1 }?.contains("not the argmax") == true)
        #expect(try problem { $0["logits"] = [0.1, 0.9] }?.contains("2 logits where the head gives 3") == true)
        #expect(try problem { $0["label"] = 0 }?.contains("label 0.0 is not the data file's 1.0") == true)
        #expect(try problem { $0["label"] = nil }?.contains("label none") == true)
        #expect(try problem { $0["text"] = "Another text." }?.contains("text is not the data file's row 3") == true)
        // Regression: the prediction is the score itself.
        let scored = ExampleRow(index: 0, line: 1, textA: "x", textB: "y", label: .score(3.5))
        #expect(SampleRecord(row: scored, prediction: 2.25, logits: [2.25], labelNames: nil).problem(against: scored, classes: nil) == nil)
        #expect(SampleRecord(index: 0, label: 3.5, prediction: 2.5, logits: [2.25]).problem(against: scored, classes: nil)?.contains("not its score") == true)
        #expect(SampleRecord(index: 0, label: 3.5, prediction: .infinity, logits: [.infinity]).problem(against: scored, classes: nil) != nil)
    }

    @Test func aRecordNamesItsLabelsAndKeepsBothTexts() throws {
        let row = ExampleRow(index: 3, line: 5, textA: "A man plays.", textB: "Nobody plays.", label: .classIndex(2))
        let record = SampleRecord(row: row, prediction: 0, logits: [0.9, 0.05, 0.05], labelNames: ["entailment", "neutral", "contradiction"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let line = String(decoding: try encoder.encode(record), as: UTF8.self)
        #expect(line == #"{"index":3,"label":2,"label_name":"contradiction","logits":[0.9,0.05,0.05],"prediction":0,"#
            + #""prediction_name":"entailment","text":"A man plays.","text_pair":"Nobody plays."}"#)

        // Regression rows and unlabeled rows have no names; a single-text row has no text_pair.
        let score = SampleRecord(row: ExampleRow(index: 0, line: 1, textA: "x", textB: "y", label: .score(3.5)), prediction: 2.5, logits: [2.5], labelNames: nil)
        #expect(score.labelName == nil && score.predictionName == nil && score.textPair == "y")
        let unlabeled = SampleRecord(row: ExampleRow(index: 0, line: 1, textA: "x", textB: nil, label: nil), prediction: 1, logits: [0, 1],
                                     labelNames: ["no", "yes"])
        #expect(unlabeled.labelName == nil && unlabeled.predictionName == "yes" && unlabeled.textPair == nil)
        #expect(!String(decoding: try encoder.encode(unlabeled), as: UTF8.self).contains("text_pair"))
    }

    /// A run interrupted before the texts were recorded is resumed: its old lines decode (without texts) and
    /// are kept byte for byte; the rows computed now are appended with theirs.
    @Test func oldLinesWithoutTextsStillResume() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("samples_rte.jsonl")
        let old = #"{"index":0,"label":1,"logits":[0.25,0.75],"prediction":1}"# + "\n"
        try old.write(toFile: path, atomically: true, encoding: .utf8)
        let log = try SampleLog(path: path, resume: true)
        #expect(log.records[0] == SampleRecord(index: 0, label: 1, prediction: 1, logits: [0.25, 0.75]))
        #expect(log.records[0]?.text == nil)
        let row = ExampleRow(index: 1, line: 3, textA: "It rains.", textB: "It is wet.", label: .classIndex(0))
        try log.append([SampleRecord(row: row, prediction: 0, logits: [1, 0], labelNames: ["entailment", "not_entailment"])])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix(old))
        #expect(try SampleLog(path: path, resume: true).orderedRecords.map(\.labelName) == [nil, "entailment"])
    }
}
