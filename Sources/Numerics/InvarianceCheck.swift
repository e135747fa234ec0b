import Checkpoints
import Foundation
import Support
import Model

/// `pixelgpt numerics invariance`: the same rows through the forward pass under different thread counts,
/// batch sizes, places in the batch, neighbours and amounts of right padding, every per-row output
/// compared bit for bit with the row run alone on one thread (docs/numerics.md). Also the causal prefix:
/// the first n positions of a row against the row cut to n.
public enum InvarianceCheck {
    /// One sequence of the probe, unpadded: text ids, a strip of `patches` patches, or both (pair).
    public struct Row: Sendable {
        public let ids: [Int]
        /// [3, 16, 16 · patches], channel-major.
        public let pixels: [Float]
        public let patches: Int
        /// Real patches (attended) among `patches`; the rest of the strip is the renderer's blank tail.
        public let realPatches: Int

        public init(ids: [Int] = [], pixels: [Float] = [], patches: Int = 0, realPatches: Int? = nil) {
            (self.ids, self.pixels, self.patches) = (ids, pixels, patches)
            self.realPatches = realPatches ?? patches
        }

        var length: Int { patches + ids.count }
    }

    /// One output of one modality: identical everywhere, or the largest difference and where.
    public struct Finding: Sendable, Encodable {
        public let modality: String
        public let output: String
        public let comparisons: Int
        public let identical: Bool
        public let maxAbsDiff: Float
        /// The first setting that differed, e.g. "threads 2, batch 3, offset 1, padding +0".
        public let firstDifference: String?

        enum CodingKeys: String, CodingKey {
            case modality, output, comparisons, identical, maxAbsDiff = "max_abs_diff", firstDifference = "first_difference"
        }
    }

    public struct Report: Sendable, Encodable {
        public let schema = "pixelgpt.invariance"
        public let version = 1
        public let threads: [Int]
        public let batchSizes: [Int]
        public let extraPadding: Int
        public let gemmInstructionSet: String
        public let findings: [Finding]
        /// Every output identical in every setting.
        public let passed: Bool

        init(threads: [Int], batchSizes: [Int], extraPadding: Int, gemmInstructionSet: String, findings: [Finding]) {
            (self.threads, self.batchSizes, self.extraPadding) = (threads, batchSizes, extraPadding)
            (self.gemmInstructionSet, self.findings, passed) = (gemmInstructionSet, findings, findings.allSatisfy(\.identical))
        }

        enum CodingKeys: String, CodingKey {
            case schema, version, threads, batchSizes = "batch_sizes", extraPadding = "extra_padding"
            case gemmInstructionSet = "gemm_instruction_set", findings, passed
        }
    }

    /// Seeded rows for any checkpoint: text rows of awkward lengths (vocabulary-bound ids), pixel strips
    /// with some blank patches, and pair rows on one strip width (pair-mode text positions start at the
    /// batch's strip width, SPEC 3.4, so only rows of one width can share batches invariantly).
    public static func syntheticRows(for model: PixelGPTModel, seed: UInt64 = 7) -> [Modality: [Row]] {
        var random = SplitMix64(state: seed)
        let vocabulary = model.config.vocabSize
        func ids(_ n: Int) -> [Int] { (0..<n).map { _ in 3 + Int(random.next() % UInt64(max(1, vocabulary - 3))) } }
        func strip(_ patches: Int, real: Int) -> [Float] {
            var pixels = [Float](repeating: 1, count: 3 * 16 * 16 * patches)
            for c in 0..<3 { for y in 0..<16 { for x in 0..<(16 * real) {
                pixels[(c * 16 + y) * 16 * patches + x] = Float(random.next() % 256) / 255
            } } }
            return pixels
        }
        var rows: [Modality: [Row]] = [:]
        if model.weights.tokenEmbedding != nil {
            rows[.text] = [30, 3, 17, 64, 1, 40, 9].map { Row(ids: ids($0)) }
        }
        if model.weights.patchEmbedding != nil {
            rows[.pixel] = [(12, 12), (5, 3), (20, 16), (1, 1), (33, 30)].map { Row(pixels: strip($0.0, real: $0.1), patches: $0.0, realPatches: $0.1) }
            if model.weights.tokenEmbedding != nil {
                rows[.pair] = [(6, 11), (3, 2), (8, 25), (5, 7)].map { Row(ids: ids($0.1), pixels: strip(8, real: $0.0), patches: 8, realPatches: $0.0) }
            }
        }
        return rows
    }

