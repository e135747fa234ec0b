/// Hyper-parameters of head fine-tuning (`--head finetune`). The optimiser, schedule, clipping and
/// patience are the HF Trainer's (SPEC 8: AdamW β 0.9/0.999, ε 1e-8, weight decay 0, linear warmup and
/// decay, grad-norm clip 1.0, early stopping after 8 evaluations without improvement). The learning rate,
/// batch and step counts are not SPEC 8's: those fine-tune the whole network at 1e-5..1e-4, while a
/// head alone on frozen features needs a larger rate (docs/heads.md has the measurements).
public struct HeadTrainingSettings: Codable, Sendable, Equatable {
    public var learningRate = 1e-3
    public var weightDecay = 0.0
    public var batchSize = 32
    /// Optimizer steps; ignored when `epochs` is set.
    public var maxSteps = 2000
    /// Passes over the training rows; when set, max steps = ceil(epochs * ceil(rows / batch)).
    public var epochs: Double?
    public var warmupSteps = 100
    /// Evaluate on the selection rows every this many steps (and after the last step).
    public var evalEvery = 50
    /// Stop after this many evaluations without a strictly better selection value.
    public var patience = 8
    public var maxGradNorm = 1.0
    /// `--train-layers K`: decoder layers fine-tuned with the final norm and `score` (0 = the score alone).
    /// Set by the run, not by a task's YAML; optional so that results.json files written before it decode.
    public var trainLayers: Int?

    public init() {}

    /// Steps for `trainingRows` rows.
    public func steps(trainingRows: Int) -> Int {
        guard let epochs else { return maxSteps }
        let perEpoch = (max(1, trainingRows) + batchSize - 1) / batchSize
        return max(1, Int((epochs * Double(perEpoch)).rounded(.up)))
    }

    /// These settings with every value `overrides` sets.
    public func applying(_ overrides: Overrides?) -> HeadTrainingSettings {
        guard let o = overrides else { return self }
        var s = self
        if let v = o.learningRate { s.learningRate = v }
        if let v = o.weightDecay { s.weightDecay = v }
        if let v = o.batchSize { s.batchSize = v }
        if let v = o.maxSteps { s.maxSteps = v; s.epochs = nil }
        if let v = o.epochs { s.epochs = v }
        if let v = o.warmupSteps { s.warmupSteps = v }
        if let v = o.evalEvery { s.evalEvery = v }
        if let v = o.patience { s.patience = v }
        if let v = o.maxGradNorm { s.maxGradNorm = v }
        return s
    }

    /// The values that make no sense, as "key: reason" (empty when all are usable).
    public var problems: [String] {
        var p: [String] = []
        if !(learningRate > 0) { p.append("learning_rate: must be positive") }
        if !(weightDecay >= 0) { p.append("weight_decay: must not be negative") }
        if batchSize < 1 { p.append("batch_size: must be at least 1") }
        if maxSteps < 1 { p.append("max_steps: must be at least 1") }
        if let epochs, !(epochs > 0) { p.append("epochs: must be positive") }
        if warmupSteps < 0 { p.append("warmup_steps: must not be negative") }
        if evalEvery < 1 { p.append("eval_every: must be at least 1") }
        if patience < 1 { p.append("patience: must be at least 1") }
        if !(maxGradNorm > 0) { p.append("max_grad_norm: must be positive") }
        return p
    }

    /// A task's `pixelgpt.head:` block or the command line's head options: only what is given.
    public struct Overrides: Codable, Sendable, Equatable {
        public var learningRate: Double?
        public var weightDecay: Double?
        public var batchSize: Int?
        public var maxSteps: Int?
        public var epochs: Double?
        public var warmupSteps: Int?
        public var evalEvery: Int?
        public var patience: Int?
        public var maxGradNorm: Double?

        public init() {}

        enum CodingKeys: String, CodingKey {
            case epochs, patience
            case learningRate = "learning_rate", weightDecay = "weight_decay", batchSize = "batch_size", maxSteps = "max_steps"
            case warmupSteps = "warmup_steps", evalEvery = "eval_every", maxGradNorm = "max_grad_norm"
        }
    }

    enum CodingKeys: String, CodingKey {
        case epochs, patience
        case learningRate = "learning_rate", weightDecay = "weight_decay", batchSize = "batch_size", maxSteps = "max_steps"
        case warmupSteps = "warmup_steps", evalEvery = "eval_every", maxGradNorm = "max_grad_norm", trainLayers = "train_layers"
    }
}
