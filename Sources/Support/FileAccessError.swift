/// A file-system failure in Support's helpers, with the path it concerns. Each module turns it into its own
/// error type (one line naming the file), so Support stays below every other module.
public struct FileAccessError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
