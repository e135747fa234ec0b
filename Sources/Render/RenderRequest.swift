import Foundation
import Support

/// One case of a JSON-lines render input: {"text": ..., "text_pair": ..., "max_seq_length": N, "mode": "rgb"}.
/// `text_pair`, `max_seq_length` and `mode` are optional; other keys (an id, a label) are ignored.
public struct RenderRequest: Sendable, Equatable {
    public var text: String
    public var textPair: String?
    public var maxSeqLength: Int?
    public var mode: RenderMode?

    public init(text: String, textPair: String? = nil, maxSeqLength: Int? = nil, mode: RenderMode? = nil) {
        self.text = text
        self.textPair = textPair
        self.maxSeqLength = maxSeqLength
        self.mode = mode
    }

    /// Renders the request: a pair when `textPair` is set, else a single text.
    public func render(with renderer: TextRenderer) throws(RenderError) -> RenderedStrip {
        if let textPair {
            try renderer.render(text, pair: textPair, maxSeqLength: maxSeqLength, mode: mode)
        } else {
            try renderer.render(text, maxSeqLength: maxSeqLength, mode: mode)
        }
    }

    /// Reads a JSON-lines file (Support's `JSONLines` rules); every line is checked before anything is
    /// rendered, so a bad line 900 stops the run before any output is written. Line numbers count from 1.
    public static func load(jsonLines path: String) throws(RenderError) -> [RenderRequest] {
        guard FileManager.default.fileExists(atPath: path) else { throw RenderError(path: path, .missingFile(what: "the input file")) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw RenderError(path: path, .cannotRead(error.localizedDescription))
        }
        return try parse(jsonLines: data, path: path)
    }

    public static func parse(jsonLines data: Data, path: String) throws(RenderError) -> [RenderRequest] {
        try JSONLines.entries([UInt8](data)).map { (entry: JSONLines.Entry) throws(RenderError) -> RenderRequest in
            switch entry.object {
            case .success(let object): try parse(object, path: path, lineNumber: entry.line)
            case .failure(.invalidUTF8): throw RenderError(path: path, .invalidUTF8(line: entry.line))
            case .failure(let problem): throw RenderError(path: path, .invalidRequest(line: entry.line, reason: problem.description))
            }
        }
    }

    static func parse(_ object: [String: JSONValue], path: String, lineNumber: Int) throws(RenderError) -> RenderRequest {
        func bad(_ reason: String) -> RenderError { RenderError(path: path, .invalidRequest(line: lineNumber, reason: reason)) }
        guard case .string(let text)? = object["text"] else {
            throw bad("\"text\" must be a string, found \(object["text"]?.summary ?? "nothing")")
        }
        var request = RenderRequest(text: text)
        switch object["text_pair"] {
        case nil, .null?: break
        case .string(let pair)?: request.textPair = pair
        case let other?: throw bad("\"text_pair\" must be a string or null, found \(other.summary)")
        }
        switch object["max_seq_length"] {
        case nil, .null?: break
        case .number(let n)? where n == n.rounded() && n >= 1 && n <= Double(1 << 20): request.maxSeqLength = Int(n)
        case let other?: throw bad("\"max_seq_length\" must be an integer from 1 to 1048576, found \(other.summary)")
        }
        switch object["mode"] {
        case nil, .null?: break
        case .string(let name)? where RenderMode(name: name) != nil: request.mode = RenderMode(name: name)
        case let other?: throw bad("\"mode\" must be \"rgb\", \"gray\" or \"binary\", found \(other.summary)")
        }
        return request
    }
}