    /// Runs every setting and compares. `extraPadding` adds that many padding positions (text) or blank
    /// patches (pixel) beyond the longest row of a batch, in a second pass of every setting.
    public static func run(model: PixelGPTModel, rows: [Modality: [Row]], threads: [Int], batchSizes: [Int],
                           extraPadding: Int = 24) throws -> Report {
        var findings: [Finding] = []
        for modality in [Modality.text, .pixel, .pair] {
            guard let modalityRows = rows[modality], !modalityRows.isEmpty else { continue }
            // Reference: each row alone, one thread, no padding.
            let reference = try BLASRuntime.withThreads(1) {
                try modalityRows.map { try outputs(model, [$0], padTo: nil, modality: modality)[0] }
            }
            var results: [String: (count: Int, worst: Float, first: String?)] = [:]
            func compare(_ got: [String: [Float]], _ want: [String: [Float]], setting: String) {
                for (name, expected) in want {
                    let actual = got[name] ?? []
                    var worst: Float = 0
                    var differs = actual.count != expected.count
                    if !differs {
                        for i in expected.indices where actual[i].bitPattern != expected[i].bitPattern {
                            differs = true
                            worst = max(worst, abs(actual[i] - expected[i]))
                        }
                    } else {
                        worst = .greatestFiniteMagnitude
                    }
                    var entry = results[name] ?? (0, 0, nil)
                    entry.count += 1
                    if differs {
                        entry.worst = max(entry.worst, worst.isFinite ? worst : .greatestFiniteMagnitude)
                        if entry.first == nil { entry.first = setting }
                    }
                    results[name] = entry
                }
            }
            for t in threads {
                for b in batchSizes {
                    for offset in [0, 1] where offset < max(1, modalityRows.count) {
                        for pad in [0, extraPadding] {
                            let setting = "threads \(t), batch \(b), offset \(offset), padding +\(pad)"
                            let got = try BLASRuntime.withThreads(t) { () throws -> [Int: [String: [Float]]] in
                                var got: [Int: [String: [Float]]] = [:]
                                let order = (0..<max(b, modalityRows.count)).map { ($0 + offset) % modalityRows.count }
                                var start = 0
                                while start < order.count {
                                    let members = (0..<b).map { order[(start + $0) % order.count] }
                                    let longest = members.map { modalityRows[$0].length }.max()!
                                    let out = try outputs(model, members.map { modalityRows[$0] }, padTo: longest + pad, modality: modality)
                                    for (i, r) in members.enumerated() where got[r] == nil { got[r] = out[i] }
                                    start += b
                                }
                                return got
                            }
                            for (r, values) in got { compare(values, reference[r], setting: setting) }
                        }
                    }
                }
            }
            // Causal prefix: a row cut to its first half against the first half of the full row (text rows).
            if modality == .text {
                var entry: (count: Int, worst: Float, first: String?) = (0, 0, nil)
                for (r, row) in modalityRows.enumerated() where row.ids.count >= 2 {
                    let n = row.ids.count / 2
                    let cut = try BLASRuntime.withThreads(1) { try outputs(model, [Row(ids: Array(row.ids.prefix(n)))], padTo: nil, modality: .text)[0] }
                    let h = model.config.hiddenSize
                    for k in 0...model.config.numHiddenLayers {
                        let full = reference[r]["hidden_states.\(k)"]!.prefix(n * h), part = cut["hidden_states.\(k)"]!
                        entry.count += 1
                        let worst = zip(full, part).map { abs($0 - $1) }.max() ?? 0
                        if !zip(full, part).allSatisfy({ $0.bitPattern == $1.bitPattern }) {
                            entry.worst = max(entry.worst, worst)
                            if entry.first == nil { entry.first = "row \(r) cut to \(n) tokens, hidden_states.\(k)" }
                        }
                    }
                }
                results["causal prefix (hidden states)"] = entry
            }
            for name in results.keys.sorted(by: { $0.compare($1, options: .numeric) == .orderedAscending }) {
                let e = results[name]!
                findings.append(Finding(modality: modality.rawValue, output: name, comparisons: e.count,
                                        identical: e.first == nil, maxAbsDiff: e.worst, firstDifference: e.first))
            }
        }
        return Report(threads: threads, batchSizes: batchSizes, extraPadding: extraPadding,
                      gemmInstructionSet: BLASRuntime.gemmInstructionSet, findings: findings)
    }

