import Checkpoints
import Foundation
import Numerics
import Testing
import TestSupport
@testable import Model

/// Batch- and thread-invariance (docs/numerics.md): the GEMM equals its one-chain-per-element reference bit
/// for bit on every instruction set this CPU has, a row's result does not depend on the call it is in, and
/// every per-row output of the model is identical across threads, batch sizes, batch positions, neighbours
/// and padding. Exact comparisons are right here: all of it runs on one machine in one build.
@Suite struct InvarianceTests {
    static let instructionSets = GEMMInstructionSet.allCases.filter { $0.rawValue <= GEMMInstructionSet.best.rawValue }

    static func linear(_ x: [Float], _ w: [Float], bias: [Float]?, residual: [Float]?, rows: Int, k: Int, n: Int,
                       isa: GEMMInstructionSet, threads: Int = 1) -> [Float] {
        var out = residual ?? [Float](repeating: .nan, count: rows * n)
        x.withUnsafeBufferPointer { xs in
            w.withUnsafeBufferPointer { ws in
                let packed = bias.map { b in b.withUnsafeBufferPointer { PackedMatrix(ws, rows: n, columns: k, bias: $0, instructionSet: isa) } }
                    ?? PackedMatrix(ws, rows: n, columns: k, instructionSet: isa)
                out.withUnsafeMutableBufferPointer { Kernels.linear($0, xs, packed, rows: rows, accumulate: residual != nil, threads: threads) }
            }
        }
        return out
    }

