import CPangoCairo
import Foundation

/// The fonts of one renderer: a private fontconfig configuration built from the renderer directory's
/// fonts.conf alone, with the primary font file registered on it, behind a Pango font map of its own.
/// Rendering then depends on nothing else installed on the machine (golden README, "Reproducing the font setup").
///
/// Not thread-safe: a Pango font map and the contexts made from it must stay on one thread at a time.
final class FontSetup {
    let fontMap: UnsafeMutablePointer<PangoFontMap>
    /// The fontconfig configuration, kept referenced for the provenance queries of `RenderEnvironment`.
    let fcConfig: OpaquePointer
    let fontsConf: String

    static let fontsConfName = "fonts.conf"

    init(directory: String, config: RendererConfig) throws(RenderError) {
        let fontsConf = (directory as NSString).appendingPathComponent(FontSetup.fontsConfName)
        self.fontsConf = fontsConf
        guard FileManager.default.fileExists(atPath: fontsConf) else {
            throw RenderError(path: fontsConf, .missingFile(what: "the renderer's fontconfig file"))
        }
        guard FileManager.default.fileExists(atPath: config.fontFile) else {
            throw RenderError(path: config.fontFile, .missingFile(what: "the font file named by font_file", hint: "on Debian: apt-get install fonts-noto-core fonts-noto-cjk"))
        }
        // FcConfigCreate + FcConfigParseAndLoad: this file is the only configuration (no /etc/fonts, no conf.d).
        guard let fc = FcConfigCreate() else { throw RenderError(path: fontsConf, .fontconfig("FcConfigCreate failed")) }
        guard fcBytes(fontsConf, { FcConfigParseAndLoad(fc, $0, 1) }) != 0 else {
            FcConfigDestroy(fc)
            throw RenderError(path: fontsConf, .fontconfig("FcConfigParseAndLoad refused the file (not a fontconfig XML file?)"))
        }
        guard FcConfigBuildFonts(fc) != 0 else {
            FcConfigDestroy(fc)
            throw RenderError(path: fontsConf, .fontconfig("FcConfigBuildFonts failed"))
        }
        // manimpango.register_font: FcConfigAppFontAddFile of the primary font (and of any fallback files).
        var fontFiles = [config.fontFile]
        if let dir = config.fallbackFontsDir {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
                FcConfigDestroy(fc)
                throw RenderError(path: dir, .missingFile(what: "the fallback_fonts_dir directory"))
            }
            fontFiles += names.filter { $0.hasSuffix("tf") }.sorted().map { (dir as NSString).appendingPathComponent($0) }
        }
        for file in fontFiles where fcBytes(file, { FcConfigAppFontAddFile(fc, $0) }) == 0 {
            FcConfigDestroy(fc)
            throw RenderError(path: file, .notAFont("fontconfig could not register it"))
        }
        guard let map = pango_cairo_font_map_new() else {
            FcConfigDestroy(fc)
            throw RenderError(path: fontsConf, .pango("pango_cairo_font_map_new failed"))
        }
        // On Linux the cairo font map is a PangoFcFontMap; anything else (PANGO_CAIRO_BACKEND) cannot take fonts.conf.
        let isFc = map.withMemoryRebound(to: GTypeInstance.self, capacity: 1) {
            g_type_check_instance_is_a($0, pango_fc_font_map_get_type()) != 0
        }
        guard isFc else {
            g_object_unref(map)
            FcConfigDestroy(fc)
            throw RenderError(path: fontsConf, .pango("the Pango cairo font map is not fontconfig-based (is PANGO_CAIRO_BACKEND set?)"))
        }
        pango_fc_font_map_set_config(OpaquePointer(map), fc)
        fontMap = map
        fcConfig = fc
    }

    deinit {
        g_object_unref(fontMap)
        FcConfigDestroy(fcConfig)
    }
}

/// Calls a fontconfig function that takes a file name as `const FcChar8 *`.
func fcBytes<R>(_ string: String, _ body: (UnsafePointer<FcChar8>) -> R) -> R {
    string.withCString { $0.withMemoryRebound(to: FcChar8.self, capacity: strlen($0) + 1, body) }
}
