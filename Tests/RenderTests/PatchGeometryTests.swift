import Testing
@testable import Render

@Suite struct PatchGeometryTests {
    @Test func nextPatchRoundsUpAndClamps() {
        let g = PatchGeometry(maxSequenceLength: 4)
        #expect(g.width == 64)
        #expect(g.nextPatch(0) == 0)
        #expect(g.nextPatch(2 + 10 + 2) == 16)
        #expect(g.nextPatch(16) == 16)
        #expect(g.nextPatch(17) == 32)
        #expect(g.nextPatch(16.5) == 32)
        #expect(g.nextPatch(1000) == 48)
        #expect(g.nextPatch(1000.0) == 48)
    }

    @Test func integerAndFloatingNextPatchAgree() {
        let g = PatchGeometry(maxSequenceLength: 256)
        for x in 0 ... 4200 { #expect(g.nextPatch(x) == g.nextPatch(Double(x)), "x = \(x)") }
    }

    @Test func patchCountsAreCeilingAndFloor() {
        let g = PatchGeometry(pixelsPerPatch: 16, maxSequenceLength: 8)
        #expect([0, 1, 15, 16, 17, 32].map(g.patchesCeil) == [0, 1, 1, 1, 2, 2])
        #expect([0, 1, 15, 16, 17, 32].map(g.patchesFloor) == [0, 0, 0, 1, 1, 2])
        #expect(g.patchesFloor(-1) == -1 && g.patchesCeil(-1) == 0)
    }

    @Test func attentionMaskCoversTextPatchesAndTheBlackPatch() {
        let g = PatchGeometry(maxSequenceLength: 6)
        #expect(g.attentionMask(numTextPatches: 0) == [1, 0, 0, 0, 0, 0])
        #expect(g.attentionMask(numTextPatches: 3) == [1, 1, 1, 1, 0, 0])
        #expect(g.attentionMask(numTextPatches: 5) == [1, 1, 1, 1, 1, 1])
        // Overflow: num_text_patches is L - 1 at most, but the mask never grows past L.
        #expect(g.attentionMask(numTextPatches: 9) == [1, 1, 1, 1, 1, 1])
    }
}
