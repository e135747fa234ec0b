/// How a strip's pixels are produced (SPEC 5.3, 5.6).
public enum RenderMode: String, CaseIterable, Sendable {
    /// Upstream `rgb=True`: a FORMAT_RGB24 surface, white fill, black text; [16, W, 3] bytes.
    case rgb
    /// Upstream `rgb=False`: a FORMAT_A8 surface, 255 - alpha; [16, W] bytes. Equal to PIL convert('L') of the
    /// rgb strip, since the rgb strip is always grey (golden README).
    case gray
    /// The render-mode ablation: gray, then 255 where the value is above 127, else 0 (SPEC 5.6).
    case binary

    public var channels: Int { self == .rgb ? 3 : 1 }

    /// Accepts "grey" too, the spelling of the golden cases.
    public init?(name: String) {
        if name == "grey" { self = .gray } else { self.init(rawValue: name) }
    }
}
