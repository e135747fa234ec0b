import Foundation

/// The sequence-classification losses on pooled logits [B, num_labels] (SPEC 4, HF's problem types).
public enum SequenceClassificationLoss {
    public enum Problem: String, Sendable, CaseIterable {
        /// num_labels ≥ 2, integer class targets: mean cross-entropy.
        case classification = "single_label_classification"
        /// num_labels = 1 (STS-B), real targets: mean squared error, MSELoss(pooled.squeeze(), label).
        case regression
    }

    /// The mean loss over the batch and its gradient with respect to every logit, in Double.
    /// Classification targets must be integers in 0 ..< numLabels; regression needs numLabels = 1.
    public static func meanLoss(logits: [Double], numLabels: Int, targets: [Double], problem: Problem) -> (loss: Double, gradient: [Double]) {
        let batch = targets.count
        precondition(batch > 0 && logits.count == batch * numLabels, "\(logits.count) logits for \(batch) targets × \(numLabels) labels")
        var loss = 0.0
        var gradient = [Double](repeating: 0, count: logits.count)
        switch problem {
        case .classification:
            precondition(numLabels >= 2, "classification needs at least 2 labels")
            for b in 0..<batch {
                let target = Int(exactly: targets[b]) ?? -1
                precondition((0..<numLabels).contains(target), "classification target \(targets[b]) is not a class id in 0..<\(numLabels)")
                let row = logits[(b * numLabels)..<((b + 1) * numLabels)]
                let maximum = row.max()!
                let sum = row.reduce(0) { $0 + exp($1 - maximum) }
                loss += maximum + log(sum) - row[b * numLabels + target]
                for k in 0..<numLabels {
                    gradient[b * numLabels + k] = (exp(logits[b * numLabels + k] - maximum) / sum - (k == target ? 1 : 0)) / Double(batch)
                }
            }
        case .regression:
            precondition(numLabels == 1, "regression needs num_labels = 1, have \(numLabels)")
            for b in 0..<batch {
                let error = logits[b] - targets[b]
                loss += error * error
                gradient[b] = 2 * error / Double(batch)
            }
        }
        return (loss / Double(batch), gradient)
    }
}
