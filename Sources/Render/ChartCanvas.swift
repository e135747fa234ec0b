import CPangoCairo

/// A small drawing surface for charts (the report's bar charts): an 8-bit RGB Cairo image with grey or RGB
/// paint, lines, filled rectangles and Pango text, encoded as PNG in memory. Each call is one Cairo step, so
/// a chart drawn through it is the image Cairo would draw from the same steps. Charts use the system fonts
/// (`ChartFonts`), not the renderer's font setups, which are for text strips.
public final class ChartCanvas {
    public enum Anchor: Sendable { case left, center, right }

    /// Why a chart cannot be drawn, in one line.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private let surface: OpaquePointer
    private let cr: OpaquePointer
    private let fonts: ChartFonts

    /// A canvas of `width` x `height` pixels, black until painted, whose text is set with `fonts`.
    public init(width: Int, height: Int, fonts: ChartFonts) throws(Failure) {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)),
              cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw Failure(message: "cairo cannot create a \(width) x \(height) image")
        }
        self.surface = surface
        cr = cairo_create(surface)
        self.fonts = fonts
        pango_cairo_update_context(cr, fonts.context)
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    /// Paint and text from here on are this grey (0 black, 1 white).
    public func setColour(grey: Double) { cairo_set_source_rgb(cr, grey, grey, grey) }

    public func setColour(red: UInt8, green: UInt8, blue: UInt8) {
        cairo_set_source_rgb(cr, Double(red) / 255, Double(green) / 255, Double(blue) / 255)
    }

    /// Fills the whole canvas.
    public func paint() { cairo_paint(cr) }

    public func setLineWidth(_ width: Double) { cairo_set_line_width(cr, width) }

    /// Dash lengths for lines from here on; empty for solid lines.
    public func setDash(_ lengths: [Double]) {
        if lengths.isEmpty { cairo_set_dash(cr, nil, 0, 0) } else { cairo_set_dash(cr, lengths, Int32(lengths.count), 0) }
    }

    /// Off for whole-pixel shapes whose colour must stay exact (no blended edges).
    public func setAntialiased(_ on: Bool) { cairo_set_antialias(cr, on ? CAIRO_ANTIALIAS_DEFAULT : CAIRO_ANTIALIAS_NONE) }

    /// A straight line; at half-pixel coordinates a 1-pixel line stays 1 pixel wide.
    public func line(fromX x0: Double, y y0: Double, toX x1: Double, y y1: Double) {
        cairo_move_to(cr, x0, y0)
        cairo_line_to(cr, x1, y1)
        cairo_stroke(cr)
    }

    public func fillRectangle(x: Double, y: Double, width: Double, height: Double) {
        cairo_rectangle(cr, x, y, width, height)
        cairo_fill(cr)
    }

    /// Draws `text` with its vertical middle at `y`, its left edge, centre or right edge at `x` (rounded to
    /// whole pixels).
    public func text(_ text: String, font: ChartFonts.Font, x: Double, y: Double, anchor: Anchor) {
        let layout = fonts.layout(text, font: font)
        defer { g_object_unref(UnsafeMutableRawPointer(layout)) }
        var width: Int32 = 0, height: Int32 = 0
        pango_layout_get_pixel_size(layout, &width, &height)
        let left = switch anchor {
        case .left: x
        case .center: x - Double(width) / 2
        case .right: x - Double(width)
        }
        cairo_move_to(cr, left.rounded(), (y - Double(height) / 2).rounded())
        pango_cairo_show_layout(cr, layout)
    }

    /// The PNG encoding in memory, so that the caller can write it atomically.
    public func pngBytes() throws(Failure) -> [UInt8] {
        do { return try PNGFile.encode(surface) } catch { throw Failure(message: "cairo cannot encode the chart: \(error)") }
    }
}

/// The chart fonts over the system fonts (a Pango font map of their own), open before a canvas exists so
/// that labels can be measured to size it.
public final class ChartFonts {
    public enum Font: Sendable { case small, body, title }

    fileprivate let context: OpaquePointer
    private let fontMap: UnsafeMutablePointer<PangoFontMap>
    private let small: OpaquePointer, body: OpaquePointer, title: OpaquePointer

    public init() throws(ChartCanvas.Failure) {
        guard let fontMap = pango_cairo_font_map_new() else {
            throw ChartCanvas.Failure(message: "Pango could not open the system fonts (install fonts-dejavu-core or fonts-noto-core)")
        }
        self.fontMap = fontMap
        context = pango_font_map_create_context(fontMap)!
        small = pango_font_description_from_string("DejaVu Sans, Noto Sans, sans-serif 8")!
        body = pango_font_description_from_string("DejaVu Sans, Noto Sans, sans-serif 9")!
        title = pango_font_description_from_string("DejaVu Sans, Noto Sans, sans-serif Bold 12")!
    }

    deinit {
        for font in [small, body, title] { pango_font_description_free(font) }
        g_object_unref(UnsafeMutableRawPointer(context))
        g_object_unref(UnsafeMutableRawPointer(fontMap))
    }

    /// Width and height in pixels of `text` set in `font`.
    public func size(_ text: String, font: Font) -> (width: Int, height: Int) {
        let layout = layout(text, font: font)
        defer { g_object_unref(UnsafeMutableRawPointer(layout)) }
        var width: Int32 = 0, height: Int32 = 0
        pango_layout_get_pixel_size(layout, &width, &height)
        return (Int(width), Int(height))
    }

    fileprivate func layout(_ text: String, font: Font) -> OpaquePointer {
        let layout = pango_layout_new(context)!
        let description = switch font {
        case .small: small
        case .body: body
        case .title: title
        }
        pango_layout_set_font_description(layout, description)
        text.withCString { pango_layout_set_text(layout, $0, -1) }
        return layout
    }
}
