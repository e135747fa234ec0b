/// One rendered strip and its patch bookkeeping: the renderer's `Encoding` (SPEC 5.3-5.5).
public struct RenderedStrip: Sendable, Equatable {
    public let mode: RenderMode
    public let pixelsPerPatch: Int
    public let maxSeqLength: Int
    /// Row-major bytes, [height, width, channels]: R, G, B for rgb; one grey value otherwise. White is 255.
    public let pixels: [UInt8]
    /// The index of the final black patch: the patches of text (and, for a pair, the separator) before it.
    public let numTextPatches: Int
    /// Pixel x-offsets of the black patches: the end patch for a single text; separator then end for a pair.
    public let sepPatches: [Int]
    /// Glyphs Pango drew as hex boxes because no font has them (upstream logs a warning for each layout).
    public let unknownGlyphs: Int
    /// Pairs only: whether the right-to-left branch ran (both texts voted RTL, SPEC 5.3).
    public let rightToLeft: Bool

    public var height: Int { pixelsPerPatch }
    public var width: Int { pixelsPerPatch * maxSeqLength }
    public var channels: Int { mode.channels }
    /// [16, W, 3] or [16, W].
    public var shape: [Int] { mode == .rgb ? [height, width, 3] : [height, width] }

    /// The model input: Float32 channel-first [channels, 16, W], value / 255, so white is 1 and black 0; no
    /// mean/std normalisation (SPEC 5.6). Gray and binary strips give one channel, the input of the 1-channel
    /// ablation model; `asRGB` repeats it into three (PIL convert('RGB')) for a 3-channel model.
    public func modelInput(asRGB: Bool = false) -> [Float] {
        let c = channels, plane = height * width
        let outChannels = asRGB ? 3 : c
        var out = [Float](repeating: 0, count: outChannels * plane)
        out.withUnsafeMutableBufferPointer { out in
            pixels.withUnsafeBufferPointer { pixels in
                for i in 0 ..< plane {
                    for k in 0 ..< outChannels { out[k * plane + i] = Float(pixels[i * c + min(k, c - 1)]) / 255 }
                }
            }
        }
        return out
    }

    /// The patch attention mask of length maxSeqLength: 1 for the text patches and the black end patch,
    /// min(numTextPatches + 1, L) ones, then zeros (SPEC 5.5).
    public func attentionMask() -> [Float] {
        PatchGeometry(pixelsPerPatch: pixelsPerPatch, maxSequenceLength: maxSeqLength).attentionMask(numTextPatches: numTextPatches)
    }
}
