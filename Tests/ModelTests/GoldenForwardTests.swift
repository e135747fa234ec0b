import Checkpoints
import Foundation
import Numerics
import Testing
@testable import Model

/// The forward pass against the committed numpy reference (scripts/make_model_fixtures.py): every output
/// of every case within max|diff|/max|ref| < 1e-4 (docs/numerics.md), pooled indices equal.
@Suite struct GoldenForwardTests {
    static let tolerance = 1e-4

    /// The fixtures cover what the contract promises: three modalities, left and right padding, batch 1
    /// and > 1, a pooling head, Llama naming, F16/BF16 storage, the bare-model naming and RoPE scaling.
    @Test func fixturesCoverTheContract() throws {
        let cases = try GoldenFixtures.manifest()
        #expect(cases.count >= 28)
        for needle in ["text_right", "text_left", "text_b1", "pixel_right", "pixel_left", "pair_right", "pair_left", "pair_long", "text_long"] {
            #expect(cases.contains { $0.case.hasPrefix(needle) }, "no fixture case \(needle)*")
        }
        for checkpoint in ["gqa_causal", "mha48_cls3", "mqa_bias_reg_f16", "llama_bf16", "bare_pixel"] {
            #expect(cases.contains { $0.checkpoint == checkpoint }, "no fixture checkpoint \(checkpoint)")
        }
        #expect(cases.contains { $0.outputs.contains("pooled_index") && $0.case.hasPrefix("pair") })
    }

    @Test func everyCaseMatchesTheReference() throws {
        var models: [String: LoadedModel] = [:]
        var worst: [Modality: (Double, String)] = [:]
        for fixture in try GoldenFixtures.manifest() {
            let loaded = try models[fixture.checkpoint] ?? PixelGPTModel.load(path: fixture.directory)
            models[fixture.checkpoint] = loaded
            let inputs = try ForwardContract.readInputs(path: fixture.inputsPath)
            let output = try loaded.model.forward(inputs, options: ForwardOptions(hiddenStates: true))
            let got = contractTensors(output, inputs: inputs)
            let expected = try readTensors(fixture.expectedPath)
            #expect(Set(got.keys) == Set(expected.keys), "\(fixture.name): outputs \(got.keys.sorted()) vs reference \(expected.keys.sorted())")
            for (name, reference) in expected {
                guard let mine = got[name] else { continue }
                #expect(mine.shape == reference.shape, "\(fixture.name) \(name): shape \(mine.shape) vs \(reference.shape)")
                guard mine.shape == reference.shape else { continue }
                if let indices = reference.integers {
                    #expect(mine.integers == indices, "\(fixture.name) \(name): \(mine.integers ?? []) vs \(indices)")
                } else {
                    let error = relativeError(mine.floats, reference.floats)
                    #expect(error < Self.tolerance, "\(fixture.name) \(name): max|diff|/max|ref| = \(error)")
                    if error > worst[inputs.modality]?.0 ?? -1 { worst[inputs.modality] = (error, "\(fixture.name) \(name)") }
                }
            }
        }
        for (modality, (error, place)) in worst.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            print("golden \(modality.rawValue): worst max|diff|/max|ref| = \(String(format: "%.2e", error)) (\(place))")
        }
        #expect(worst.count == 3)
    }

    /// Pair mode reproduces the batch-dependent upstream quirk: the row whose text has no pad pools P − 1.
    @Test func pairPoolingQuirkIsInTheFixtures() throws {
        let fixture = try #require(try GoldenFixtures.manifest().first { $0.checkpoint == "mha48_cls3" && $0.case == "pair_right_b3" })
        let inputs = try ForwardContract.readInputs(path: fixture.inputsPath)
        let reference = try #require(try readTensors(fixture.expectedPath)["pooled_index"]?.integers)
        let unpadded = (0..<inputs.batchSize).filter { b in !(0..<inputs.textLength).contains { inputs.inputIds[b * inputs.textLength + $0] == 2 } }
        #expect(!unpadded.isEmpty)
        for b in unpadded { #expect(reference[b] == Int64(inputs.patchCount - 1)) }
        #expect(Pooling.poolingIndex(inputs, padTokenId: 2).map(Int64.init) == reference)
    }

    /// "Last real token" pooling reads the last position whose mask is 1, and its logits are the score
    /// head applied to that row of the last hidden state.
    @Test func lastRealTokenPooling() throws {
        let fixture = try #require(try GoldenFixtures.manifest().first { $0.checkpoint == "mha48_cls3" && $0.case == "pair_right_b3" })
        let loaded = try PixelGPTModel.load(path: fixture.directory)
        let inputs = try ForwardContract.readInputs(path: fixture.inputsPath)
        let output = try loaded.model.forward(inputs, options: ForwardOptions(pooling: .lastRealToken))
        let mask = inputs.attentionMask, length = inputs.sequenceLength, h = output.hiddenSize
        let score = try #require(loaded.model.weights.score)
        let labels = score.shape[0]
        let weights = score.withFloat32 { Array($0) }
        for b in 0..<inputs.batchSize {
            let last = try #require((0..<length).last { mask[b * length + $0] == 1 })
            #expect(output.pooledIndex?[b] == last)
            let row = Array(output.lastHiddenState[((b * length + last) * h)..<((b * length + last + 1) * h)])
            for k in 0..<labels {
                let logit = (0..<h).reduce(Float(0)) { $0 + row[$1] * weights[k * h + $1] }
                #expect(abs(logit - output.pooledLogits![b * labels + k]) <= 1e-5 * max(1, abs(logit)))
            }
        }
    }

    /// F32 tensors stay in the mapped file; F16 and BF16 tensors are converted and the memory reported.
    @Test func weightStorageIsReported() throws {
        let f32 = try PixelGPTModel.load(path: GoldenFixtures.root + "/gqa_causal")
        #expect(f32.convertedBytes == 0 && f32.mappedBytes > 0 && f32.converted.isEmpty)
        let f16 = try PixelGPTModel.load(path: GoldenFixtures.root + "/mqa_bias_reg_f16")
        let parameters = f16.model.weights.allTensors.reduce(0) { $0 + $1.elementCount }
        #expect(f16.convertedBytes == 4 * parameters && f16.mappedBytes == 0)
        let llama = try PixelGPTModel.load(path: GoldenFixtures.root + "/llama_bf16")
        #expect(llama.model.weights.tokenHead != nil && llama.model.weights.patchEmbedding == nil)
        #expect(!llama.converted.isEmpty && llama.unused.isEmpty)
    }
}
