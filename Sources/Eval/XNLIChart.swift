import CPangoCairo
import Foundation

/// xnli.png of `pixelgpt report`: a grouped bar chart of XNLI accuracy per language (SPEC 7.3 order) and the
/// 15-language average, one bar colour per report row, drawn with Cairo and labelled with Pango, because
/// people compare 15 bars faster than 15 numbers.
public enum XNLIChart {
    /// One row of the report: its accuracies as fractions in `LeaderboardTable.xnliOrder`, nil where absent.
    public struct Series: Sendable, Equatable {
        public let label: String
        public let accuracies: [Double?]
        public let average: Double?

        public init(label: String, accuracies: [Double?], average: Double?) {
            precondition(accuracies.count == LeaderboardTable.xnliOrder.count, "one accuracy slot per XNLI language")
            self.label = label
            self.accuracies = accuracies
            self.average = average
        }
    }

    public struct Colour: Sendable, Equatable {
        public let red: UInt8, green: UInt8, blue: UInt8
    }

    /// Colour-blind-safe bar colours (Okabe–Ito without black, then three more), used in turn. None is grey,
    /// so no text, axis or grid pixel (all grey) can pass for a bar.
    public static let palette: [Colour] = [
        Colour(red: 0, green: 114, blue: 178), Colour(red: 230, green: 159, blue: 0), Colour(red: 0, green: 158, blue: 115),
        Colour(red: 213, green: 94, blue: 0), Colour(red: 204, green: 121, blue: 167), Colour(red: 86, green: 180, blue: 233),
        Colour(red: 240, green: 228, blue: 66), Colour(red: 117, green: 112, blue: 179), Colour(red: 166, green: 86, blue: 40),
        Colour(red: 102, green: 166, blue: 30),
    ]

    /// The colour of the `index`-th series.
    public static func colour(_ index: Int) -> Colour { palette[index % palette.count] }

    /// Geometry in pixels; bars are whole pixels so that their colours stay exact (no antialiased edges).
    static let plotLeft = 64, plotTop = 64, plotHeight = 360, groupGap = 14, averageGap = 16, legendRow = 22

