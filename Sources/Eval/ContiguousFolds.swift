/// K contiguous folds over row positions: position p of n rows is in fold p·K/n. Contiguous, not
/// interleaved, because XNLI lists each premise three times in a row (one hypothesis per label) and a head
/// trained on a premise's other rows learns the wrong label for the held-out one; and by position, so the
/// aligned XNLI languages (translations of the same rows, PROVENANCE.md) get the same assignment.
public struct ContiguousFolds: Sendable, Equatable {
    public let count: Int
    public let rows: Int

    public init(count: Int, rows: Int) {
        precondition(count >= 2)
        self.count = count
        self.rows = rows
    }

    public func fold(ofPosition position: Int) -> Int { position * count / max(1, rows) }

    /// The fold that selects (early stopping, best step) for the head predicting `fold`: the next one.
    public func selectionFold(for fold: Int) -> Int { (fold + 1) % count }
}
