import Checkpoints
import Foundation
import Numerics
import Testing
@testable import Model

/// Generation with the KV cache agrees with the plain forward pass (issue 4: the first generated token or
/// patch equals the forward pass's argmax or prediction at the same position), and later steps agree with
/// re-running the forward pass over the grown sequence.
@Suite struct GenerationTests {
    @Test(arguments: ["gqa_causal", "llama_bf16"])
    func tokensMatchTheForwardPass(checkpoint: String) throws {
        let model = try PixelGPTModel.load(path: GoldenFixtures.root + "/" + checkpoint).model
        let prompt = [1, 17, 42, 5, 33]
        let generated = try model.generateTokens(prompt: prompt, maxNewTokens: 3, stopAtEOS: false)
        #expect(generated.count == 3)
        var sequence = prompt
        for token in generated {
            let output = try model.forward(ForwardInputs(inputIds: InputArray(shape: [1, sequence.count], values: sequence)))
            let logits = try #require(output.tokenLogits)
            let vocabulary = model.config.vocabSize
            let last = Array(logits[((sequence.count - 1) * vocabulary)...])
            #expect(token == PixelGPTModel.argmax(last), "\(checkpoint) after \(sequence)")
            sequence.append(token)
        }
    }

    @Test func firstPatchMatchesThePixelHead() throws {
        let fixture = GoldenFixtures.root + "/gqa_causal"
        let model = try PixelGPTModel.load(path: fixture).model
        let inputs = try ForwardContract.readInputs(path: fixture + "/pixel_right_b3.inputs.safetensors")
        let patches = inputs.patchCount
        let strip = Array(inputs.pixelValues[0..<(3 * 16 * 16 * patches)])  // row 0
        let result = try model.predictPatches(pixelValues: strip, count: 2)
        #expect(result.predictions.count == 2 && result.pixels.count == 2)
        let output = try model.forward(ForwardInputs(pixelValues: InputArray(shape: [1, 3, 16, 16 * patches], values: strip)))
        let pixelLogits = try #require(output.pixelLogits)
        let last = Array(pixelLogits[((patches - 1) * 768)...])
        #expect(relativeError(result.predictions[0], last) < 1e-5)
        #expect(result.pixels[0].allSatisfy { $0 >= 0 && $0 <= 1 })

        // The second prediction equals the forward pass over the strip extended by the first patch.
        var extended = [Float](repeating: 0, count: 3 * 16 * 16 * (patches + 1))
        let width = 16 * patches, newWidth = width + 16
        for c in 0..<3 {
            for y in 0..<16 {
                for x in 0..<width { extended[(c * 16 + y) * newWidth + x] = strip[(c * 16 + y) * width + x] }
                for x in 0..<16 { extended[(c * 16 + y) * newWidth + width + x] = result.pixels[0][(y * 16 + x) * 3 + c] }
            }
        }
        let second = try model.forward(ForwardInputs(pixelValues: InputArray(shape: [1, 3, 16, newWidth], values: extended)))
        #expect(relativeError(result.predictions[1], Array(second.pixelLogits![(patches * 768)...])) < 1e-5)
    }

    @Test func generationStopsAtMaxPositionsWithoutScaling() throws {
        let model = try PixelGPTModel.load(path: GoldenFixtures.root + "/gqa_causal").model  // max 64 positions
        let generated = try model.generateTokens(prompt: [Int](repeating: 7, count: 60), maxNewTokens: 20, stopAtEOS: false)
        #expect(generated.count == 5)  // positions 60...63 are fed back, the 5th token is predicted at 63
    }
}