    static func same(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    /// Edge tiles in both directions, K across the 256-wide K blocks, bias and residual starts.
    @Test(arguments: [(1, 1, 1), (7, 48, 13), (33, 300, 65), (13, 5, 40), (25, 520, 97)])
    func gemmEqualsItsChainReferenceOnEveryInstructionSet(rows: Int, k: Int, n: Int) {
        var random = TestRandom(state: UInt64(rows * 7919 + k * 31 + n))
        let x = random.array(rows * k), w = random.array(n * k), bias = random.array(n), residual = random.array(rows * n)
        for (useBias, useResidual) in [(false, false), (true, false), (false, true), (true, true)] {
            var expected = useResidual ? residual : [Float](repeating: 0, count: rows * n)
            x.withUnsafeBufferPointer { xs in
                w.withUnsafeBufferPointer { ws in
                    bias.withUnsafeBufferPointer { bs in
                        expected.withUnsafeMutableBufferPointer {
                            Kernels.linearReference($0, xs, ws, bias: useBias ? bs : nil, rows: rows, inFeatures: k, outFeatures: n, accumulate: useResidual)
                        }
                    }
                }
            }
            for isa in Self.instructionSets {
                let got = Self.linear(x, w, bias: useBias ? bias : nil, residual: useResidual ? residual : nil, rows: rows, k: k, n: n, isa: isa)
                #expect(Self.same(got, expected), "\(isa.name) \(rows)x\(k)->\(n) bias \(useBias) residual \(useResidual): max |diff| \(zip(got, expected).map { abs($0 - $1) }.max() ?? 0)")
            }
        }
    }

    /// A row's result is the same alone, inside a larger call at any offset, and on 1, 2 or 4 threads (the
    /// splits by panels and by rows both).
    @Test func gemmRowsDoNotDependOnTheCall() {
        let (rows, k, n) = (70, 300, 200)
        var random = TestRandom(state: 11)
        let x = random.array(rows * k), w = random.array(n * k)
        for isa in Self.instructionSets {
            let whole = Self.linear(x, w, bias: nil, residual: nil, rows: rows, k: k, n: n, isa: isa)
            for threads in [2, 4] {
                #expect(Self.same(Self.linear(x, w, bias: nil, residual: nil, rows: rows, k: k, n: n, isa: isa, threads: threads), whole), "\(isa.name) \(threads) threads")
            }
            for (start, count) in [(0, 1), (5, 12), (33, 1), (69, 1), (13, 57)] {
                let part = Self.linear(Array(x[(start * k)..<((start + count) * k)]), w, bias: nil, residual: nil, rows: count, k: k, n: n, isa: isa)
                #expect(Self.same(part, Array(whole[(start * n)..<((start + count) * n)])), "\(isa.name) rows \(start)..<\(start + count)")
            }
        }
        // Narrow outputs split by rows rather than panels.
        let narrow = Self.linear(x, Array(w.prefix(3 * k)), bias: nil, residual: nil, rows: rows, k: k, n: 3, isa: .current, threads: 1)
        #expect(Self.same(Self.linear(x, Array(w.prefix(3 * k)), bias: nil, residual: nil, rows: rows, k: k, n: 3, isa: .current, threads: 4), narrow))
    }

    /// Attention: a row's outputs do not move with right padding, masked gaps, the other rows of the batch,
    /// or threads, and match the eager upstream formula within fp32 rounding.
    @Test func attentionOutputsDependOnlyOnVisibleKeys() {
        let heads = 4, kvHeads = 2, d = 64, length = 30
        var random = TestRandom(state: 5)
        let q = random.array(length * heads * d), k = random.array(length * kvHeads * d), v = random.array(length * kvHeads * d)
        func run(batchOf other: Int, padTo padded: Int, gapAt gap: Int?, threads: Int) -> [Float] {
            // Row 0 is the row under test (its keys at positions 0 ..< 30, a masked gap shifted in if asked);
            // rows 1 ..< batch are random neighbours.
            let batch = 1 + other
            var qs = random.array(batch * padded * heads * d), ks = random.array(batch * padded * kvHeads * d), vs = random.array(batch * padded * kvHeads * d)
            var mask = [Float](repeating: 1, count: batch * padded)
            var positions = Array(0..<length)
            if let gap { positions = positions.map { $0 < gap ? $0 : $0 + 1 }; mask[gap] = 0 }
            for j in positions.last! + 1 ..< padded { mask[j] = 0 }
            for (i, p) in positions.enumerated() {
                for m in 0..<(heads * d) { qs[p * heads * d + m] = q[i * heads * d + m] }
                for m in 0..<(kvHeads * d) { ks[p * kvHeads * d + m] = k[i * kvHeads * d + m]; vs[p * kvHeads * d + m] = v[i * kvHeads * d + m] }
            }
            let shape = AttentionShape(batch: batch, queryLength: padded, keyLength: padded, heads: heads, kvHeads: kvHeads, headDim: d)
            let out = BLASRuntime.withThreads(threads) { KernelCalls.attention(q: qs, k: ks, v: vs, keyMask: mask, shape: shape) }
            return positions.flatMap { out[($0 * heads * d)..<(($0 + 1) * heads * d)] }
        }
        let alone = run(batchOf: 0, padTo: length, gapAt: nil, threads: 1)
        for (other, padded, gap, threads) in [(0, 40, nil, 1), (2, 40, nil, 2), (3, 100, 7, 4), (1, 31, 0, 1), (5, 256, 29, 2)] as [(Int, Int, Int?, Int)] {
            #expect(Self.same(run(batchOf: other, padTo: padded, gapAt: gap, threads: threads), alone), "\(other) neighbours, padded to \(padded), gap \(String(describing: gap)), \(threads) threads")
        }
        var reference = [Float](repeating: 0, count: length * heads * d)
        let shape = AttentionShape(batch: 1, queryLength: length, keyLength: length, heads: heads, kvHeads: kvHeads, headDim: d)
        [Float](repeating: 1, count: length).withUnsafeBufferPointer { m in
            q.withUnsafeBufferPointer { qs in k.withUnsafeBufferPointer { ks in v.withUnsafeBufferPointer { vs in
                reference.withUnsafeMutableBufferPointer { Kernels.attentionReference($0, q: qs, k: ks, v: vs, keyMask: m, shape: shape) }
            } } }
        }
        #expect(relativeError(alone, reference) < 2e-6)
    }

    /// The whole model: every per-row output identical across 1, 2 and 4 threads, batch sizes 1, 3, 8 and
    /// 17, two offsets, padded to the batch's longest row and 24 positions beyond, in text, pixel and pair
    /// mode, with lm heads and with a classification head; and the causal prefix.
    @Test(arguments: [nil, 3] as [Int?])
    func forwardOutputsAreInvariant(numLabels: Int?) throws {
        let directory = try TemporaryDirectory()
        var config = PixelGPTConfig.preset(.tiny)
        if let numLabels { config = config.forSequenceClassification(numLabels: numLabels) }
        _ = try RandomCheckpoint.write(config: config, seed: 3, to: directory.path)
        let model = try PixelGPTModel.load(path: directory.path).model
        let report = try InvarianceCheck.run(model: model, rows: InvarianceCheck.syntheticRows(for: model),
                                             threads: [1, 2, 4], batchSizes: [1, 3, 8, 17])
        #expect(Set(report.findings.map(\.modality)) == ["text", "pixel", "pair"])
        #expect(report.findings.contains { $0.output == (numLabels == nil ? "token_logits" : "pooled_logits") })
        if numLabels != nil { #expect(report.findings.contains { $0.modality == "pair" && $0.output == "pooled_logits (last-real-token)" }) }
        for finding in report.findings where !finding.identical {
            Issue.record("\(finding.modality) \(finding.output): max |diff| \(finding.maxAbsDiff) first at \(finding.firstDifference ?? "?")")
        }
        #expect(report.passed)
    }
}
