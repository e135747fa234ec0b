import Foundation
import Support
import Testing
@testable import Render

@Suite struct RendererConfigTests {
    func parse(_ json: String) throws(RenderError) -> RendererConfig {
        try RendererConfig.parse(Data(json.utf8), path: "/r/text_renderer_config.json", directory: "/r")
    }

    func problem(_ json: String) -> RenderError.Problem? {
        do { _ = try parse(json); return nil } catch { return error.problem }
    }

    @Test func readsTheUpstreamKeys() throws {
        let c = try parse("""
            {"font_file": "GoNotoCurrent.ttf", "font_size": 8, "dpi": 120, "pixels_per_patch": 16, "max_seq_length": 529,
             "pad_size": 3, "font_color": "black", "background_color": "white", "rgb": true, "fallback_fonts_dir": null,
             "text_renderer_type": "TextRenderer", "processor_class": "x"}
            """)
        #expect(c.fontFile == "/r/GoNotoCurrent.ttf")
        #expect(c.fontSize == 8 && c.dpi == 120 && c.pixelsPerPatch == 16 && c.maxSeqLength == 529 && c.padSize == 3)
        #expect(c.rgb && c.fallbackFontsDir == nil && c.textRendererType == "TextRenderer")
        #expect(c.otherKeys == ["processor_class"])
        // Upstream's description string: "<family> 13.333333333333334px".
        #expect("\(c.pixelSize)" == "13.333333333333334")
    }

    @Test func codeDefaultsApplyToAbsentKeys() throws {
        let c = try parse(#"{"font_file": "/fonts/a.ttf"}"#)
        #expect(c.fontFile == "/fonts/a.ttf")
        #expect(c.fontSize == 8 && c.dpi == 120 && c.pixelsPerPatch == 16 && c.maxSeqLength == 1024 && !c.rgb)
    }

    @Test func refusesBadConfigsNamingTheKey() {
        #expect(problem("{") != nil)
        if case .invalidJSON? = problem("[1, 2]") {} else { Issue.record("a top-level array must be refused") }
        #expect(problem(#"{"font_size": 8}"#) == .invalidKey(key: "font_file", reason: "is required (the primary font file, e.g. NotoSans-Regular.ttf)"))
        for (json, key) in [
            (#"{"font_file": "a.ttf", "font_size": "8"}"#, "font_size"),
            (#"{"font_file": "a.ttf", "font_size": -1}"#, "font_size"),
            (#"{"font_file": "a.ttf", "dpi": 0}"#, "dpi"),
            (#"{"font_file": "a.ttf", "pixels_per_patch": 16.5}"#, "pixels_per_patch"),
            (#"{"font_file": "a.ttf", "max_seq_length": 0}"#, "max_seq_length"),
            (#"{"font_file": "a.ttf", "rgb": 1}"#, "rgb"),
            (#"{"font_file": "a.ttf", "font_color": "red"}"#, "font_color"),
            (#"{"font_file": "a.ttf", "background_color": "black"}"#, "background_color"),
            (#"{"font_file": 3}"#, "font_file"),
        ] {
            guard case .invalidKey(let named, _)? = problem(json) else { Issue.record("accepted \(json)"); continue }
            #expect(named == key, "\(json)")
        }
    }

    @Test func errorsAreOneLineNamingTheFile() {
        do { _ = try parse(#"{"font_file": "a.ttf", "rgb": "yes"}"#); Issue.record("accepted rgb \"yes\"") } catch {
            #expect(error.description.hasPrefix("/r/text_renderer_config.json: key \"rgb\""))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func invalidConfigFileIsRefusedByTheRenderer() throws {
        let dir = try RenderFixtures.rendererDirectory(config: #"{"font_file": "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "dpi": "#)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: RenderError.self) { try TextRenderer(directory: dir) }
        do { _ = try TextRenderer(directory: dir) } catch {
            guard case .invalidJSON = error.problem else { Issue.record("expected invalidJSON, got \(error)"); return }
            #expect(error.path == dir + "/text_renderer_config.json")
        }
    }

    @Test func missingFontFileIsAOneLineErrorNamingIt() throws {
        let dir = try RenderFixtures.rendererDirectory(config: #"{"font_file": "/nonexistent/NoSuchFont.ttf"}"#)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do { _ = try TextRenderer(directory: dir); Issue.record("a missing font file was accepted") } catch {
            guard case .missingFile = error.problem else { Issue.record("expected missingFile, got \(error)"); return }
            #expect(error.path == "/nonexistent/NoSuchFont.ttf")
            #expect(error.description.contains("/nonexistent/NoSuchFont.ttf") && !error.description.contains("\n"))
        }
    }

    @Test func missingFontsConfAndMissingConfigAreErrors() throws {
        let dir = try RenderFixtures.rendererDirectory(
            config: #"{"font_file": "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"}"#, fontsConf: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do { _ = try TextRenderer(directory: dir); Issue.record("a missing fonts.conf was accepted") } catch {
            #expect(error.problem == .missingFile(what: "the renderer's fontconfig file"))
            #expect(error.path == dir + "/fonts.conf")
        }
        do { _ = try TextRenderer(directory: dir + "/nowhere"); Issue.record("a missing directory was accepted") } catch {
            #expect(error.path == dir + "/nowhere/text_renderer_config.json")
        }
    }

    @Test func aFileThatIsNotAFontIsRefused() throws {
        let dir = try RenderFixtures.rendererDirectory(config: #"{"font_file": "fake.ttf"}"#)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "not a font at all".write(toFile: dir + "/fake.ttf", atomically: true, encoding: .utf8)
        do { _ = try TextRenderer(directory: dir); Issue.record("a text file was accepted as a font") } catch {
            guard case .notAFont = error.problem else { Issue.record("expected notAFont, got \(error)"); return }
            #expect(error.path == dir + "/fake.ttf")
        }
    }

    @Test func theProjectRendererMatchesTheGoldenSetup() throws {
        let c = try RendererConfig.load(directory: RenderFixtures.notoRenderer)
        #expect(c.fontFile == "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")
        #expect(c.fontSize == 8 && c.dpi == 120 && c.pixelsPerPatch == 16)
        // fonts.conf is shipped unchanged from the goldens (golden README: sha256 3f240ebd...).
        #expect(try SHA256.hexDigest(ofFile: RenderFixtures.notoRenderer + "/fonts.conf")
            == "3f240ebd15946094371560a4d9381bc207fb93a28223fbee746a32465c697e53")
    }
}
