/// The BPE segmentation of sentencepiece's bpe_model.cc (Model::Encode): split the normalized text into
/// characters (user-defined pieces kept whole and frozen), then repeatedly merge the adjacent pair whose
/// concatenation is a piece with the highest score, ties going to the leftmost pair. A binary heap of
/// candidate pairs and a doubly linked list of symbols make this O(n log n); stale heap entries are
/// recognised by their size, as in the reference. Working memory is one temporary allocation per call
/// (on the stack for typical sentences), and pieces are looked up by byte span.
struct BytePairMerger: Sendable {
    /// Pieces that can result from a merge: normal, user-defined and unused (the reference's `pieces_`).
    let mergeable: PieceTable
    let scores: [Float]
    let types: [SentencePieceModel.PieceType]
    /// User-defined pieces, matched longest-first when splitting into characters; nil when there are none.
    let userDefined: PieceTable?
    /// Whether any piece is unused (only then must merged pieces be checked for resegmentation).
    let hasUnusedPieces: Bool

    init(mergeable: PieceTable, scores: [Float], types: [SentencePieceModel.PieceType], userDefined: PieceTable?) {
        self.mergeable = mergeable
        self.scores = scores
        self.types = types
        self.userDefined = userDefined
        hasUnusedPieces = types.contains(.unused)
    }

    private struct Symbol {
        var start: Int32
        var length: Int32
        var previous: Int32
        var next: Int32
        var frozen: Bool
    }

    /// One candidate merge of the symbols `left` and `right`.
    private struct Candidate {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32

        /// Heap order: higher score first, then the leftmost pair (bpe_model.cc SymbolPairComparator).
        @inline(__always)
        func precedes(_ other: Candidate) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    /// A piece's byte range in the normalized text.
    struct Segment: Equatable {
        var start: Int
        var count: Int
    }

    /// Segments `text` (normalized bytes) into pieces and calls `emit` with each piece's byte range and its
    /// id in `mergeable` (-1 when it is not a mergeable piece), left to right.
    func segment(_ text: UnsafeBufferPointer<UInt8>, _ emit: (Segment, Int32) -> Void) {
        guard let base = text.baseAddress, !text.isEmpty else { return }
        // At most one symbol per byte; the heap holds the n-1 initial pairs plus two per merge.
        withUnsafeTemporaryAllocation(of: Symbol.self, capacity: text.count) { symbols in
            withUnsafeTemporaryAllocation(of: Candidate.self, capacity: 3 * text.count + 1) { heap in
                mergeable.withView { pieces in
                    run(base, text.count, symbols, heap, pieces, emit)
                }
            }
        }
    }

    @inline(__always)
    private func run(_ text: UnsafePointer<UInt8>, _ byteCount: Int, _ symbols: UnsafeMutableBufferPointer<Symbol>,
                     _ heap: UnsafeMutableBufferPointer<Candidate>, _ pieces: PieceTable.View,
                     _ emit: (Segment, Int32) -> Void) {
        var n = 0
        var position = 0
        while position < byteCount {
            var length = min(byteCount - position, Self.utf8Length(lead: text[position]))
            var frozen = false
            if let userDefined {
                var candidate = min(userDefined.maxLength, byteCount - position)
                let found = userDefined.withView { view -> Int in
                    while candidate > 0 {
                        if view.id(text + position, candidate) >= 0 { return candidate }
                        candidate -= 1
                    }
                    return 0
                }
                if found > 0 {
                    length = found
                    frozen = true
                }
            }
            symbols[n] = Symbol(start: Int32(position), length: Int32(length), previous: Int32(n - 1), next: -1, frozen: frozen)
            if n > 0 { symbols[n - 1].next = Int32(n) }
            n += 1
            position += length
        }

        var heapCount = 0
        // Merged unused pieces and the halves they came from (the reference's rev_merge), rarely used.
        var unusedSplits: [Int32: (Segment, Segment)] = [:]

        @inline(__always)
        func addCandidate(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0 else { return }
            let l = symbols[Int(left)], r = symbols[Int(right)]
            guard !l.frozen, !r.frozen else { return }
            let size = Int(l.length + r.length)
            let id = pieces.id(text + Int(l.start), size)
            guard id >= 0 else { return }
            // Push, then sift up.
            var child = heapCount
            heap[child] = Candidate(score: scores[Int(id)], left: left, right: right, size: Int32(size))
            heapCount += 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[child].precedes(heap[parent]) else { break }
                heap.swapAt(child, parent)
                child = parent
            }
            if hasUnusedPieces && types[Int(id)] == .unused {
                unusedSplits[id] = (Segment(start: Int(l.start), count: Int(l.length)), Segment(start: Int(r.start), count: Int(r.length)))
            }
        }

        @inline(__always)
        func popBest() -> Candidate {
            let top = heap[0]
            heapCount -= 1
            if heapCount > 0 {
                heap[0] = heap[heapCount]
                var parent = 0
                while true {
                    let left = 2 * parent + 1
                    guard left < heapCount else { break }
                    var best = left
                    if left + 1 < heapCount && heap[left + 1].precedes(heap[left]) { best = left + 1 }
                    guard heap[best].precedes(heap[parent]) else { break }
                    heap.swapAt(best, parent)
                    parent = best
                }
            }
            return top
        }

        for i in 1..<max(n, 1) { addCandidate(Int32(i - 1), Int32(i)) }

        while heapCount > 0 {
            let top = popBest()
            let left = Int(top.left), right = Int(top.right)
            // Stale: one side was merged away or grew since this candidate was pushed.
            guard symbols[left].length > 0, symbols[right].length > 0,
                  symbols[left].length + symbols[right].length == top.size else { continue }
            symbols[left].length += symbols[right].length
            symbols[right].length = 0
            let next = symbols[right].next
            symbols[left].next = next
            if next >= 0 { symbols[Int(next)].previous = Int32(left) }
            addCandidate(symbols[left].previous, Int32(left))
            addCandidate(Int32(left), next)
        }

        var index: Int32 = 0
        while index >= 0 {
            let symbol = symbols[Int(index)]
            let segment = Segment(start: Int(symbol.start), count: Int(symbol.length))
            if unusedSplits.isEmpty {
                emit(segment, pieces.id(text + segment.start, segment.count))
            } else {
                resegment(segment, text, pieces, unusedSplits, emit)
            }
            index = symbol.next
        }
    }

    /// An unused piece is never emitted: it is replaced by the two pieces it was merged from, recursively.
    private func resegment(_ segment: Segment, _ text: UnsafePointer<UInt8>, _ pieces: PieceTable.View,
                           _ splits: [Int32: (Segment, Segment)], _ emit: (Segment, Int32) -> Void) {
        let id = pieces.id(text + segment.start, segment.count)
        guard id >= 0, types[Int(id)] == .unused, let (a, b) = splits[id] else {
            emit(segment, id)
            return
        }
        resegment(a, text, pieces, splits, emit)
        resegment(b, text, pieces, splits, emit)
    }

    /// sentencepiece's OneCharLen: the length a UTF-8 lead byte announces (1 for stray continuation bytes).
    @inline(__always)
    static func utf8Length(lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: 2
        case 0xE: 3
        case 0xF: 4
        default: 1
        }
    }
}
