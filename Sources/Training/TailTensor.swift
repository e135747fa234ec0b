/// One tensor of a `TrainableTail`'s flat parameter vector, under its checkpoint name (SPEC 2.1, 2.2), so
/// that a writer can save the trained tail in the released layout: `parameters[range]` reshaped to `shape`.
public struct TailTensor: Sendable, Equatable {
    public let name: String
    /// PyTorch's shape: [out_features, in_features] for a Linear weight (SPEC 2.3).
    public let shape: [Int]
    public let range: Range<Int>
    /// Whether weight decay applies: false for norm gains and biases, which HF Trainer's AdamW excludes.
    public let decays: Bool

    public init(name: String, shape: [Int], range: Range<Int>, decays: Bool) {
        precondition(range.count == shape.reduce(1, *), "\(name): range of \(range.count) for shape \(shape)")
        self.name = name
        self.shape = shape
        self.range = range
        self.decays = decays
    }
}
