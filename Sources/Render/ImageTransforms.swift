/// The fine-tuning scripts' image transforms (SPEC 5.6): from a decoded pre-rendered PNG to the model input,
/// Float32 channel-first [3, 16, 16·L] holding uint8 / 255, with no mean/std normalisation.
public struct ImageTransform: Sendable, Equatable {
    public enum Geometry: String, Sendable {
        /// PIL `crop((0, 0, 16·L, 16))`: the top-left corner; any region past the image is 0 (black).
        case crop
        /// PIL `resize((16·L, 16), Image.BICUBIC)`: a copy when the size already matches.
        case bicubic
    }

    /// Whether the script calls `.convert('RGB')` first. Without it, only an RGB PNG gives the 3 channels the
    /// patch embedding checks for, so any other mode is refused (upstream would fail there too).
    public let convertToRGB: Bool
    public let geometry: Geometry

    public init(convertToRGB: Bool, geometry: Geometry) {
        self.convertToRGB = convertToRGB
        self.geometry = geometry
    }

    /// run_ernie-pixel_glue.py (image): convert('RGB'), crop.
    public static let glueImage = ImageTransform(convertToRGB: true, geometry: .crop)
    /// run_ernie-pixel_glue_pair.py and run_ernie_xnli_*_pair.py (image-text): no conversion, crop.
    public static let imageText = ImageTransform(convertToRGB: false, geometry: .crop)
    /// run_ernie_xnli_translate_train_{all,en}.py (image): convert('RGB'), bicubic resize.
    public static let xnliImage = ImageTransform(convertToRGB: true, geometry: .bicubic)

    /// The transform of a script, by benchmark (GLUE or XNLI) and modality (pixel = image only, pair = image-text).
    public static func forScript(xnli: Bool, pair: Bool) -> ImageTransform {
        pair ? .imageText : xnli ? .xnliImage : .glueImage
    }

    /// [height, width, 3] RGB bytes of the image after the script's colour conversion and geometry.
    public func apply(_ image: PNGImage, pixelsPerPatch: Int = 16, maxSeqLength: Int) throws(PNGImage.Failure) -> [UInt8] {
        let rgb: [UInt8]
        if convertToRGB {
            rgb = try image.convertedToRGB()
        } else {
            guard image.mode == .rgb else {
                throw PNGImage.Failure(message: "a mode \(image.mode.rawValue) image where the image-text scripts expect RGB (they do not convert)")
            }
            rgb = image.samples
        }
        let outWidth = pixelsPerPatch * maxSeqLength, outHeight = pixelsPerPatch
        switch geometry {
        case .crop: return Self.crop(rgb, width: image.width, height: image.height, toWidth: outWidth, height: outHeight)
        case .bicubic: return PILResample.bicubic(rgb, width: image.width, height: image.height, channels: 3, toWidth: outWidth, height: outHeight)
        }
    }

    /// PIL `crop((0, 0, w, h))` of [height, width, 3] bytes: rows and columns past the image are 0.
    public static func crop(_ rgb: [UInt8], width: Int, height: Int, toWidth outWidth: Int, height outHeight: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        let columns = min(width, outWidth)
        for y in 0 ..< min(height, outHeight) {
            out.replaceSubrange(y * outWidth * 3 ..< (y * outWidth + columns) * 3, with: rgb[y * width * 3 ..< (y * width + columns) * 3])
        }
        return out
    }

    /// torchvision ToTensor on [height, width, 3] bytes: channel-first Float32, value / 255.
    public static func toTensor(_ rgb: [UInt8], width: Int, height: Int) -> [Float] {
        let plane = width * height
        var out = [Float](repeating: 0, count: 3 * plane)
        for i in 0 ..< plane {
            for k in 0 ..< 3 { out[k * plane + i] = Float(rgb[3 * i + k]) / 255 }
        }
        return out
    }
}

/// Pillow's resampling (libImaging/Resample.c) for 8-bit images, reproduced operation for operation so that the
/// result is bit-identical: a separable convolution, horizontal pass then vertical pass, each skipped when its size
/// does not change; the filter support scaled by the downscale factor; weights normalised to sum 1 in double, then
/// turned into fixed point with 22 fraction bits, accumulated from 0.5 in integers and clipped to 0...255.
public enum PILResample {
    static let precisionBits = 32 - 8 - 2

