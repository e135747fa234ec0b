import Foundation
import Support

/// A renderer directory's `text_renderer_config.json`, with the upstream key names and code defaults (SPEC 5.2).
/// Wrong values are refused at load time with the key named; keys it does not model are listed in `otherKeys`.
public struct RendererConfig: Equatable, Sendable {
    /// Absolute path of the primary font file (a relative `font_file` is resolved against the directory).
    public var fontFile: String
    /// Points; the font is sized in absolute pixels, fontSize * dpi / 72 (SPEC 5.2).
    public var fontSize: Double = 8
    public var dpi: Double = 120
    public var pixelsPerPatch: Int = 16
    /// Upstream overwrites this at run time with the task's sequence length; so can every render call.
    public var maxSeqLength: Int = 1024
    /// Unused for sentences and pairs (SPEC 5.2); kept so that a config round-trips.
    public var padSize: Int = 3
    /// Upstream draws black on white whatever these say, so other values are refused rather than ignored.
    public var fontColor: String = "black"
    public var backgroundColor: String = "white"
    /// true: FORMAT_RGB24 strips; false: FORMAT_A8 (grey) strips (SPEC 5.3). The default mode of a renderer.
    public var rgb: Bool = false
    /// A directory whose *.ttf / *.otf files are registered as extra fallback fonts, as upstream does.
    public var fallbackFontsDir: String?
    public var textRendererType: String?
    /// Keys present in the file that this struct does not model, sorted.
    public var otherKeys: [String] = []

    public static let fileName = "text_renderer_config.json"

    public init(fontFile: String) {
        self.fontFile = fontFile
    }

    /// Reads `<directory>/text_renderer_config.json`.
    public static func load(directory: String) throws(RenderError) -> RendererConfig {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw RenderError(path: path, .missingFile(what: "the renderer config"))
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw RenderError(path: path, .cannotRead(error.localizedDescription))
        }
        return try parse(data, path: path, directory: directory)
    }

    /// Parses the JSON text of a config; `directory` anchors relative paths, `path` names the file in errors.
    public static func parse(_ data: Data, path: String, directory: String) throws(RenderError) -> RendererConfig {
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(data) } catch { throw RenderError(path: path, .invalidJSON(error.message)) }
        guard case .object(let json) = parsed else {
            throw RenderError(path: path, .invalidJSON("the top level must be an object, found \(parsed.summary)"))
        }
        func bad(_ key: String, _ reason: String) -> RenderError { RenderError(path: path, .invalidKey(key: key, reason: reason)) }
        func number(_ key: String) throws(RenderError) -> Double? {
            guard let value = json[key] else { return nil }
            guard case .number(let n) = value else { throw bad(key, "must be a number, found \(value.summary)") }
            return n
        }
        func integer(_ key: String) throws(RenderError) -> Int? {
            guard let d = try number(key) else { return nil }
            guard d == d.rounded(), abs(d) < 1e9 else { throw bad(key, "must be an integer, found \(d)") }
            return Int(d)
        }
        func string(_ key: String) throws(RenderError) -> String? {
            guard let value = json[key], value != .null else { return nil }
            guard case .string(let s) = value else { throw bad(key, "must be a string, found \(value.summary)") }
            return s
        }

        guard let fontFile = try string("font_file"), !fontFile.isEmpty else {
            throw bad("font_file", "is required (the primary font file, e.g. NotoSans-Regular.ttf)")
        }
        var config = RendererConfig(fontFile: resolve(fontFile, against: directory))
        if let v = try number("font_size") {
            guard v > 0, v < 1000 else { throw bad("font_size", "must be positive and below 1000 points, found \(v)") }
            config.fontSize = v
        }
        if let v = try number("dpi") {
            guard v > 0, v < 10000 else { throw bad("dpi", "must be positive and below 10000, found \(v)") }
            config.dpi = v
        }
        if let v = try integer("pixels_per_patch") {
            guard v > 0, v <= 1024 else { throw bad("pixels_per_patch", "must be between 1 and 1024, found \(v)") }
            config.pixelsPerPatch = v
        }
        if let v = try integer("max_seq_length") {
            guard v > 0, v <= 1 << 20 else { throw bad("max_seq_length", "must be between 1 and 1048576, found \(v)") }
            config.maxSeqLength = v
        }
        if let v = try integer("pad_size") {
            guard v >= 0 else { throw bad("pad_size", "must not be negative, found \(v)") }
            config.padSize = v
        }
        if let v = try string("font_color") {
            guard v == "black" else { throw bad("font_color", "only \"black\" is supported (upstream draws black whatever this says), found \"\(v)\"") }
            config.fontColor = v
        }
        if let v = try string("background_color") {
            guard v == "white" else { throw bad("background_color", "only \"white\" is supported (upstream fills white whatever this says), found \"\(v)\"") }
            config.backgroundColor = v
        }
        if let value = json["rgb"], value != .null {
            guard case .bool(let b) = value else { throw bad("rgb", "must be true or false, found \(value.summary)") }
            config.rgb = b
        }
        if let v = try string("fallback_fonts_dir") { config.fallbackFontsDir = resolve(v, against: directory) }
        config.textRendererType = try string("text_renderer_type")
        let known: Set<String> = [
            "font_file", "font_size", "dpi", "pixels_per_patch", "max_seq_length", "pad_size", "font_color",
            "background_color", "rgb", "fallback_fonts_dir", "text_renderer_type",
        ]
        config.otherKeys = json.keys.filter { !known.contains($0) }.sorted()
        return config
    }

    /// The pixel size upstream puts in the font description string: (dpi / 72) * font_size, in that order so that
    /// the Double is the same one Python formats (SPEC 5.2).
    public var pixelSize: Double { (dpi / 72) * fontSize }

    static func resolve(_ path: String, against directory: String) -> String {
        path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
    }
}
