import Checkpoints
import Foundation

/// How numerics dumps name their tensors. A dump holds one or several input groups; every tensor of a group
/// is the numerics-contract name (docs/numerics.md) behind the group's prefix: `text.input_ids`,
/// `text.hidden_states.3`, `pair.pooled_logits`. A file without prefixes (what `pixelgpt forward` writes,
/// or PyTorch with the contract names) is one group named "". Summarised tensors add `.summary` ([mean,
/// rms, max-abs]) or `.projection` (a fixed random projection of the last axis) to the contract name.
public struct NumericsTensorName: Sendable, Hashable {
    public enum Form: String, Sendable { case full, summary, projection }

    public let group: String
    /// The contract name: `hidden_states.3`, `token_logits`, `input_ids`, ...
    public let base: String
    public let form: Form

    public static let outputNames = ["last_hidden_state", "token_logits", "pixel_logits", "pooled_logits", "pooled_index"]
    public static let inputNames = ["input_ids", "attention_mask", "pixel_values", "patch_attention_mask"]

    public init(group: String, base: String, form: Form = .full) {
        self.group = group
        self.base = base
        self.form = form
    }

    /// nil for a name that is neither a contract input nor a contract output.
    public init?(parsing name: String) {
        var rest = name
        var form = Form.full
        for candidate in [Form.summary, .projection] where rest.hasSuffix("." + candidate.rawValue) {
            rest.removeLast(candidate.rawValue.count + 1)
            form = candidate
        }
        func split(_ base: String) -> String? {
            if rest == base { return "" }
            if rest.hasSuffix("." + base) { return String(rest.dropLast(base.count + 1)) }
            return nil
        }
        for base in Self.outputNames + Self.inputNames {
            if let group = split(base) {
                self.init(group: group, base: base, form: form)
                return
            }
        }
        // hidden_states.<i>: the group is what precedes "hidden_states."
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[parts.count - 2] == "hidden_states", let index = Int(parts[parts.count - 1]), index >= 0,
              String(index) == parts[parts.count - 1] else { return nil }
        self.init(group: parts.dropLast(2).joined(separator: "."), base: "hidden_states.\(index)", form: form)
    }

    public var name: String {
        (group.isEmpty ? "" : group + ".") + base + (form == .full ? "" : "." + form.rawValue)
    }

    public var isInput: Bool { Self.inputNames.contains(base) }

    /// `hidden_states.i` → i.
    public var hiddenStateIndex: Int? {
        base.hasPrefix("hidden_states.") ? Int(base.dropFirst("hidden_states.".count)) : nil
    }

    /// The place in the network the tensor comes from, in forward order.
    public var stage: NumericsStage {
        if let i = hiddenStateIndex { return i == 0 ? NumericsStage(order: 0, label: "embeddings", layer: nil) : NumericsStage(order: i, label: "model.layers.\(i - 1)", layer: i - 1) }
        let after = 1_000_000
        switch base {
        case "last_hidden_state": return NumericsStage(order: after, label: "model.norm", layer: nil)
        case "token_logits": return NumericsStage(order: after + 1, label: "lm_token_head", layer: nil)
        case "pixel_logits": return NumericsStage(order: after + 2, label: "lm_pixel_head", layer: nil)
        default: return NumericsStage(order: after + 3, label: "score", layer: nil)
        }
    }
}

/// A point of the forward pass: `embeddings` (hidden_states.0), `model.layers.k` (hidden_states.k+1, the
/// output of decoder layer k), `model.norm` (last_hidden_state), the heads.
public struct NumericsStage: Sendable, Hashable, Comparable {
    public let order: Int
    public let label: String
    /// k for `model.layers.k`.
    public let layer: Int?

    public static func < (a: NumericsStage, b: NumericsStage) -> Bool { a.order < b.order }
}
