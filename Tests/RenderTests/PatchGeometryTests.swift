import Testing
@testable import Render

@Suite struct PatchGeometryTests {
    @Test func nextPatchRoundsUpAndClamps() {
        let g = PatchGeometry(maxSequenceLength: 4)
        #expect(g.width == 64)
        #expect(g.nextPatch(0) == 0)
        #expect(g.nextPatch(2 + 10 + 2) == 16)
        #expect(g.nextPatch(16) == 16)
        #expect(g.nextPatch(16.5) == 32)
        #expect(g.nextPatch(1000) == 48)
    }
}
