/// Everything the model refuses, as one-line messages naming the tensor, input or key involved.
public enum ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A tensor the configuration needs is absent from the weights.
    case missingWeight(String)
    /// A weight whose shape disagrees with config.json (SPEC 2.1).
    case weightShape(name: String, expected: [Int], actual: [Int])
    /// An input tensor that is absent, mis-shaped or holds invalid values.
    case invalidInput(name: String, reason: String)
    /// The inputs need a part of the model this checkpoint does not have (e.g. pixels for a Llama).
    case unsupported(String)

    public var description: String {
        switch self {
        case .missingWeight(let name):
            "weight \"\(name)\" is missing from the checkpoint"
        case .weightShape(let name, let expected, let actual):
            "weight \"\(name)\" has shape \(actual), config.json implies \(expected)"
        case .invalidInput(let name, let reason):
            "input \"\(name)\": \(reason)"
        case .unsupported(let reason):
            reason
        }
    }
}
