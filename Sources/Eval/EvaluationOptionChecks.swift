import Model

/// Options that would make a run meaningless, refused in one line before the model loads (issue 18, item 6):
/// a run must not record settings it did not use, nor train a head that is warm-up from start to end.
extension EvaluationRun.Options {
    public func validate() throws {
        guard batchSize >= 1 else {
            throw TaskError(task: "eval", key: "--batch-size", reason: "\(batchSize): give 1 or more rows per forward pass")
        }
        if let limit, limit < 1 {
            throw TaskError(task: "eval", key: "--limit", reason: "\(limit): give 1 or more rows (or leave --limit out to evaluate all)")
        }
        if let label, label.isEmpty || label.count > 80 || label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw TaskError(task: "eval", key: "--label", reason: "give a name of 1 to 80 characters on one line")
        }
        if renderedDatasets, modality == .text {
            throw TaskError(task: "eval", key: "--rendered", reason: "reads pre-rendered pixels, which the text modality does not use; give --modality pixel or pair")
        }
        if head == .finetune {
            for task in tasks {
                let settings = HeadTrainingSettings().applying(task.pixelgpt.head).applying(headOverrides)
                if let problem = settings.warmupProblem {
                    throw TaskError(task: task.task, key: "--head-max-steps", reason: problem + "; give more steps or --head-warmup-steps")
                }
            }
        }
    }

    /// The batch size the forward passes run with: pair mode with upstream pooling always runs the
    /// original's evaluation batch, whatever was asked (pooled positions depend on the batch).
    public var effectiveBatchSize: Int {
        Featurizer.effectiveBatchSize(batchSize, modality: modality, pooling: pooling)
    }
}

extension HeadTrainingSettings {
    /// Set when every optimizer step would be a warm-up step (the learning rate never reaches its peak).
    public var warmupProblem: String? {
        guard epochs == nil, maxSteps <= warmupSteps else { return nil }
        return "max_steps \(maxSteps) is not above warmup_steps \(warmupSteps) (the whole run would be warm-up)"
    }
}

extension EvaluationRun {
    /// A classifier whose `id2label` names the task's labels in another order would score every row under the
    /// wrong label: refused, naming both orders. Generic names (HF's LABEL_0, ...) say nothing and pass.
    static func labelOrderProblem(_ id2label: [String: String]?, task: TaskDefinition) -> String? {
        guard let id2label, let labels = task.labelList else { return nil }
        let names = labels.indices.compactMap { id2label[String($0)] }
        guard names.count == labels.count, Set(names.map { $0.lowercased() }) == Set(labels.map { $0.lowercased() }),
              names.map({ $0.lowercased() }) != labels.map({ $0.lowercased() }) else { return nil }
        return "the checkpoint's label order (\(names.joined(separator: ", "))) differs from \(task.task)'s (\(labels.joined(separator: ", "))); "
            + "its score rows would be read under the wrong labels"
    }
}
