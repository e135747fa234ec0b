import Model

extension TrainableTail {
    /// A batch of `TailExample`s as the model's decoder layer runs them: examples of equal length (and
    /// equally placed pooled rows) form a group of whole sequences (`PixelGPTModel.DecoderStep`), groups by
    /// ascending length, examples in batch order within each. Grouping instead of padding keeps every value the decoder computes the same bits
    /// as inference (a query with no visible key averages over its own sequence's keys, SPEC 3.5).
    struct RowStack {
        struct Group {
            /// Batch indices of the examples, in order.
            let examples: [Int]
            let length: Int
            /// The group's first row in the stack.
            let firstRow: Int
            /// [B_g · L, H].
            let hidden: [Float]
            let keyMask: [Float]
            /// Row r's RoPE angles [B_g · L, d/2], with each example's own positions and sequence length
            /// (SPEC 3.6.4).
            let cos: [Float], sin: [Float]
            /// The row `score` reads in each example, group rows.
            let pooledRows: [Int]
            /// Whether every example pools its last row (all but those whose pooled row sees no key,
            /// `TailExample`): then the last layer computes only those rows (`lastRowsStep`).
            let poolsLastRows: Bool
            let step: PixelGPTModel.DecoderStep
            let lastRowsStep: PixelGPTModel.DecoderStep

            var rows: Int { examples.count * length }

            /// The attention blocks of `queryRows` (all rows, or one per example) with their probabilities,
            /// taken from the layer's [B_g, heads, L, L] softmax weights unless `atQueries` (then already
            /// [B_g, heads, 1, L]).
            func attentionBlocks(_ queryRows: [Int], probabilities: [Float], atQueries: Bool, heads: Int) -> ([AttentionBlock], [Float]) {
                let l = length, square = heads * l * l
                if queryRows.count == rows {
                    let blocks = examples.indices.map {
                        AttentionBlock(queryStart: $0 * l, queryCount: l, firstQueryRow: 0, keyStart: $0 * l, keyCount: l, probabilityOffset: $0 * square)
                    }
                    return (blocks, probabilities)
                }
                precondition(queryRows.count == examples.count, "query rows: all rows or one per example")
                var blocks: [AttentionBlock] = [], kept: [Float] = []
                kept.reserveCapacity(examples.count * heads * l)
                for (slot, row) in queryRows.enumerated() {
                    let i = row - slot * l
                    precondition((0..<l).contains(i), "query row \(row) is outside example \(slot)")
                    blocks.append(AttentionBlock(queryStart: slot, queryCount: 1, firstQueryRow: i, keyStart: slot * l, keyCount: l,
                                                 probabilityOffset: slot * heads * l))
                    if atQueries { continue }
                    for head in 0..<heads {
                        let start = slot * square + (head * l + i) * l
                        kept += probabilities[start..<(start + l)]
                    }
                }
                return (blocks, atQueries ? probabilities : kept)
            }
        }

        let groups: [Group]
        let exampleCount: Int
        let rows: Int
        /// Example e's rows in the stack.
        let segments: [Range<Int>]
        /// The examples in stack order, and each one's pooled row in the stack.
        let pooledExamples: [Int]
        let pooledRows: [Int]
        /// The groups' key masks and RoPE tables stacked, [R] and [R, d/2]; −sin is RoPE's transpose
        /// (rotation by −angle), for the backward pass.
        let keyMask: [Float], cos: [Float], negativeSin: [Float]

        init(_ batch: [TailExample], tail: TrainableTail) {
            let h = tail.hiddenSize, half = tail.headDim / 2
            var tables: [Int: (cos: [Float], sin: [Float])] = [:]
            var groups: [Group] = [], segments = [Range<Int>](repeating: 0..<0, count: batch.count)
            var firstRow = 0
            // Groups by length, then by whether the pooled row is the last (false first).
            func key(_ e: TailExample) -> [Int] { [e.length, e.pooledRow == e.length - 1 ? 1 : 0] }
            for groupKey in Set(batch.map(key)).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                let length = groupKey[0]
                let members = batch.indices.filter { key(batch[$0]) == groupKey }
                var hidden: [Float] = [], mask: [Float] = [], cos: [Float] = [], sin: [Float] = [], pooled: [Int] = []
                for (slot, e) in members.enumerated() {
                    let example = batch[e]
                    precondition(example.hidden.count == example.length * h,
                                 "TailExample has \(example.hidden.count / example.length) values per row, the model's hidden size is \(h)")
                    segments[e] = (firstRow + slot * length)..<(firstRow + (slot + 1) * length)
                    pooled.append(slot * length + example.pooledRow)
                    hidden += example.hidden
                    mask += example.keyMask
                    let maxPosition = example.positions.max()!
                    if (tables[example.sequenceLength]?.cos.count ?? 0) <= maxPosition * half {
                        tables[example.sequenceLength] = tail.rotary.tables(positions: maxPosition + 1, sequenceLength: example.sequenceLength)
                    }
                    let table = tables[example.sequenceLength]!
                    for p in example.positions {
                        cos += table.cos[(p * half)..<((p + 1) * half)]
                        sin += table.sin[(p * half)..<((p + 1) * half)]
                    }
                }
                let step = PixelGPTModel.DecoderStep(batch: members.count, length: length, keyMask: mask, cos: cos, sin: sin)
                let lastRowsStep = PixelGPTModel.DecoderStep(batch: members.count, length: length, keyMask: mask, cos: cos, sin: sin, lastRowsOnly: true)
                groups.append(Group(examples: members, length: length, firstRow: firstRow, hidden: hidden, keyMask: mask,
                                    cos: cos, sin: sin, pooledRows: pooled, poolsLastRows: groupKey[1] == 1,
                                    step: step, lastRowsStep: lastRowsStep))
                firstRow += members.count * length
            }
            self.groups = groups
            exampleCount = batch.count
            rows = firstRow
            self.segments = segments
            pooledExamples = groups.flatMap(\.examples)
            pooledRows = groups.flatMap { group in group.pooledRows.map { $0 + group.firstRow } }
            keyMask = groups.flatMap(\.keyMask)
            cos = groups.flatMap(\.cos)
            negativeSin = groups.flatMap(\.sin).map { -$0 }
        }

        /// Rows `rows` of x [_, width], as [rows.count, width].
        static func gather(_ x: [Float], _ rows: [Int], width: Int) -> [Float] {
            var out: [Float] = []
            out.reserveCapacity(rows.count * width)
            for r in rows { out += x[(r * width)..<((r + 1) * width)] }
            return out
        }

        /// `base` with row rows[i] increased by row i of `values` (the transpose of `gather`).
        static func scatter(_ values: [Float], rows: [Int], into base: [Float], width: Int) -> [Float] {
            var out = base
            for (i, r) in rows.enumerated() { for j in 0..<width { out[r * width + j] += values[i * width + j] } }
            return out
        }
    }
}
