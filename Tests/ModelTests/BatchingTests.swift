import Checkpoints
import Foundation
import Numerics
import Testing
@testable import Model

/// The pooled path (`pooledHiddenStates`) runs only the positions the pooled states can see; on every golden
/// input (right and left padding, pair mode pooling P − 1, dynamic NTK past max positions) it must give
/// the full forward's last hidden state at the pooled positions (SPEC 3.4, 3.5, 4), bit for bit.
@Suite struct BatchingTests {
    static let cases = (try? GoldenFixtures.manifest()) ?? []

    @Test(arguments: BatchingTests.cases)
    func pooledPathEqualsTheFullForward(_ fixture: GoldenFixtures.Case) throws {
        let model = try PixelGPTModel.load(path: fixture.directory).model
        let inputs = try ForwardContract.readInputs(path: fixture.inputsPath)
        guard inputs.modality == .text || model.weights.patchEmbedding != nil else { return }
        let full = try model.forward(inputs, options: ForwardOptions(lmHeads: false))
        for rule in PoolingRule.allCases {
            let index = Pooling.poolingIndex(inputs, padTokenId: model.padTokenId, rule: rule)
            let h = model.config.hiddenSize, length = inputs.sequenceLength
            var expected: [Float] = []
            for (b, p) in index.enumerated() {
                let start = (b * length + p) * h
                expected += full.lastHiddenState[start..<(start + h)]
            }
            let pooled = try model.pooledHiddenStates(inputs, at: index)
            // Bit for bit: the kernels never let the kept positions or the batch change a row's arithmetic.
            #expect(pooled.count == expected.count && zip(pooled, expected).allSatisfy { $0.bitPattern == $1.bitPattern },
                    "\(fixture.name) \(rule.rawValue): relative \(relativeError(pooled, expected))")
        }
    }

    /// What is kept: a right-padded pixel row needs num_patches + 1 patches; pair mode keeps P − 1 only
    /// when a row pools it and keeps text at its upstream positions; a pooled query with no visible key
    /// keeps everything (upstream weighs all L keys equally there).
    @Test func keptPositions() {
        // Pixel, L = 8: rows attend 3 and 5 patches and pool their last attended one.
        let pixelMask: [Float] = [1, 1, 1, 0, 0, 0, 0, 0,   1, 1, 1, 1, 1, 0, 0, 0]
        #expect(PixelGPTModel.keptPositions(mask: pixelMask, pooled: [2, 4], length: 8) == [0, 1, 2, 3, 4])
        // Pair, P = 4 (2 and 3 real patches), T = 3: row 0 pools P − 1 = 3 (masked), row 1 its text token 1 (position 5).
        let pairMask: [Float] = [1, 1, 0, 0, 1, 1, 1,   1, 1, 1, 0, 1, 1, 0]
        #expect(PixelGPTModel.keptPositions(mask: pairMask, pooled: [3, 5], length: 7) == [0, 1, 2, 3, 4, 5])
        #expect(PixelGPTModel.keptPositions(mask: pairMask, pooled: [5, 5], length: 7) == [0, 1, 2, 4, 5])
        // A row whose pooled query sees no key.
        #expect(PixelGPTModel.keptPositions(mask: [0, 0, 1, 1], pooled: [1], length: 4) == [0, 1, 2, 3])
    }

    /// Right padding beyond the last pooled position changes nothing: the same rows padded to 8 or to 12
    /// patches give the same pooled states (the pass runs the same positions either way).
    @Test func rightPaddingIsDropped() throws {
        let model = try PixelGPTModel.load(path: GoldenFixtures.root + "/gqa_causal").model
        func inputs(patches: Int) throws -> ForwardInputs {
            var generator = TestRandom(state: 4)
            let strip = (0..<(2 * 3 * 16 * 16 * 8)).map { _ in (generator.next() + 1) / 2 }
            var pixels = [Float](repeating: 1, count: 2 * 3 * 16 * 16 * patches)
            for row in 0..<(2 * 3 * 16) { for x in 0..<(16 * 8) { pixels[row * 16 * patches + x] = strip[row * 16 * 8 + x] } }
            let attended = [4, 6]
            let mask = (0..<(2 * patches)).map { Float($0 % patches < attended[$0 / patches] ? 1 : 0) }
            return try ForwardInputs(attentionMask: InputArray(shape: [2, patches], values: mask),
                                     pixelValues: InputArray(shape: [2, 3, 16, 16 * patches], values: pixels))
        }
        let short = try inputs(patches: 8), long = try inputs(patches: 12)
        let a = try model.pooledHiddenStates(short, at: Pooling.poolingIndex(short, padTokenId: model.padTokenId))
        let b = try model.pooledHiddenStates(long, at: Pooling.poolingIndex(long, padTokenId: model.padTokenId))
        #expect(a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }, "relative \(relativeError(a, b))")
        #expect(throws: ModelError.self) { try model.pooledHiddenStates(short, at: [0]) }
    }
}
