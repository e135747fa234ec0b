/// How XNLI heads are trained (SPEC 7.2, 11.10): one shared head for all 15 languages either way, tested
/// on each language.
public enum XNLISetting: String, Sendable, CaseIterable, Codable {
    /// Translate-train-all: train on every language's train data, select on the concatenated validation sets.
    case trainAll = "train-all"
    /// Cross-lingual transfer: train on English, select on English validation.
    case trainEn = "train-en"
}
