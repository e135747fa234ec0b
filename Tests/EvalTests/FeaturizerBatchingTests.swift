import Checkpoints
import Foundation
import Model
import Render
import TestSupport
import Testing
import Text
@testable import Eval

/// The featurizer's length-sorted batching over the pooled path gives the features of the plain upstream
/// batching: consecutive groups (8 in pair mode) in file order, every position run, the pooling index of
/// SPEC 4 on each group, on a tiny random checkpoint and real RTE rows of mixed lengths.
@Suite struct FeaturizerBatchingTests {
    static func rows() throws -> [ExampleRow] {
        let registry = try TaskRegistry(directory: PythonReference.repositoryRoot + "/tasks")
        let rte = try #require(registry.tasks.first { $0.task == "rte" })
        return Array(try DatasetReader.read(EvaluationRunTests.samples + "/glue/RTE/dev.tsv", task: rte, split: .validation).rows.prefix(19))
    }

    /// Features the way the original scripts batch: groups of `effectiveBatchSize` in order, full forward.
    static func upstreamFeatures(_ featurizer: Featurizer, rows: [ExampleRow], batchSize: Int) throws -> [Float] {
        let group = featurizer.effectiveBatchSize(batchSize), h = featurizer.featureSize
        var features: [Float] = []
        for start in stride(from: 0, to: rows.count, by: group) {
            let inputs = try featurizer.inputs(for: Array(rows[start..<min(rows.count, start + group)]))
            let output = try featurizer.model.forward(inputs, options: ForwardOptions(lmHeads: false))
            let index = Pooling.poolingIndex(inputs, padTokenId: featurizer.padTokenId, rule: featurizer.pooling)
            for (b, p) in index.enumerated() {
                let at = (b * output.sequenceLength + p) * h
                features += output.lastHiddenState[at..<(at + h)]
            }
        }
        return features
    }

    @Test(arguments: EvaluationRunTests.modalities([.pixel, .text, .pair]), [PoolingRule.upstream, .lastRealToken])
    func sortedBatchesGiveTheUpstreamFeatures(modality: TaskDefinition.Modality, pooling: PoolingRule) throws {
        let tokenizerPath = EvaluationRunTests.tokenizer
        let dir = try TemporaryDirectory()
        let model = try PixelGPTModel.load(path: try EvaluationRunTests.checkpoint(in: dir)).model
        let renderer = try TextRenderer(directory: PythonReference.repositoryRoot + "/renderers/noto")
        let tokenizer = try tokenizerPath.map { try SentencePieceTokenizer(contentsOf: $0) }
        // 96 patches: short pairs leave padding, long ones fill the strip (pooling P − 1 in pixel mode).
        let featurizer = try Featurizer(model: model, modality: modality, sequenceLength: 96, pooling: pooling,
                                        tokenizer: tokenizer, renderer: renderer)
        let rows = try Self.rows()
        let expected = try Self.upstreamFeatures(featurizer, rows: rows, batchSize: 3)
        var reported: [Int] = []
        let sorted = try featurizer.features(of: rows, batchSize: 3) { reported.append($0) }
        #expect(sorted.count == expected.count)
        let error = relativeError(sorted, expected)
        // Bit for bit: sorting rows into other batches never changes a row's arithmetic (docs/numerics.md).
        #expect(zip(sorted, expected).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(modality.rawValue) \(pooling.rawValue): max|diff|/max|ref| = \(error)")
        #expect(reported.last == rows.count)
    }

    func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        var diff = 0.0, scale = 0.0
        for (x, y) in zip(a, b) {
            diff = max(diff, abs(Double(x) - Double(y)))
            scale = max(scale, abs(Double(y)))
        }
        return diff / max(scale, 1e-30)
    }
}
