/// A file-system failure in Support's helpers, with the path it concerns. Each module turns it into its own
/// error type (one line naming the file), so Support stays below every other module.
public struct FileAccessError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case notARegularFile
        case other
    }

    public let path: String
    public let reason: String
    public let kind: Kind

    public init(path: String, reason: String, kind: Kind = .other) {
        self.path = path
        self.reason = reason
        self.kind = kind
    }

    public var description: String { "\(path): \(reason)" }
}
