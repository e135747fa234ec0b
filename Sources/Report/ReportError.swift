/// Why `pixelgpt report` cannot build its leaderboard: the file (run directory, results.json or reference
/// YAML), the key or row at fault, and what to do, in one line.
public struct ReportError: Error, CustomStringConvertible, Sendable {
    public let file: String
    /// The key or row at fault, empty when the whole file is.
    public let key: String
    public let reason: String

    public init(file: String, key: String = "", reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        // One line whatever a decoder said.
        let reason = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
        return key.isEmpty ? "\(file): \(reason)" : "\(file): \(key): \(reason)"
    }
}

extension ReportError {
    /// A JSON or YAML decoding failure, with the key it happened at.
    init(file: String, decoding error: DecodingError) {
        self.init(file: file, key: Self.key(of: error), reason: Self.reason(of: error))
    }

    /// "tasks[2].metrics": the path of a decoding error, array positions in brackets.
    static func key(of error: DecodingError) -> String {
        let path: [any CodingKey]
        switch error {
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): path = context.codingPath
        @unknown default: path = []
        }
        return path.reduce("") { key, element in
            if let index = element.intValue { return key + "[\(index)]" }
            return key.isEmpty ? element.stringValue : key + "." + element.stringValue
        }
    }

    static func reason(of error: DecodingError) -> String {
        switch error {
        case .keyNotFound: "missing"
        case .typeMismatch(let type, _): "expected \(type)"
        case .valueNotFound(let type, _): "expected \(type), found null"
        // A parser's own error (Yams: line and column) says more than the wrapper's description.
        case .dataCorrupted(let context): context.underlyingError.map { "\(context.debugDescription) \($0)" } ?? context.debugDescription
        @unknown default: "\(error)"
        }
    }
}
