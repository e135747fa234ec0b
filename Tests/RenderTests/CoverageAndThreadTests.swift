import Foundation
import Testing
@testable import Render

@Suite struct CoverageAndThreadTests {
    static let xnliLanguages = ["ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"]

    /// The first `count` distinct premises of an XNLI dev file and the hypothesis of each premise's first row.
    static func premises(_ language: String, count: Int) throws -> [(premise: String, hypothesis: String)] {
        let text = try String(contentsOfFile: TestData.path("xnli/dev-\(language).tsv"), encoding: .utf8)
        var seen = Set<String>(), out: [(String, String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where out.count < count {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 2, seen.insert(fields[0]).inserted else { continue }
            out.append((fields[0], fields[1]))
        }
        return out
    }

    /// Issue 7: no character of the XNLI dev texts may come out as a missing-glyph box (Pango's unknown glyphs).
    @Test(.enabled(if: TestData.hasData, "needs the XNLI data (PIXELGPT_DATA)"))
    func firstFiftyXNLIPremisesOfEveryLanguageHaveNoUnknownGlyphs() throws {
        let renderer = try RenderFixtures.notoTextRenderer()
        var checked = 0
        for language in Self.xnliLanguages {
            let rows = try Self.premises(language, count: 50)
            #expect(rows.count == 50, "\(language): fewer than 50 distinct premises")
            for (i, row) in rows.enumerated() {
                let single = try renderer.render(row.premise, maxSeqLength: 256, mode: .gray).unknownGlyphs
                #expect(single == 0, "\(language) premise \(i): \(single) unknown glyphs")
                // Pairs too: for ar and ur most take the RTL branch, whose layouts differ (base direction RTL).
                let pair = try renderer.render(row.premise, pair: row.hypothesis, maxSeqLength: 256, mode: .gray).unknownGlyphs
                #expect(pair == 0, "\(language) pair \(i): \(pair) unknown glyphs")
                checked += 2
            }
        }
        #expect(checked == 15 * 50 * 2)
    }

    /// One renderer per thread: renderers share no Pango state, so the pool's parallel strips are the sequential
    /// bytes, in input order.
    @Test func rendererPoolGivesTheSequentialResultInOrder() throws {
        let requests = (0 ..< 24).map {
            RenderRequest(
                text: "Thread test \($0): مرحبا, 中文, ไทย, हिन्दी, Ελληνικά \(String(repeating: "x", count: $0))",
                textPair: $0 % 3 == 0 ? "سلام عليكم \($0)" : nil, maxSeqLength: 64, mode: $0 % 2 == 0 ? .rgb : .gray)
        }
        let sequential = try RenderFixtures.notoTextRenderer()
        let expected = try requests.map { try $0.render(with: sequential) }
        let pool = try RendererPool(directory: RenderFixtures.notoRenderer, threads: 3)
        #expect(pool.threads == 3)
        let parallel = try pool.render(requests[...])
        #expect(parallel.count == expected.count)
        for i in expected.indices {
            let same = parallel[i] == expected[i]
            #expect(same, "case \(i): the parallel strip differs from the sequential one")
        }
        let indices = try pool.map(requests[5 ..< 11]) { index, strip in index * 1000 + strip.numTextPatches }
        #expect(indices == (0 ..< 6).map { $0 * 1000 + expected[5 + $0].numTextPatches })
    }

    @Test func rendererPoolReportsTheFirstFailingCase() throws {
        let pool = try RendererPool(directory: RenderFixtures.notoRenderer, threads: 2)
        let requests = [RenderRequest(text: "fine", maxSeqLength: 8), RenderRequest(text: "too wide", maxSeqLength: 0)]
        #expect(throws: RenderError.self) { try pool.render(requests[...]) }
    }

    /// Every C object of a render is freed: layouts hold a reference to their Pango context and a cairo context
    /// to its surface, so after any render each context and surface is referenced by the renderer alone.
    @Test func renderingReleasesEveryLayoutAndCairoContext() throws {
        let renderer = try RenderFixtures.notoTextRenderer()
        let ar = String(repeating: "وقال، ماما، لقد عدت للمنزل. ", count: 40)
        _ = try renderer.render("Hello", maxSeqLength: 64, mode: .rgb)
        _ = try renderer.render("Hello", pair: "world", maxSeqLength: 64, mode: .gray)
        _ = try renderer.render(ar, pair: ar, maxSeqLength: 64, mode: .binary)  // RTL branch with truncation
        let counts = renderer.referenceCounts()
        #expect(counts.contexts == [1, 1])
        #expect(counts.surfaces == [1, 1])
    }

    static func residentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}
