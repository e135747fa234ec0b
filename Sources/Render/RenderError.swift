/// Every failure of the renderer: the file (or input) it concerns and what is wrong, in one line.
public struct RenderError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let problem: Problem

    public init(path: String, _ problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public enum Problem: Equatable, Sendable {
        case missingFile(what: String, hint: String? = nil)
        case cannotRead(String)
        case invalidJSON(String)
        case invalidKey(key: String, reason: String)
        case notAFont(String)
        case fontconfig(String)
        case pango(String)
        case cairo(String)
        case invalidText(String)
        case invalidUTF8(line: Int)
        case invalidRequest(line: Int, reason: String)
        /// A line of a pre-rendered dataset file that cannot become a row (bad JSON, base64 or PNG, a missing key).
        case malformedLine(line: Int, reason: String)
        case writeFailed(String)
    }

    public var description: String { "\(path): \(problem.message)" }
}

extension RenderError.Problem {
    var message: String {
        switch self {
        case .missingFile(let what, let hint): "\(what) does not exist" + (hint.map { " (\($0))" } ?? "")
        case .cannotRead(let why): "cannot read: \(why)"
        case .invalidJSON(let why): "not valid JSON: \(why)"
        case .invalidKey(let key, let reason): "key \"\(key)\": \(reason)"
        case .notAFont(let why): "not a usable TrueType/OpenType font: \(why)"
        case .fontconfig(let why): "fontconfig: \(why)"
        case .pango(let why): "pango: \(why)"
        case .cairo(let why): "cairo: \(why)"
        case .invalidText(let why): "cannot render this text: \(why)"
        case .invalidUTF8(let line): "line \(line): not valid UTF-8"
        case .invalidRequest(let line, let reason): "line \(line): \(reason)"
        case .malformedLine(let line, let reason): "line \(line): \(reason)"
        case .writeFailed(let why): "cannot write: \(why)"
        }
    }
}
