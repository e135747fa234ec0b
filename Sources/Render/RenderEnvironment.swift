import CPangoCairo
import Foundation
import Support

/// What a rendering-based result depends on besides the text: library versions, the renderer settings and the
/// exact font files (sha256), recorded with results for provenance (docs/architecture.md; golden
/// environment.json holds the same facts for the goldens).
public struct RenderEnvironment: Codable, Equatable, Sendable {
    public struct FontFile: Codable, Equatable, Sendable {
        public let family: String
        public let file: String
        public let index: Int
        public let sha256: String
    }

    public let pango: String
    public let cairo: String
    public let harfbuzz: String
    public let freetype: String
    public let fontconfig: String
    public let rendererDirectory: String
    public let fontsConf: String
    public let fontsConfSHA256: String
    public let fontDescription: String
    /// The primary font file first, then fontconfig's fallback order for the family (FcFontSort), as far as asked.
    public let fonts: [FontFile]

    enum CodingKeys: String, CodingKey {
        case pango, cairo, harfbuzz, freetype, fontconfig
        case rendererDirectory = "renderer_directory", fontsConf = "fonts_conf", fontsConfSHA256 = "fonts_conf_sha256"
        case fontDescription = "font_description", fonts
    }

    /// The versions of the libraries this process has loaded.
    public static func libraryVersions() -> (pango: String, cairo: String, harfbuzz: String, freetype: String, fontconfig: String) {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        var library: FT_Library?
        if FT_Init_FreeType(&library) == 0, let library {
            FT_Library_Version(library, &major, &minor, &patch)
            FT_Done_FreeType(library)
        }
        let fc = Int(FcGetVersion())
        return (
            String(cString: pango_version_string()), String(cString: cairo_version_string()),
            String(cString: hb_version_string()), "\(major).\(minor).\(patch)",
            "\(fc / 10000).\(fc / 100 % 100).\(fc % 100)")
    }
}

extension TextRenderer {
    /// The environment of this renderer: versions, fonts.conf hash, and the sha256 of the primary font file and
    /// of the first `fallbackFonts` fonts of fontconfig's fallback order (the golden setup prefers 8 families).
    /// Hashing reads the files (the CJK collection is about 20 MB), so call it once per run, not per strip.
    public func environment(fallbackFonts: Int = 8) throws(RenderError) -> RenderEnvironment {
        let versions = RenderEnvironment.libraryVersions()
        var records: [RenderEnvironment.FontFile] = [
            .init(family: familyName, file: config.fontFile, index: 0, sha256: try Self.sha256(ofFile: config.fontFile)),
        ]
        for (family, file, index) in fallbackOrder(limit: fallbackFonts)
        where !records.contains(where: { $0.file == file && $0.index == index }) {
            records.append(.init(family: family, file: file, index: index, sha256: try Self.sha256(ofFile: file)))
        }
        return RenderEnvironment(
            pango: versions.pango, cairo: versions.cairo, harfbuzz: versions.harfbuzz, freetype: versions.freetype,
            fontconfig: versions.fontconfig, rendererDirectory: directory, fontsConf: fontsConfPath,
            fontsConfSHA256: try Self.sha256(ofFile: fontsConfPath), fontDescription: fontDescriptionString, fonts: records)
    }

    static func sha256(ofFile path: String) throws(RenderError) -> String {
        do { return try SHA256.hexDigest(ofFile: path) } catch { throw RenderError(path: path, .cannotRead(error.reason)) }
    }

    /// FcFontSort of the family pattern after FcConfigSubstitute and FcDefaultSubstitute: the order in which
    /// fonts are tried for characters the primary font lacks (golden README, step 4).
    func fallbackOrder(limit: Int) -> [(family: String, file: String, index: Int)] {
        guard limit > 0, let pattern = fcBytes(familyName, { FcNameParse($0) }) else { return [] }
        defer { FcPatternDestroy(pattern) }
        FcConfigSubstitute(fontConfiguration, pattern, FcMatchPattern)
        FcDefaultSubstitute(pattern)
        var result = FcResultMatch
        guard let set = FcFontSort(fontConfiguration, pattern, 0, nil, &result) else { return [] }
        defer { FcFontSetDestroy(set) }
        var order: [(String, String, Int)] = []
        // One font per family: the sort lists every style of a family (Bold, Italic, ...) next to each other, but
        // fallback picks the regular face the pattern asks for, which comes first.
        for i in 0 ..< Int(set.pointee.nfont) where order.count < limit {
            guard let font = set.pointee.fonts[i] else { continue }
            var family: UnsafeMutablePointer<FcChar8>?, file: UnsafeMutablePointer<FcChar8>?
            var index: Int32 = 0
            guard FcPatternGetString(font, FC_FAMILY, 0, &family) == FcResultMatch,
                  FcPatternGetString(font, FC_FILE, 0, &file) == FcResultMatch, let family, let file else { continue }
            _ = FcPatternGetInteger(font, FC_INDEX, 0, &index)
            let name = String(cString: family)
            if order.contains(where: { $0.0 == name }) { continue }
            order.append((name, String(cString: file), Int(index)))
        }
        return order
    }
}
