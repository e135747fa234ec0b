import Checkpoints
import Foundation
import Support
import Testing
@testable import Model
@testable import Training

/// The trainable tail's forward pass is the model's (issue 9, item 2; issue 15): for K = 0 ... N layers, in
/// every modality with padding, its logits are the model's pooled logits bit for bit; and its parameters
/// are the checkpoint's tensors under their checkpoint names.
@Suite struct TrainingTailTests {
    @Test(arguments: [Modality.text, .pixel, .pair])
    func logitsMatchTheModel(modality: Modality) throws {
        let model = try TrainingFixtures.model(TrainingFixtures.config(numLabels: 3))
        let inputs = try TrainingFixtures.inputs(modality)
        let expected = try #require(try model.forward(inputs).pooledLogits)
        for k in 0...model.config.numHiddenLayers {
            let tail = try TrainableTail(model: model, trainLayers: k, numLabels: 3)
            let examples = try model.tailExamples(inputs, trainLayers: k)
            // The tail runs the model's own decoder layer: the inference bits, alone or batched.
            #expect(examples.flatMap { tail.logits($0) } == expected, "\(modality) K=\(k)")
            #expect(tail.logits(examples) == expected, "\(modality) K=\(k), batched")
            // The Double reference that the gradient tests differentiate computes the same function.
            let parameters = tail.parameters.map(Double.init)
            let reference = examples.flatMap { tail.referenceLogits($0, parameters: parameters) }
            #expect(relativeError(reference.map(Float.init), expected) < 1e-5, "\(modality) K=\(k), reference")
        }
    }

