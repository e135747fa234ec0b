import Foundation
import Support
import Testing
@testable import Render

/// The renderer against images of the original Python renderer, rendered on this machine's Debian Pango stack
/// with the same fonts.conf (golden README). Layout (num_text_patches, sep_patches) and pixels must be exact.
@Suite struct GoldenRenderTests {
    struct Outcome {
        let golden: GoldenCase
        let layoutMatches: Bool
        let pixelsMatch: Bool
        let maxDifference: Int
        let differingShare: Double
    }

    @Test(.enabled(if: TestData.goldenDirectory != nil || TestData.isRequired, "needs the goldens (PIXELGPT_GOLDEN or PIXELGPT_DATA)"))
    func everyPublicCaseIsReproducedExactly() throws {
        let golden = RenderFixtures.goldenRender
        let cases = try GoldenCase.load(from: golden)
        #expect(cases.count > 0)
        let renderer = try TextRenderer(directory: RenderFixtures.notoRenderer)
        let start = Date()
        var outcomes: [Outcome] = []
        for c in cases {
            let mode = try #require(RenderMode(name: c.mode), "unknown mode \(c.mode) in \(c.id)")
            let strip: RenderedStrip
            if let pair = c.textPair {
                try #require(pair.count == 2, "\(c.id): text_pair must hold two texts")
                strip = try renderer.render(pair[0], pair: pair[1], maxSeqLength: c.maxSeqLength, mode: mode)
                if let rtl = c.rtlBranch { #expect(strip.rightToLeft == rtl, "\(c.id): RTL branch") }
            } else {
                strip = try renderer.render(try #require(c.text), maxSeqLength: c.maxSeqLength, mode: mode)
            }
            let layoutMatches = strip.numTextPatches == c.numTextPatches && strip.sepPatches == c.sepPatches
            #expect(strip.numTextPatches == c.numTextPatches, "\(c.id): num_text_patches")
            #expect(strip.sepPatches == c.sepPatches, "\(c.id): sep_patches")
            let pixelsMatch = SHA256.hexDigest(of: strip.pixels) == c.pixelSha256
            var maxDifference = 0, differing = 0
            if !pixelsMatch {
                let image = try PNGFile.read(golden + "/" + c.png)
                let expected = mode == .rgb ? image.rgb : image.red
                #expect(expected.count == strip.pixels.count, "\(c.id): image size")
                for (a, b) in zip(expected, strip.pixels) where a != b {
                    differing += 1
                    maxDifference = max(maxDifference, abs(Int(a) - Int(b)))
                }
            }
            // No tolerance: every public case must be byte-identical (pixel_sha256 of the raw bytes).
            #expect(pixelsMatch, "\(c.id): pixels differ, max |diff| \(maxDifference), \(differing) bytes")
            outcomes.append(Outcome(
                golden: c, layoutMatches: layoutMatches, pixelsMatch: pixelsMatch, maxDifference: maxDifference,
                differingShare: Double(differing) / Double(max(1, strip.pixels.count))))
        }
        let seconds = Date().timeIntervalSince(start)
        print(Self.report(outcomes, seconds: seconds))
    }

    /// Exact matches per kind / source / mode, layout mismatches, and the worst pixel differences.
    static func report(_ outcomes: [Outcome], seconds: Double) -> String {
        var groups: [String: (exact: Int, total: Int, layout: Int, worst: Int, share: Double)] = [:]
        for o in outcomes {
            let key = "\(o.golden.kind) \(o.golden.source) \(o.golden.mode)"
            var g = groups[key] ?? (0, 0, 0, 0, 0)
            g.total += 1
            if o.pixelsMatch { g.exact += 1 }
            if !o.layoutMatches { g.layout += 1 }
            g.worst = max(g.worst, o.maxDifference)
            g.share = max(g.share, o.differingShare)
            groups[key] = g
        }
        var lines = ["golden render report: \(outcomes.filter(\.pixelsMatch).count)/\(outcomes.count) exact, "
            + "\(outcomes.filter { !$0.layoutMatches }.count) layout mismatches, "
            + String(format: "%.1f strips/s", Double(outcomes.count) / max(seconds, 1e-9))]
        for key in groups.keys.sorted() {
            let g = groups[key]!
            var line = "  \(key): \(g.exact)/\(g.total) exact"
            if g.layout > 0 { line += ", \(g.layout) layout mismatches" }
            if g.exact < g.total { line += String(format: ", max |diff| %d, max %.3f%% differing", g.worst, 100 * g.share) }
            lines.append(line)
        }
        for o in outcomes where !o.pixelsMatch {
            lines.append(String(format: "  mismatch %@: max |diff| %d, %.3f%% differing", o.golden.id, o.maxDifference, 100 * o.differingShare))
        }
        return lines.joined(separator: "\n")
    }
}
