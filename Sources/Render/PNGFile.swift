import CPangoCairo
import Foundation
import Support

/// PNG in and out through cairo, for strips: RGB strips as 8-bit RGB PNGs, gray and binary strips as 8-bit
/// greyscale PNGs (cairo writes an A8 surface as grey), the same kinds of file as the goldens.
public enum PNGFile {
    /// Decoded pixels: row-major [height, width, 3] bytes, R, G, B (a grey PNG comes back with R = G = B).
    public struct Image: Sendable, Equatable {
        public let width: Int
        public let height: Int
        public let rgb: [UInt8]

        /// The R channel, [height, width]: the grey value of a grey PNG.
        public var red: [UInt8] { stride(from: 0, to: rgb.count, by: 3).map { rgb[$0] } }
    }

    /// Writes the strip to `path` atomically: a temporary file beside it, then a rename, so that no half-written
    /// PNG is ever left under the final name.
    public static func write(_ strip: RenderedStrip, to path: String) throws(RenderError) {
        try write(pixels: strip.pixels, width: strip.width, height: strip.height, channels: strip.channels, to: path)
    }

    /// Writes [height, width, channels] bytes (channels 3: R, G, B; 1: grey) as a PNG, atomically.
    public static func write(pixels: [UInt8], width: Int, height: Int, channels: Int, to path: String) throws(RenderError) {
        precondition(channels == 1 || channels == 3, "PNGFile.write: 1 or 3 channels")
        precondition(pixels.count == width * height * channels, "PNGFile.write: pixel count does not match the shape")
        let format = channels == 3 ? CAIRO_FORMAT_RGB24 : CAIRO_FORMAT_A8
        guard let surface = cairo_image_surface_create(format, Int32(width), Int32(height)),
              cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw RenderError(path: path, .cairo("cannot create a \(width) x \(height) surface"))
        }
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        for y in 0 ..< height {
            let row = data + y * stride
            if channels == 3 {
                for x in 0 ..< width {
                    let i = (y * width + x) * 3
                    row[4 * x] = pixels[i + 2]
                    row[4 * x + 1] = pixels[i + 1]
                    row[4 * x + 2] = pixels[i]
                    row[4 * x + 3] = 255
                }
            } else {
                for x in 0 ..< width { row[x] = pixels[y * width + x] }
            }
        }
        cairo_surface_mark_dirty(surface)
        let bytes: [UInt8]
        do { bytes = try encode(surface) } catch { throw RenderError(path: path, .writeFailed(error.message)) }
        do { try AtomicFile.write(bytes, to: path) } catch { throw RenderError(path: path, .writeFailed(error.reason)) }
    }

    struct EncodingFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// A cairo image surface as PNG bytes: the one PNG writer (strips and charts).
    static func encode(_ surface: OpaquePointer) throws(EncodingFailure) -> [UInt8] {
        cairo_surface_flush(surface)
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        let status = withExtendedLifetime(sink) {
            cairo_surface_write_to_png_stream(surface, { closure, data, length in
                guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
                let sink = Unmanaged<Sink>.fromOpaque(closure).takeUnretainedValue()
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
                return CAIRO_STATUS_SUCCESS
            }, Unmanaged.passUnretained(sink).toOpaque())
        }
        guard status == CAIRO_STATUS_SUCCESS else { throw EncodingFailure(message: String(cString: cairo_status_to_string(status))) }
        return sink.bytes
    }

    /// Reads a PNG file with the project's one decoder (`PNGImage`, Pillow's reading). Strips are opaque:
    /// a PNG with an alpha channel is refused rather than flattened.
    public static func read(_ path: String) throws(RenderError) -> Image {
        do { try RegularFile.require(path) } catch { throw RenderError(path: path, .cannotRead(error.reason)) }
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch { throw RenderError(path: path, .cannotRead(error.localizedDescription)) }
        do throws(PNGImage.Failure) {
            let image = try PNGImage.decode(bytes)
            guard image.mode != .rgba && image.mode != .greyAlpha else {
                throw PNGImage.Failure(message: "expected an opaque RGB or grey PNG, found mode \(image.mode.rawValue)")
            }
            return Image(width: image.width, height: image.height, rgb: try image.convertedToRGB())
        } catch {
            throw RenderError(path: path, .cannotRead(error.message))
        }
    }
}