    /// Pillow's BICUBIC filter, a = -0.5, support 2.
    static func bicubicFilter(_ x: Double) -> Double {
        let a = -0.5
        let x = abs(x)
        if x < 1.0 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1 }
        if x < 2.0 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0.0
    }

    /// `precompute_coeffs` + `normalize_coeffs_8bpc` for the box [0, inSize): per output position the first input
    /// index, the count of inputs, and the fixed-point weights (ksize per output).
    static func coefficients(inSize: Int, outSize: Int) -> (bounds: [(min: Int, count: Int)], ksize: Int, weights: [Int32]) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = 2.0 * filterScale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var bounds: [(min: Int, count: Int)] = []
        var weights = [Int32](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        for xx in 0 ..< outSize {
            let center = (Double(xx) + 0.5) * scale
            let ss = 1.0 / filterScale
            // C's (int) conversion truncates toward zero.
            let xmin = max(0, Int(center - support + 0.5))
            let xmax = min(inSize, Int(center + support + 0.5)) - xmin
            var ww = 0.0
            for x in 0 ..< ksize { k[x] = 0 }
            for x in 0 ..< max(0, xmax) {
                let w = bicubicFilter((Double(x + xmin) - center + 0.5) * ss)
                k[x] = w
                ww += w
            }
            for x in 0 ..< max(0, xmax) where ww != 0.0 { k[x] /= ww }
            for x in 0 ..< ksize {
                let scaled = k[x] * Double(1 << precisionBits)
                weights[xx * ksize + x] = Int32(k[x] < 0 ? (-0.5 + scaled).rounded(.towardZero) : (0.5 + scaled).rounded(.towardZero))
            }
            bounds.append((xmin, max(0, xmax)))
        }
        return (bounds, ksize, weights)
    }

    @inline(__always) static func clip8(_ value: Int32) -> UInt8 {
        if value >= Int32(1) << (precisionBits + 8) { return 255 }
        if value <= 0 { return 0 }
        return UInt8(value >> precisionBits)
    }

    /// `Image.resize((outWidth, outHeight), Image.BICUBIC)` of row-major [height, width, channels] bytes.
    public static func bicubic(_ pixels: [UInt8], width: Int, height: Int, channels: Int, toWidth outWidth: Int, height outHeight: Int) -> [UInt8] {
        // Image.resize returns a copy when the size is unchanged.
        if width == outWidth && height == outHeight { return pixels }
        let half = Int32(1) << (precisionBits - 1)
        let vertical = coefficients(inSize: height, outSize: outHeight)
        guard outWidth != width else {
            return verticalPass(pixels, width: width, channels: channels, coefficients: vertical, outHeight: outHeight)
        }
        // Only the input rows the vertical pass will read are resampled horizontally (Pillow's ybox_first ..<
        // ybox_last); without a vertical pass that is every row.
        let first = vertical.bounds.first!.min, last = vertical.bounds.last!.min + vertical.bounds.last!.count
        let horizontal = coefficients(inSize: width, outSize: outWidth)
        var out = [UInt8](repeating: 0, count: outWidth * (last - first) * channels)
        for y in first ..< last {
            for xx in 0 ..< outWidth {
                let (xmin, count) = horizontal.bounds[xx]
                let k = xx * horizontal.ksize
                for c in 0 ..< channels {
                    var ss = half
                    for x in 0 ..< count { ss &+= Int32(pixels[(y * width + x + xmin) * channels + c]) &* horizontal.weights[k + x] }
                    out[((y - first) * outWidth + xx) * channels + c] = clip8(ss)
                }
            }
        }
        if outHeight == height { return out }
        // The vertical bounds are shifted by the first row, as Pillow does.
        var shifted = vertical
        shifted.bounds = vertical.bounds.map { ($0.min - first, $0.count) }
        return verticalPass(out, width: outWidth, channels: channels, coefficients: shifted, outHeight: outHeight)
    }

    private static func verticalPass(
        _ image: [UInt8], width: Int, channels: Int,
        coefficients: (bounds: [(min: Int, count: Int)], ksize: Int, weights: [Int32]), outHeight: Int
    ) -> [UInt8] {
        let half = Int32(1) << (precisionBits - 1)
        var out = [UInt8](repeating: 0, count: width * outHeight * channels)
        for yy in 0 ..< outHeight {
            let (ymin, count) = coefficients.bounds[yy]
            let k = yy * coefficients.ksize
            for i in 0 ..< width * channels {
                var ss = half
                for y in 0 ..< count { ss &+= Int32(image[(y + ymin) * width * channels + i]) &* coefficients.weights[k + y] }
                out[yy * width * channels + i] = clip8(ss)
            }
        }
        return out
    }
}
