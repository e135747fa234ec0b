/// Anything `HeadTrainer` can fit: a flat F32 parameter vector, the mean loss and its gradient over a
/// batch of examples, and the logits of examples. Examples are indices into the conformer's own table of
/// rows (cached features for `ScoreHead`; a later `TrainableTail` indexes its dataset rows), so the trainer
/// never sees features or labels.
public protocol Trainable: AnyObject {
    /// All trained values, in one vector (AdamW and clipping see the model as this vector).
    var parameters: [Float] { get set }
    /// Per parameter: true where AdamW applies weight decay (transformers excludes biases and norm gains).
    var weightDecayMask: [Bool] { get }
    /// Outputs per example: num_labels, or 1 for regression (SPEC 4).
    var outputCount: Int { get }
    /// The mean loss over `examples` (cross-entropy or MSE, SPEC 4) and its gradient w.r.t. `parameters`.
    func lossAndGradient(examples: [Int]) -> (loss: Double, gradient: [Float])
    /// Row-major [examples.count, outputCount] logits at the current parameters.
    func logits(examples: [Int]) -> [Float]
}
