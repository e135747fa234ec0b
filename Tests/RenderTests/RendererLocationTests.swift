import Foundation
import Testing
@testable import Render

@Suite struct RendererLocationTests {
    @Test func environmentOverrideWins() throws {
        let found = try RendererLocation.defaultDirectory(environment: ["PIXELGPT_RENDERER": "/somewhere/else"], executable: nil, currentDirectory: "/")
        #expect(found == "/somewhere/else")
    }

    @Test func findsTheProjectRendererAboveTheExecutable() throws {
        let executable = RenderFixtures.repoRoot + "/.build-x/debug/pixelgpt"
        let found = try RendererLocation.defaultDirectory(environment: [:], executable: executable, currentDirectory: "/")
        #expect(found == RenderFixtures.repoRoot + "/renderers/noto")
    }

    @Test func fallsBackToTheCurrentDirectoryThenFails() throws {
        let found = try RendererLocation.defaultDirectory(environment: [:], executable: "/usr/bin/true", currentDirectory: RenderFixtures.repoRoot)
        #expect(found == RenderFixtures.repoRoot + "/renderers/noto")
        #expect(throws: RenderError.self) {
            try RendererLocation.defaultDirectory(environment: [:], executable: "/usr/bin/true", currentDirectory: "/nonexistent")
        }
    }
}