    /// The chart as PNG bytes (8-bit RGB).
    public static func png(series: [Series], title: String) throws(ReportError) -> [UInt8] {
        precondition(!series.isEmpty, "a chart needs at least one series")
        let groups = LeaderboardTable.xnliOrder + ["Avg"]
        let barWidth = series.count <= 2 ? 18 : series.count <= 4 ? 12 : series.count <= 8 ? 8 : 5
        let groupWidth = series.count * barWidth + groupGap
        let plotWidth = groups.count * groupWidth + averageGap
        let values = series.flatMap { $0.accuracies.compactMap { $0 } + [$0.average].compactMap { $0 } }
        // The axis runs from 0 (bars of honest length) to the next multiple of 10 above the best value.
        let top = min(100, max(10, Int(((values.max() ?? 0) * 100 / 10).rounded(.up)) * 10))
        let tick = top <= 30 ? 5 : 10

        let text = try TextDrawing()
        let labels = series.map { $0.label }
        let legendX = plotLeft + plotWidth + 28
        let legendWidth = 20 + (labels.map { text.size($0, font: text.body).width }.max() ?? 0)
        let width = legendX + legendWidth + 24
        let height = max(plotTop + plotHeight + 52, plotTop + series.count * legendRow + 24)

        let canvas = try Canvas(width: width, height: height)
        let cr = canvas.cr
        text.attach(to: cr)
        func fill(_ grey: Double) { cairo_set_source_rgb(cr, grey, grey, grey) }
        let plotBottom = plotTop + plotHeight

        fill(1)
        cairo_paint(cr)

        // Gridlines and tick labels; lines at half pixels so that a 1-pixel line stays 1 pixel wide.
        cairo_set_line_width(cr, 1)
        for value in stride(from: 0, through: top, by: tick) {
            let y = Double(plotBottom - Int((Double(value) / Double(top) * Double(plotHeight)).rounded())) + 0.5
            fill(value == 0 ? 0.3 : 0.88)
            cairo_move_to(cr, Double(plotLeft), y)
            cairo_line_to(cr, Double(plotLeft + plotWidth), y)
            cairo_stroke(cr)
            fill(0.2)
            text.draw("\(value)", font: text.small, x: Double(plotLeft - 8), y: y, anchor: .right)
        }
        fill(0.2)
        text.draw("%", font: text.small, x: Double(plotLeft - 8), y: Double(plotTop - 18), anchor: .right)

        // Bars: whole-pixel rectangles, without antialiasing, in each series' exact colour.
        cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE)
        for (g, group) in groups.enumerated() {
            let groupX = plotLeft + g * groupWidth + groupGap / 2 + (g == groups.count - 1 ? averageGap : 0)
            for (i, row) in series.enumerated() {
                let value = g < LeaderboardTable.xnliOrder.count ? row.accuracies[g] : row.average
                guard let value, value.isFinite else { continue }
                let barHeight = Int((max(0, value) * 100 / Double(top) * Double(plotHeight)).rounded())
                let swatch = colour(i)
                cairo_set_source_rgb(cr, Double(swatch.red) / 255, Double(swatch.green) / 255, Double(swatch.blue) / 255)
                // One pixel narrower than the slot: a white seam between neighbouring bars.
                cairo_rectangle(cr, Double(groupX + i * barWidth), Double(plotBottom - barHeight), Double(barWidth - 1), Double(barHeight))
                cairo_fill(cr)
            }
            fill(0.2)
            text.draw(group, font: text.body, x: Double(groupX) + Double(series.count * barWidth) / 2, y: Double(plotBottom + 16), anchor: .center)
        }
        cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT)

        // The average stands apart from the languages.
        let separatorX = Double(plotLeft + (groups.count - 1) * groupWidth + averageGap / 2) + 0.5
        fill(0.6)
        let dash: [Double] = [4, 4]
        cairo_set_dash(cr, dash, Int32(dash.count), 0)
        cairo_move_to(cr, separatorX, Double(plotTop))
        cairo_line_to(cr, separatorX, Double(plotBottom))
        cairo_stroke(cr)
        cairo_set_dash(cr, nil, 0, 0)

        fill(0.3)
        cairo_move_to(cr, Double(plotLeft) + 0.5, Double(plotTop))
        cairo_line_to(cr, Double(plotLeft) + 0.5, Double(plotBottom) + 0.5)
        cairo_stroke(cr)

        fill(0.1)
        text.draw(title, font: text.title, x: Double(plotLeft), y: Double(plotTop) / 2 - 6, anchor: .left)

        for (i, label) in labels.enumerated() {
            let y = plotTop + i * legendRow
            let swatch = colour(i)
            cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE)
            cairo_set_source_rgb(cr, Double(swatch.red) / 255, Double(swatch.green) / 255, Double(swatch.blue) / 255)
            cairo_rectangle(cr, Double(legendX), Double(y), 14, 14)
            cairo_fill(cr)
            cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT)
            fill(0.2)
            text.draw(label, font: text.body, x: Double(legendX + 20), y: Double(y) + 7, anchor: .left)
        }
        return try canvas.pngBytes()
    }

    /// A Cairo RGB image surface and its drawing context, released together.
    private final class Canvas {
        let surface: OpaquePointer
        let cr: OpaquePointer

        init(width: Int, height: Int) throws(ReportError) {
            guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)),
                  cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
                throw ReportError(file: "xnli.png", reason: "cairo cannot create a \(width) x \(height) image")
            }
            self.surface = surface
            cr = cairo_create(surface)
        }

        deinit {
            cairo_destroy(cr)
            cairo_surface_destroy(surface)
        }

        /// The PNG encoding in memory, so that the caller can write it atomically.
        func pngBytes() throws(ReportError) -> [UInt8] {
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
            guard status == CAIRO_STATUS_SUCCESS else {
                throw ReportError(file: "xnli.png", reason: "cairo cannot encode the chart: \(String(cString: cairo_status_to_string(status)))")
            }
            return sink.bytes
        }
    }

    /// Pango text on the chart: a font map of its own over the system fonts (the renderer's private font
    /// setups are for strips, not for charts).
    private final class TextDrawing {
        enum Anchor { case left, center, right }

        let fontMap: UnsafeMutablePointer<PangoFontMap>
        let context: OpaquePointer
        let small: OpaquePointer, body: OpaquePointer, title: OpaquePointer

        init() throws(ReportError) {
            guard let fontMap = pango_cairo_font_map_new() else {
                throw ReportError(file: "xnli.png", reason: "Pango could not open the system fonts (install fonts-dejavu-core or fonts-noto-core)")
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

        private var cr: OpaquePointer?

        func attach(to cr: OpaquePointer) {
            self.cr = cr
            pango_cairo_update_context(cr, context)
        }

        private func layout(_ text: String, font: OpaquePointer) -> OpaquePointer {
            let layout = pango_layout_new(context)!
            pango_layout_set_font_description(layout, font)
            text.withCString { pango_layout_set_text(layout, $0, -1) }
            return layout
        }

        func size(_ text: String, font: OpaquePointer) -> (width: Int, height: Int) {
            let layout = layout(text, font: font)
            defer { g_object_unref(UnsafeMutableRawPointer(layout)) }
            var width: Int32 = 0, height: Int32 = 0
            pango_layout_get_pixel_size(layout, &width, &height)
            return (Int(width), Int(height))
        }

        /// Draws `text` with its vertical middle at `y`, its left edge, centre or right edge at `x`.
        func draw(_ text: String, font: OpaquePointer, x: Double, y: Double, anchor: Anchor) {
            guard let cr else { return }
            let layout = layout(text, font: font)
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
    }
}