    /// The rows as one right-padded batch (to `padTo`, or their own length for a single row), and each
    /// row's outputs at its own positions: every hidden state, the last hidden state, the lm heads' logits,
    /// the pooled logits and index, and the pooled path's state.
    static func outputs(_ model: PixelGPTModel, _ rows: [Row], padTo: Int?, modality: Modality) throws -> [[String: [Float]]] {
        let batch = rows.count
        let patches = modality == .text ? 0 : (modality == .pair ? rows[0].patches : (padTo ?? rows[0].patches))
        let textLength = modality == .pixel ? 0 : (padTo.map { $0 - patches } ?? rows[0].ids.count)
        let pad = model.padTokenId
        var ids = [Int](), textMask = [Float](), pixels = [Float](), patchMask = [Float]()
        for row in rows {
            if modality != .pixel {
                ids += row.ids + [Int](repeating: pad, count: textLength - row.ids.count)
                textMask += [Float](repeating: 1, count: row.ids.count) + [Float](repeating: 0, count: textLength - row.ids.count)
            }
            if modality != .text {
                var strip = [Float](repeating: 1, count: 3 * 16 * 16 * patches)
                for line in 0..<(3 * 16) {
                    for x in 0..<(16 * row.patches) { strip[line * 16 * patches + x] = row.pixels[line * 16 * row.patches + x] }
                }
                pixels += strip
                patchMask += (0..<patches).map { $0 < row.realPatches ? 1 : 0 }
            }
        }
        let inputs: ForwardInputs
        switch modality {
        case .text:
            inputs = try ForwardInputs(inputIds: InputArray(shape: [batch, textLength], values: ids),
                                       attentionMask: InputArray(shape: [batch, textLength], values: textMask))
        case .pixel:
            inputs = try ForwardInputs(attentionMask: InputArray(shape: [batch, patches], values: patchMask),
                                       pixelValues: InputArray(shape: [batch, 3, 16, 16 * patches], values: pixels))
        case .pair:
            inputs = try ForwardInputs(inputIds: InputArray(shape: [batch, textLength], values: ids),
                                       attentionMask: InputArray(shape: [batch, textLength], values: textMask),
                                       pixelValues: InputArray(shape: [batch, 3, 16, 16 * patches], values: pixels),
                                       patchAttentionMask: InputArray(shape: [batch, patches], values: patchMask))
        }
        // Upstream pair-mode pooling depends on the whole batch by definition (SPEC 4: the original's batches
        // of 8), so pair rows are pooled at their last real token instead; text and pixel use upstream's rule.
        let pooling: PoolingRule = modality == .pair ? .lastRealToken : .upstream
        let out = try model.forward(inputs, options: ForwardOptions(hiddenStates: true, pooling: pooling))
        let h = out.hiddenSize, length = out.sequenceLength
        // The pooled path at each row's last real position (what the evaluation reads for text and pixels).
        let lastReal = rows.map { modality == .pixel ? max(0, $0.realPatches - 1) : patches + $0.ids.count - 1 }
        let pooledStates = try model.pooledHiddenStates(inputs, at: lastReal)
        return rows.enumerated().map { b, row in
            var values: [String: [Float]] = [:]
            // A row's own positions: its strip and its tokens (pixel rows end at their own strip width).
            let own = modality == .pixel ? Array(0..<row.patches) : Array(0..<patches) + (0..<row.ids.count).map { patches + $0 }
            func rowsOf(_ x: [Float], width: Int, positions: [Int], length: Int) -> [Float] {
                positions.flatMap { x[((b * length + $0) * width)..<((b * length + $0 + 1) * width)] }
            }
            for (k, state) in out.hiddenStates.enumerated() { values["hidden_states.\(k)"] = rowsOf(state, width: h, positions: own, length: length) }
            values["last_hidden_state"] = rowsOf(out.lastHiddenState, width: h, positions: own, length: length)
            if let logits = out.tokenLogits {
                let v = logits.count / (batch * textLength)
                values["token_logits"] = rowsOf(logits, width: v, positions: Array(0..<row.ids.count), length: textLength)
            }
            if let logits = out.pixelLogits {
                values["pixel_logits"] = rowsOf(logits, width: logits.count / (batch * patches), positions: Array(0..<row.patches), length: patches)
            }
            if let logits = out.pooledLogits, let index = out.pooledIndex {
                let labels = logits.count / batch
                let suffix = pooling == .upstream ? "" : " (\(pooling.rawValue))"
                values["pooled_logits" + suffix] = Array(logits[(b * labels)..<((b + 1) * labels)])
                values["pooled_index" + suffix] = [Float(index[b])]
            }
            values["pooled path state"] = Array(pooledStates[(b * h)..<((b + 1) * h)])
            return values
        }
    }
}
