import Checkpoints
import Foundation
import Model
import TestSupport
import Testing
@testable import Eval

/// Issue 18, item 6: a `--head checkpoint` classifier whose id2label orders the task's labels differently was
/// evaluated without a word, every row scored under the wrong label. Refused naming both orders; generic
/// names (LABEL_0, ...) and the task's own order pass.
@Suite struct CheckpointLabelOrderTests {
    func run(labels: [String]?, backbone: String, in dir: TemporaryDirectory, name: String) throws -> Result<EvaluationResults, Error> {
        let location = try CheckpointLocation.resolve(backbone)
        let loaded = try PixelGPTModel.load(path: backbone)
        let config = loaded.model.config
        let classifier = dir.file(name)
        let score = (0..<(2 * config.hiddenSize)).map { Float($0 % 7) * 0.01 - 0.03 }
        _ = try ClassificationCheckpointWriter.write(source: location, config: config, labels: labels ?? ["LABEL_0", "LABEL_1"], score: score, to: classifier)
        var options = try EvaluationRunTests.options(classifier, tasks: "rte", modality: .pixel, output: dir.file("out-\(name)"))
        (options.head, options.limit) = (.checkpoint, 4)
        return Result { try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run() }
    }

    @Test func aClassifierWithAnotherLabelOrderIsRefused() throws {
        let dir = try TemporaryDirectory()
        let backbone = try EvaluationRunTests.checkpoint(in: dir)
        guard case .failure(let error) = try run(labels: ["not_entailment", "entailment"], backbone: backbone, in: dir, name: "swapped") else {
            Issue.record("a classifier with swapped labels was evaluated")
            return
        }
        let message = "\(error)"
        #expect(message.contains("id2label") && message.contains("(not_entailment, entailment)") && message.contains("(entailment, not_entailment)"), "\(message)")
        #expect(!message.contains("\n"))
        for (labels, name) in [(["entailment", "not_entailment"], "same"), (nil, "generic")] as [([String]?, String)] {
            let result = try run(labels: labels, backbone: backbone, in: dir, name: name)
            if case .failure(let error) = result { Issue.record("\(name): \(error)") }
        }
    }
}
