import Foundation
@_exported import TestSupport
@testable import Render

/// Where the render tests find the project's renderer directory and the goldens (through `TestData`).
enum RenderFixtures {
    static let repoRoot = TestData.repositoryRoot

    /// The renderer directory shipped with the project.
    static var notoRenderer: String { repoRoot + "/renderers/noto" }

    /// The golden render folder (holding cases.jsonl).
    static var goldenRender: String { (TestData.goldenDirectory ?? "/nonexistent-PIXELGPT_GOLDEN") + "/render" }

    /// One renderer over the project's renderers/noto for a test (renderers are not thread-safe, so each test
    /// makes its own).
    static func notoTextRenderer() throws -> TextRenderer { try TextRenderer(directory: notoRenderer) }

    /// A renderer directory in a temporary folder with the given config text and the project's fonts.conf.
    static func rendererDirectory(config: String, fontsConf: Bool = true) throws -> String {
        let dir = try temporaryDirectory()
        try config.write(toFile: dir + "/" + RendererConfig.fileName, atomically: true, encoding: .utf8)
        if fontsConf { try FileManager.default.copyItem(atPath: notoRenderer + "/fonts.conf", toPath: dir + "/fonts.conf") }
        return dir
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "render-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// One line of the goldens' cases.jsonl (golden README, "Fields of cases.jsonl").
struct GoldenCase: Decodable, Sendable {
    let id: String
    let kind: String
    let source: String
    let mode: String
    let maxSeqLength: Int
    let text: String?
    let textPair: [String]?
    let numTextPatches: Int
    let sepPatches: [Int]
    let pixelSha256: String
    let png: String
    let rtlBranch: Bool?

    enum CodingKeys: String, CodingKey {
        case id, kind, source, mode, text, png
        case maxSeqLength = "max_seq_length", textPair = "text_pair", numTextPatches = "num_text_patches"
        case sepPatches = "sep_patches", pixelSha256 = "pixel_sha256", rtlBranch = "rtl_branch"
    }

    static func load(from directory: String) throws -> [GoldenCase] {
        let text = try String(contentsOfFile: directory + "/cases.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(GoldenCase.self, from: Data($0.utf8)) }
    }
}
