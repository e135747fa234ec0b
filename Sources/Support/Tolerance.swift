/// How close two outputs must be, and in which sense. The two senses are different questions, so they have
/// different names on the command line:
/// - `elementwise` (`verify --atol/--rtol`): every element satisfies |a - b| <= atol + rtol * |b|, numpy's
///   allclose with B the reference. For checkpoints, where one changed weight matters.
/// - `maxRelative` (`numerics --max-atol/--max-rtol` or a preset): per tensor, max |a - b| <= atol +
///   rtol * max |b|. For activations, where a value near zero says nothing about the layer.
public struct Tolerance: Sendable, Equatable, CustomStringConvertible {
    public enum Mode: String, Sendable, Codable {
        case elementwise = "element-wise"
        case maxRelative = "max-relative"
    }

    public let mode: Mode
    /// A preset's name, or "custom".
    public let name: String
    public let atol: Double
    public let rtol: Double

    public init(_ mode: Mode, name: String = "custom", atol: Double, rtol: Double) {
        self.mode = mode
        self.name = name
        self.atol = atol
        self.rtol = rtol
    }

    /// Whether `difference` (|a - b|, or its maximum) passes against `reference` (|b|, or its maximum). NaN
    /// never passes; callers decide first whether NaN against NaN counts as equal.
    public func accepts(difference: Double, reference: Double) -> Bool { difference <= atol + rtol * reference }

    public var description: String { "\(name) \(mode.rawValue) (atol \(atol), rtol \(rtol))" }
}