    /// A pooled row inside its example (it sees no key, so the example keeps the whole sequence): the last
    /// layer runs every row, and the logits are still the model's bits.
    @Test func pooledRowInsideItsExample() throws {
        let model = try TrainingFixtures.model(TrainingFixtures.config(numLabels: 3))
        let inputs = try TrainingFixtures.pairPoolingAMaskedSlot()
        let expected = try #require(try model.forward(inputs).pooledLogits)
        for k in 0...model.config.numHiddenLayers {
            let examples = try model.tailExamples(inputs, trainLayers: k)
            if k > 0 { #expect(examples[0].length == 9 && examples[0].pooledRow == 3, "K=\(k)") }
            let tail = try TrainableTail(model: model, trainLayers: k, numLabels: 3)
            #expect(tail.logits(examples) == expected, "K=\(k)")
            let reference = examples.flatMap { tail.referenceLogits($0, parameters: tail.parameters.map(Double.init)) }
            #expect(relativeError(reference.map(Float.init), expected) < 1e-5, "K=\(k), reference")
        }
    }

    /// A CausalLM checkpoint has no score: the tail takes a given one, and its logits are the model's
    /// last hidden state at the pooled row times that score.
    @Test func givenScoreOnACausalLM() throws {
        let model = try TrainingFixtures.model(TrainingFixtures.config(attentionBias: true))
        #expect(model.weights.score == nil)
        #expect(throws: ModelError.self) { try TrainableTail(model: model, trainLayers: 1, numLabels: 2) }
        var generator = SplitMix64(state: 5)
        let score = (0..<16).flatMap { _ in let (a, b) = generator.nextNormalPair(); return [Float(a * 0.5), Float(b * 0.5)] }
        let inputs = try TrainingFixtures.inputs(.pair)
        let output = try model.forward(inputs, options: ForwardOptions(lmHeads: false))
        let pooled = Pooling.poolingIndex(inputs, padTokenId: model.padTokenId)
        let h = 16, length = inputs.sequenceLength
        var expected: [Float] = []
        for (b, p) in pooled.enumerated() {
            let row = output.lastHiddenState[((b * length + p) * h)..<((b * length + p + 1) * h)]
            for label in 0..<2 { expected.append(zip(row, score[(label * h)..<((label + 1) * h)]).reduce(0) { $0 + $1.0 * $1.1 }) }
        }
        for k in [1, 3] {
            let tail = try TrainableTail(model: model, trainLayers: k, numLabels: 2, score: score)
            #expect(relativeError(tail.logits(try model.tailExamples(inputs, trainLayers: k)), expected) < 1e-5, "K=\(k)")
        }
    }

    @Test func layoutNamesTheCheckpointTensors() throws {
        let model = try TrainingFixtures.model(TrainingFixtures.config(attentionBias: true, numLabels: 2))
        let tail = try TrainableTail(model: model, trainLayers: 2, numLabels: 2)
        let names = tail.tensorLayout.map(\.name)
        let expectedNames = model.config.stateDictParameters.map(\.name).filter {
            $0.hasPrefix("model.layers.1.") || $0.hasPrefix("model.layers.2.") || $0 == "model.norm.weight" || $0 == "score.weight"
        }
        #expect(Set(names) == Set(expectedNames) && names.count == expectedNames.count)
        #expect(names.first == "model.layers.1.input_layernorm.weight" && names.suffix(2) == ["model.norm.weight", "score.weight"])
        // Contiguous ranges covering the vector, each holding the checkpoint's values.
        var offset = 0
        for tensor in tail.tensorLayout {
            #expect(tensor.range.lowerBound == offset)
            offset = tensor.range.upperBound
            let stored = try #require(model.weights.allTensors.first { $0.name == tensor.name })
            #expect(stored.shape == tensor.shape)
            #expect(tail.tensor(named: tensor.name) == stored.withFloat32(Array.init), "\(tensor.name)")
            let exempt = tensor.name.hasSuffix("norm.weight") || tensor.name.hasSuffix(".bias")
            #expect(tensor.decays == !exempt, "\(tensor.name)")
        }
        #expect(offset == tail.parameters.count)
        #expect(tail.weightDecayMask.count == offset)
        #expect(tail.weightDecayMask.filter { !$0 }.count == tail.tensorLayout.filter { !$0.decays }.reduce(0) { $0 + $1.range.count })

        let head = try TrainableTail(model: model, trainLayers: 0, numLabels: 2)
        #expect(head.tensorLayout.map(\.name) == ["model.norm.weight", "score.weight"])
        #expect(throws: ModelError.self) { try TrainableTail(model: model, trainLayers: 4, numLabels: 2) }
        #expect(throws: ModelError.self) { try TrainableTail(model: model, trainLayers: 1, numLabels: 3) }  // score has 2 rows
        #expect(throws: ModelError.self) { try model.tailExamples(TrainingFixtures.inputs(.text), trainLayers: -1) }
    }

    /// Examples keep only the rows the pooled output depends on, at their own positions (SPEC 3.4, 3.5).
    @Test func examplesKeepTheVisibleRowsAtTheirPositions() throws {
        let model = try TrainingFixtures.model(TrainingFixtures.config(numLabels: 2))
        let pair = try TrainingFixtures.inputs(.pair)  // P = 6; patches [3, 5, 2], texts [4, 6, 2] of 6
        let examples = try model.tailExamples(pair, trainLayers: 1)
        #expect(examples[0].positions == [0, 1, 2] + Array(6...9))
        #expect(examples[1].positions == [0, 1, 2, 3, 4, 5])  // pools the padded slot P - 1 (SPEC 4)
        #expect(examples[1].keyMask == [1, 1, 1, 1, 1, 0] && examples[1].pooledRow == 5)
        #expect(examples.allSatisfy { $0.sequenceLength == 12 && $0.hidden.count == $0.length * 16 })
        let pixel = try model.tailExamples(TrainingFixtures.inputs(.pixel), trainLayers: 2)  // patches [4, 7, 0] of 7
        #expect(pixel.map(\.length) == [4, 7, 7] && pixel[2].keyMask.allSatisfy { $0 == 0 })  // all-zero mask keeps the whole row
        let head = try model.tailExamples(pair, trainLayers: 0)
        #expect(head.map(\.positions) == [[9], [5], [7]])
    }
}
