import CZlib

/// A PNG decoded from memory the way Pillow's `Image.open` sees it, for the original's pre-rendered datasets
/// (SPEC 5.1, 5.6). Cairo cannot serve here: it hands alpha PNGs back premultiplied (ARGB32), which loses the
/// colour values Pillow keeps, so the chunks are read directly and the IDAT data inflated with zlib.
///
/// Supported: colour types 0 (grey, 1/2/4/8 bit), 2 (RGB, 8/16), 3 (palette, 1/2/4/8), 4 (grey + alpha, 8/16) and
/// 6 (RGBA, 8/16), non-interlaced. 16-bit samples keep their high byte, as Pillow's "RGB;16B"-style raw modes do.
/// Refused with a reason: interlaced (Adam7) files and 16-bit grey (Pillow opens that as mode "I;16", whose
/// conversion to RGB clips rather than scales).
public struct PNGImage: Sendable, Equatable {
    /// Pillow's image mode for the file.
    public enum Mode: String, Sendable {
        /// Bilevel grey (1-bit): samples are 0 or 255, as Pillow's mode "1".
        case bilevel = "1"
        case grey = "L"
        case greyAlpha = "LA"
        case rgb = "RGB"
        case rgba = "RGBA"
        case palette = "P"

        /// Samples per pixel in `samples`.
        var channels: Int {
            switch self {
            case .bilevel, .grey, .palette: 1
            case .greyAlpha: 2
            case .rgb: 3
            case .rgba: 4
            }
        }
    }

    public let width: Int
    public let height: Int
    public let mode: Mode
    /// Row-major samples, `mode.channels` bytes per pixel; palette indices for `.palette`.
    public let samples: [UInt8]
    /// R, G, B triples of the PLTE chunk (palette images only).
    public let palette: [UInt8]

    /// Why a PNG could not be decoded, in a few words.
    public struct Failure: Error, Equatable, Sendable {
        public let message: String
    }

    /// Pillow's `convert('RGB')`: grey repeated into three channels, palette looked up, alpha dropped (not
    /// composited: Pillow's rgba2rgb and la2rgb copy the colour and discard alpha). Row-major [height, width, 3].
    public func convertedToRGB() throws(Failure) -> [UInt8] {
        let n = width * height
        var out = [UInt8](repeating: 0, count: n * 3)
        switch mode {
        case .rgb: return samples
        case .rgba:
            for i in 0 ..< n { for k in 0 ..< 3 { out[3 * i + k] = samples[4 * i + k] } }
        case .grey, .bilevel:
            for i in 0 ..< n { let v = samples[i]; out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v }
        case .greyAlpha:
            for i in 0 ..< n { let v = samples[2 * i]; out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v }
        case .palette:
            let entries = palette.count / 3
            for i in 0 ..< n {
                let index = Int(samples[i])
                guard index < entries else { throw Failure(message: "palette index \(index) past the \(entries)-entry palette") }
                for k in 0 ..< 3 { out[3 * i + k] = palette[3 * index + k] }
            }
        }
        return out
    }

