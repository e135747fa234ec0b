/// An image for a person to inspect what the model sees: the strip enlarged, patch boundaries drawn, and a band
/// under it showing the patch attention mask (green: attended, grey: masked out) (issue 7, `--preview`).
public enum StripPreview {
    /// RGB bytes [height, width, 3] of the preview, cropped to the attended patches plus one more so that it
    /// stays viewable; `scale` enlarges each pixel to scale x scale.
    public static func make(_ strip: RenderedStrip, scale: Int = 4) -> (pixels: [UInt8], width: Int, height: Int) {
        let patch = strip.pixelsPerPatch
        let mask = strip.attentionMask()
        let patches = min(strip.maxSeqLength, mask.filter { $0 > 0 }.count + 1)
        let band = 2 * scale
        let width = patches * patch * scale, height = patch * scale + band
        var out = [UInt8](repeating: 255, count: width * height * 3)
        func put(_ x: Int, _ y: Int, _ r: UInt8, _ g: UInt8, _ b: UInt8) {
            let i = (y * width + x) * 3
            out[i] = r; out[i + 1] = g; out[i + 2] = b
        }
        for y in 0 ..< patch * scale {
            for x in 0 ..< width {
                let sx = x / scale, sy = y / scale
                let i = (sy * strip.width + sx) * strip.channels
                let r = strip.pixels[i], g = strip.pixels[i + (strip.channels == 3 ? 1 : 0)], b = strip.pixels[i + (strip.channels == 3 ? 2 : 0)]
                if x % (patch * scale) == 0 { put(x, y, 255, 64, 64) } else { put(x, y, r, g, b) }
            }
        }
        for y in patch * scale ..< height {
            for x in 0 ..< width {
                let attended = mask[x / (patch * scale)] > 0
                if x % (patch * scale) == 0 { put(x, y, 255, 64, 64) }
                else if attended { put(x, y, 64, 180, 64) } else { put(x, y, 200, 200, 200) }
            }
        }
        return (out, width, height)
    }
}
