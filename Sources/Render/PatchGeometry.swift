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

    /// `nextPatch` for whole pixels, as upstream calls it (integer ceiling, no floating point).
    public func nextPatch(_ x: Int) -> Int {
        min(patchesCeil(x) * pixelsPerPatch, width - pixelsPerPatch)
    }

    /// ⌈x / pixelsPerPatch⌉ (upstream `px2patch_ceil`).
    public func patchesCeil(_ x: Int) -> Int {
        x >= 0 ? (x + pixelsPerPatch - 1) / pixelsPerPatch : -((-x) / pixelsPerPatch)
    }

    /// ⌊x / pixelsPerPatch⌋ (upstream `px2patch_floor`).
    public func patchesFloor(_ x: Int) -> Int {
        x >= 0 ? x / pixelsPerPatch : -((-x + pixelsPerPatch - 1) / pixelsPerPatch)
    }

    /// mask[j] = 1 for j < min(numTextPatches + 1, L), else 0: the text patches plus the black end patch (SPEC 5.5).
    public func attentionMask(numTextPatches: Int) -> [Float] {
        let ones = max(0, min(numTextPatches + 1, maxSequenceLength))
        return [Float](repeating: 1, count: ones) + [Float](repeating: 0, count: maxSequenceLength - ones)
    }
}
