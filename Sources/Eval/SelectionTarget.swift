/// Which rows pick the best step of a fine-tuned head.
public enum SelectionTarget: String, Sendable, CaseIterable, Codable {
    /// Rows that are not reported: the task's validation split when the reported split is another one
    /// (XNLI), else a held-out block of train (GLUE, whose reported split is dev), else the next fold.
    case heldOut = "held-out"
    /// The reported rows themselves, as the paper did for GLUE (SPEC 7.1: best checkpoint on dev, reported
    /// on dev); optimistic, and labelled so in results.json.
    case reported
}