    private static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]

    /// Decodes PNG bytes. Chunk CRCs are checked (Pillow refuses a broken critical chunk, too).
    public static func decode(_ bytes: [UInt8]) throws(Failure) -> PNGImage {
        guard bytes.count >= 8, Array(bytes[0 ..< 8]) == signature else { throw Failure(message: "not a PNG (bad signature)") }
        func u32(_ at: Int) -> Int {
            Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        }
        var at = 8
        var header: (width: Int, height: Int, depth: Int, colorType: Int)?
        var palette: [UInt8] = []
        var compressed: [UInt8] = []
        var sawEnd = false
        while at + 12 <= bytes.count {
            let length = u32(at)
            guard length <= bytes.count - at - 12 else { throw Failure(message: "chunk at byte \(at) runs past the end of the file") }
            let type = String(decoding: bytes[at + 4 ..< at + 8], as: UTF8.self)
            let data = at + 8 ..< at + 8 + length
            let crc = bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress! + at + 4, uInt(length + 4)) }
            guard crc == UInt(u32(at + 8 + length)) else {
                // A damaged type is not text: printed in hex, never as raw bytes.
                let letters = bytes[at + 4 ..< at + 8].allSatisfy { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
                let name = letters ? type : "0x" + bytes[at + 4 ..< at + 8].map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined()
                throw Failure(message: "bad CRC in the \(name) chunk")
            }
            at += 12 + length
            switch type {
            case "IHDR":
                guard length == 13 else { throw Failure(message: "IHDR of length \(length)") }
                let s = data.lowerBound
                header = (u32(s), u32(s + 4), Int(bytes[s + 8]), Int(bytes[s + 9]))
                guard bytes[s + 10] == 0, bytes[s + 11] == 0 else { throw Failure(message: "unknown compression or filter method") }
                guard bytes[s + 12] == 0 else { throw Failure(message: "interlaced (Adam7) PNGs are not supported") }
            case "PLTE": palette = Array(bytes[data])
            case "IDAT": compressed.append(contentsOf: bytes[data])
            case "IEND": sawEnd = true
            default: break
            }
            if sawEnd { break }
        }
        guard let header else { throw Failure(message: "no IHDR chunk") }
        guard sawEnd else { throw Failure(message: "no IEND chunk (file cut short?)") }
        let (width, height, depth) = (header.width, header.height, header.depth)
        guard width > 0, height > 0, width <= 1 << 24, height <= 1 << 24, width * height <= 1 << 28 else {
            throw Failure(message: "unusable size \(width) x \(height)")
        }
        let mode: Mode, fileChannels: Int
        switch (header.colorType, depth) {
        case (0, 1): (mode, fileChannels) = (.bilevel, 1)
        case (0, 2), (0, 4), (0, 8): (mode, fileChannels) = (.grey, 1)
        case (2, 8), (2, 16): (mode, fileChannels) = (.rgb, 3)
        case (3, 1), (3, 2), (3, 4), (3, 8): (mode, fileChannels) = (.palette, 1)
        case (4, 8), (4, 16): (mode, fileChannels) = (.greyAlpha, 2)
        case (6, 8), (6, 16): (mode, fileChannels) = (.rgba, 4)
        case (0, 16): throw Failure(message: "16-bit greyscale PNGs are not supported (Pillow opens them as mode I;16)")
        default: throw Failure(message: "invalid colour type \(header.colorType) with bit depth \(depth)")
        }
        if mode == .palette && (palette.isEmpty || palette.count % 3 != 0) { throw Failure(message: "palette PNG without a valid PLTE chunk") }
        let bitsPerPixel = fileChannels * depth
        let rowBytes = (width * bitsPerPixel + 7) / 8
        let filterStride = max(1, bitsPerPixel / 8)
        let raw: [UInt8]
        do { raw = try Inflater.inflateAll(zlib: compressed, expectedSize: height * (rowBytes + 1)) } catch {
            throw Failure(message: "image data: \(error.message)")
        }
        guard raw.count == height * (rowBytes + 1) else {
            throw Failure(message: "image data holds \(raw.count) bytes, \(height * (rowBytes + 1)) expected")
        }
        var samples = [UInt8](repeating: 0, count: width * height * mode.channels)
        var previous = [UInt8](repeating: 0, count: rowBytes), current = previous
        for y in 0 ..< height {
            let start = y * (rowBytes + 1)
            let filter = raw[start]
            for i in 0 ..< rowBytes {
                let x = raw[start + 1 + i]
                let a = i >= filterStride ? current[i - filterStride] : 0
                let b = previous[i]
                let c = i >= filterStride ? previous[i - filterStride] : 0
                switch filter {
                case 0: current[i] = x
                case 1: current[i] = x &+ a
                case 2: current[i] = x &+ b
                case 3: current[i] = x &+ UInt8((Int(a) + Int(b)) / 2)
                case 4:
                    let p = Int(a) + Int(b) - Int(c)
                    let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
                    current[i] = x &+ (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
                default: throw Failure(message: "row \(y): unknown filter type \(filter)")
                }
            }
            let o = y * width * mode.channels
            switch depth {
            case 8:
                for i in 0 ..< width * fileChannels { samples[o + i] = current[i] }
            case 16:
                // Pillow's 16-bit raw modes keep the most significant byte of each sample.
                for i in 0 ..< width * fileChannels { samples[o + i] = current[2 * i] }
            default:
                // 1, 2 or 4 bits, most significant first. Grey scales to 0...255 (Pillow's "1", "L;2", "L;4");
                // palette indices stay indices ("P;1", "P;2", "P;4").
                let levels = (1 << depth) - 1
                for x in 0 ..< width {
                    let bit = x * depth
                    let value = Int(current[bit / 8] >> (8 - depth - bit % 8)) & levels
                    samples[o + x] = mode == .palette ? UInt8(value) : UInt8(value * 255 / levels)
                }
            }
            swap(&previous, &current)
        }
        return PNGImage(width: width, height: height, mode: mode, samples: samples, palette: palette)
    }
}
