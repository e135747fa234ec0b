/// Patch arithmetic of the original renderer (SPEC 5.3): strips are 16 px high, cut into square patches.
public struct PatchGeometry: Sendable, Equatable {
    public let pixelsPerPatch: Int
    public let maxSequenceLength: Int

    public init(pixelsPerPatch: Int = 16, maxSequenceLength: Int) {
        self.pixelsPerPatch = pixelsPerPatch
        self.maxSequenceLength = maxSequenceLength
    }

    /// Strip width in pixels.
    public var width: Int { pixelsPerPatch * maxSequenceLength }

    /// The pixel offset of the next patch boundary at or after `x`, capped at the last patch.
    public func nextPatch(_ x: Double) -> Int {
        min(Int((x / Double(pixelsPerPatch)).rounded(.up)) * pixelsPerPatch, width - pixelsPerPatch)
    }
}
