import CPangoCairo
import Foundation

/// The original PangoCairo text renderer (`PangoCairoTextRenderer`), re-implemented call for call so that its
/// strips come out byte-identical on the same Pango/cairo stack (SPEC 5.3-5.5).
///
/// Not thread-safe: a renderer owns a Pango font map, Pango contexts and cairo surfaces, which must be used from
/// one thread at a time. To render in parallel, make one renderer per thread (they share nothing).
public final class TextRenderer {
    public let directory: String
    public let config: RendererConfig
    /// The family read from the font file's name table (upstream uses fontTools `getDebugName(1)`).
    public let familyName: String
    /// Exactly the string upstream hands to `Pango.font_description_from_string`, e.g. "Noto Sans 13.333333333333334px".
    public let fontDescriptionString: String

    private let fonts: FontSetup
    private let fontDescription: OpaquePointer
    /// Base direction weak-LTR (Pango's default) for singles and LTR pairs; RTL for the RTL pair branch.
    private let ltrContext: OpaquePointer
    private let rtlContext: OpaquePointer
    /// Contexts of the same setup for `attendedPatches`, so that measuring never touches the state renders use.
    private let measuringLTRContext: OpaquePointer
    private let measuringRTLContext: OpaquePointer
    private var surfaces: [SurfaceKey: OpaquePointer] = [:]
    /// Per cached surface, the columns [0, n) that may differ from the cleared state: only those are cleared
    /// before the next strip and converted after it (issue 7 item 5, "clearing and copying only what was drawn").
    private var dirtyColumns: [SurfaceKey: Int] = [:]
    /// Columns added on the right of Pango's ink rectangle when marking what a layout touched, a safety margin for
    /// antialiasing and hinting (the result does not depend on it as long as it covers every touched pixel).
    static let dirtyMargin = 16

    private struct SurfaceKey: Hashable {
        let format: cairo_format_t.RawValue
        let width: Int
    }

    /// Loads `<directory>/text_renderer_config.json` and `<directory>/fonts.conf`.
    public convenience init(directory: String) throws(RenderError) {
        try self.init(directory: directory, config: RendererConfig.load(directory: directory))
    }

    public init(directory: String, config: RendererConfig) throws(RenderError) {
        self.directory = directory
        self.config = config
        familyName = try FontFamilyName.read(fontFile: config.fontFile)
        let fonts = try FontSetup(directory: directory, config: config)
        self.fonts = fonts
        // Python formats the float with repr, the shortest round-trip digits; Swift's description is the same.
        fontDescriptionString = "\(familyName) \(config.pixelSize)px"
        guard let description = pango_font_description_from_string(fontDescriptionString) else {
            throw RenderError(path: config.fontFile, .pango("cannot parse the font description \"\(fontDescriptionString)\""))
        }
        fontDescription = description
        // Pango's default language under LC_ALL=C.UTF-8 is "c"; fixing it keeps item languages independent of
        // the process locale (golden README, "fontconfig and locale").
        let language = pango_language_from_string("c")
        func makeContext(_ direction: PangoDirection) -> OpaquePointer {
            let context = pango_font_map_create_context(fonts.fontMap)!
            pango_context_set_font_description(context, description)
            pango_context_set_language(context, language)
            pango_context_set_base_dir(context, direction)
            return context
        }
        ltrContext = makeContext(PANGO_DIRECTION_WEAK_LTR)
        rtlContext = makeContext(PANGO_DIRECTION_RTL)
        measuringLTRContext = makeContext(PANGO_DIRECTION_WEAK_LTR)
        measuringRTLContext = makeContext(PANGO_DIRECTION_RTL)
        // They take the font options (metrics hinting, glyph rounding) of an image surface, as renders do.
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1), let cr = cairo_create(surface) else {
            throw RenderError(path: config.fontFile, .cairo("cannot create a 1 x 1 surface"))
        }
        pango_cairo_update_context(cr, measuringLTRContext)
        pango_cairo_update_context(cr, measuringRTLContext)
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    deinit {
        for surface in surfaces.values { cairo_surface_destroy(surface) }
        for context in [ltrContext, rtlContext, measuringLTRContext, measuringRTLContext] { g_object_unref(UnsafeMutableRawPointer(context)) }
        pango_font_description_free(fontDescription)
    }

    /// The renderer's fontconfig configuration (for provenance queries).
    var fontConfiguration: OpaquePointer { fonts.fcConfig }
    /// The fonts.conf the renderer loaded.
    public var fontsConfPath: String { fonts.fontsConf }

    /// Reference counts of the renderer's Pango contexts and cached cairo surfaces, for the leak test: every
    /// layout and cairo context made during a render must be gone afterwards, leaving exactly one each.
    func referenceCounts() -> (contexts: [UInt32], surfaces: [UInt32]) {
        let contexts = [ltrContext, rtlContext].map { UnsafeMutablePointer<GObject>($0).pointee.ref_count }
        return (contexts, surfaces.values.map { UInt32(cairo_surface_get_reference_count($0)) })
    }

    /// The mode of `config.rgb`: rgb when true, gray otherwise (upstream's constructor argument).
    public var defaultMode: RenderMode { config.rgb ? .rgb : .gray }

    /// Renders one text: drawn at x = 2, the black end patch at nextPatch(2 + w + 2) (SPEC 5.3, single sentence).
    public func render(_ text: String, maxSeqLength: Int? = nil, mode: RenderMode? = nil) throws(RenderError) -> RenderedStrip {
        let canvas = try Canvas(renderer: self, maxSeqLength: maxSeqLength, mode: mode)
        defer { canvas.finish() }
        let geometry = canvas.geometry
        let cleaned = Self.boundingCombiningRuns(Self.clean(text))
        let drawn = draw(cleaned, at: 2, on: canvas, rightToLeft: false, maxPatches: nil)
        let eos = geometry.nextPatch(2 + drawn.fullWidth + 2)
        return canvas.strip(sepPatches: [eos], numTextPatches: geometry.patchesFloor(eos), unknownGlyphs: drawn.unknownGlyphs, rightToLeft: false)
    }

    /// Renders a pair: text_a at 2, a black separator at nextPatch(2 + w_a + 2), text_b at sep + 16 + 2, the end
    /// patch at nextPatch(x_b + w_b + 2). When both texts vote RTL, both layouts are RTL and text_b is truncated to
    /// the strip (SPEC 5.3, sentence pair).
    public func render(_ textA: String, pair textB: String, maxSeqLength: Int? = nil, mode: RenderMode? = nil) throws(RenderError) -> RenderedStrip {
        let canvas = try Canvas(renderer: self, maxSeqLength: maxSeqLength, mode: mode)
        defer { canvas.finish() }
        let geometry = canvas.geometry, patch = config.pixelsPerPatch
        let a = Self.clean(textA), b = Self.clean(textB)
        // The direction vote sees the whole texts, as upstream's; the layouts see them with bounded mark runs.
        let rtl = isRightToLeft(a) && isRightToLeft(b)
        let drawnA = draw(Self.boundingCombiningRuns(a), at: 2, on: canvas, rightToLeft: rtl, maxPatches: nil)
        let sep = geometry.nextPatch(2 + drawnA.fullWidth + 2)
        let xB = sep + patch + 2
        // Upstream's RTL branch passes max_length = floor((W - 16) / 16) for text_b; the LTR branch none.
        let drawnB = draw(Self.boundingCombiningRuns(b), at: xB, on: canvas, rightToLeft: rtl, maxPatches: rtl ? geometry.patchesFloor(geometry.width - patch) : nil)
        let eos = geometry.nextPatch(xB + drawnB.fullWidth + 2)
        return canvas.strip(
            sepPatches: [sep, eos], numTextPatches: geometry.patchesFloor(eos),
            unknownGlyphs: drawnA.unknownGlyphs + drawnB.unknownGlyphs, rightToLeft: rtl)
    }

    /// The patches the strip of `render(textA)` or `render(textA, pair: textB)` attends to (its text patches
    /// plus the end patch, at most `maxSeqLength`), from the same layouts' widths without drawing or copying
    /// pixels: what a row costs the forward pass, for sharding (the test holds it to the rendered strips').
    public func attendedPatches(_ textA: String, pair textB: String? = nil, maxSeqLength: Int) -> Int {
        let geometry = PatchGeometry(pixelsPerPatch: config.pixelsPerPatch, maxSequenceLength: max(1, maxSeqLength))
        let a = Self.clean(textA)
        let eos: Int
        if let textB {
            let b = Self.clean(textB)
            let rtl = isRightToLeft(a) && isRightToLeft(b)
            let context = rtl ? measuringRTLContext : measuringLTRContext
            let sep = geometry.nextPatch(2 + Self.measuredWidth(Self.boundingCombiningRuns(a), context: context, rightToLeft: rtl) + 2)
            let xB = sep + config.pixelsPerPatch + 2
            eos = geometry.nextPatch(xB + Self.measuredWidth(Self.boundingCombiningRuns(b), context: context, rightToLeft: rtl) + 2)
        } else {
            eos = geometry.nextPatch(2 + Self.measuredWidth(Self.boundingCombiningRuns(a), context: measuringLTRContext, rightToLeft: false) + 2)
        }
        return min(geometry.patchesFloor(eos) + 1, geometry.maxSequenceLength)
    }

    /// The full width of `text` laid out in `context`, as `draw` measures it.
    private static func measuredWidth(_ text: String, context: OpaquePointer, rightToLeft: Bool) -> Int {
        let layout = makeLayout(text, in: context, rightToLeft: rightToLeft)
        defer { g_object_unref(UnsafeMutableRawPointer(layout)) }
        var width: Int32 = 0, height: Int32 = 0
        pango_layout_get_pixel_size(layout, &width, &height)
        return pixelWidth(layout, pangoWidth: width)
    }

    /// A new layout of `text` (the caller releases it); in upstream's RTL pair branch, auto-dir off and right
    /// alignment.
    private static func makeLayout(_ text: String, in context: OpaquePointer, rightToLeft: Bool) -> OpaquePointer {
        let layout = pango_layout_new(context)!
        if rightToLeft {
            pango_layout_set_auto_dir(layout, 0)
            pango_layout_set_alignment(layout, PANGO_ALIGN_RIGHT)
        }
        setText(layout, text)
        return layout
    }

    /// Upstream's only cleaning: every "\n" becomes a space (SPEC 5.3). A "\r\n" pair is one Character in Swift,
    /// so the replacement works on UTF-8 bytes, not Characters.
    static func clean(_ text: String) -> String {
        // In UTF-8 the byte 0x0A is only ever U+000A, so the replacement can work on bytes; most texts have none.
        guard text.utf8.contains(0x0A) else { return text }
        return String(decoding: text.utf8.map { $0 == 0x0A ? 0x20 : $0 }, as: UTF8.self)
    }

    /// Upstream `is_rtl`: drop ASCII whitespace, punctuation and digits (Python's string.whitespace,
    /// string.punctuation, string.digits), then a majority vote of the first, last and middle characters by Pango's
    /// unichar direction.
    public func isRightToLeft(_ text: String) -> Bool {
        let kept: [Unicode.Scalar] = text.unicodeScalars.filter { !TextRenderer.isRTLIgnored.contains($0) }
        guard !kept.isEmpty else { return false }
        let candidates: [Unicode.Scalar] = [kept[0], kept[kept.count - 1], kept[kept.count / 2]]
        var votes = 0
        for scalar in candidates where UnicharDirection.isRightToLeft(scalar) { votes += 1 }
        return votes >= 2
    }

    private static let isRTLIgnored: Set<Unicode.Scalar> = {
        let whitespace = " \t\n\r\u{0B}\u{0C}"
        let punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
        return Set((whitespace + punctuation + "0123456789").unicodeScalars)
    }()

    private struct Drawn {
        let fullWidth: Int
        let unknownGlyphs: Int
    }

    /// Upstream `_render_single_sentence`: lay the text out, move to (x0, 16/2 - h/2 - 2) and show the layout.
    /// With `maxPatches`, a text running past that many patches is cut by upstream's binary search on the
    /// character count, on a fresh layout (auto-dir on, left alignment, as upstream's); the returned width stays
    /// the full width, so the end patch is clamped to the last patch.
    private func draw(_ text: String, at x0: Int, on canvas: Canvas, rightToLeft: Bool, maxPatches: Int?) -> Drawn {
        let context = rightToLeft ? rtlContext : ltrContext
        pango_cairo_update_context(canvas.cr, context)
        let layout = Self.makeLayout(text, in: context, rightToLeft: rightToLeft)
        defer { g_object_unref(UnsafeMutableRawPointer(layout)) }
        var width: Int32 = 0, height: Int32 = 0
        pango_layout_get_pixel_size(layout, &width, &height)
        let fullWidth = Self.pixelWidth(layout, pangoWidth: width)
        let unknown = Int(pango_layout_get_unknown_glyphs_count(layout))
        var shown = layout
        var truncated: OpaquePointer?
        defer { if let truncated { g_object_unref(UnsafeMutableRawPointer(truncated)) } }
        let geometry = canvas.geometry
        if let maxPatches, geometry.patchesCeil(x0 + fullWidth) > maxPatches {
            let cut = pango_layout_new(context)!
            truncated = cut
            let scalars = Array(text.unicodeScalars)
            var lo = 0, hi = scalars.count
            while lo <= hi {
                let mid = (lo + hi) / 2
                var prefix = String.UnicodeScalarView()
                prefix.append(contentsOf: scalars[..<mid])
                Self.setText(cut, String(prefix))
                pango_layout_get_pixel_size(cut, &width, &height)
                let patches = geometry.patchesCeil(x0 + Self.pixelWidth(cut, pangoWidth: width))
                if patches < maxPatches { lo = mid + 1 } else if patches > maxPatches { hi = mid - 1 } else { break }
            }
            shown = cut
        }
        // The height of the layout last measured (the truncated one when cut), as upstream.
        cairo_move_to(canvas.cr, Double(x0), Double(config.pixelsPerPatch) / 2.0 - Double(height) / 2.0 - 2)
        pango_cairo_show_layout(canvas.cr, shown)
        // Everything show_layout can touch lies left of the ink (and logical) right edge, plus the margin.
        var ink = PangoRectangle(), logical = PangoRectangle()
        pango_layout_get_pixel_extents(shown, &ink, &logical)
        let right = x0 + max(Int(ink.x) + Int(ink.width), Int(logical.x) + Int(logical.width), 0) + Self.dirtyMargin
        canvas.dirtyColumns = max(canvas.dirtyColumns, min(right, geometry.width))
        return Drawn(fullWidth: fullWidth, unknownGlyphs: unknown)
    }

    /// The layout's width in pixels: Pango's own (`pixelSize`) unless the line is so wide that Pango's int32
    /// Pango units (1/1024 px) may have overflowed: about 2.1 million pixels, reached by some 64,000 words,
    /// where a wrapped negative width put the end patch at patch 1 of a fully inked strip. Then the glyph
    /// advances are summed in 64 bits per line. Every strip is far narrower, so it only tells that the text runs
    /// past the end; normal texts keep Pango's value bit for bit.
    static func pixelWidth(_ layout: OpaquePointer, pangoWidth: Int32) -> Int {
        var widest: Int64 = 0
        for index in 0..<pango_layout_get_line_count(layout) {
            guard let line = pango_layout_get_line_readonly(layout, index) else { continue }
            var units: Int64 = 0
            var node = line.pointee.runs
            while let run = node {
                if let item = run.pointee.data?.assumingMemoryBound(to: PangoGlyphItem.self), let glyphs = item.pointee.glyphs {
                    for g in 0..<Int(glyphs.pointee.num_glyphs) { units += Int64(glyphs.pointee.glyphs[g].geometry.width) }
                }
                node = run.pointee.next
            }
            widest = max(widest, units)
        }
        // Below 2^30 units Pango's sums cannot have wrapped.
        return widest < 1 << 30 ? Int(pangoWidth) : Int((widest + 1023) / 1024)
    }

    /// At most this many combining marks (Mn, Mc, Me) in a row are laid out; the rest of the run is dropped.
    /// Pango's work on one cluster grows with the square of its length (100,000 marks on one base took 48 s),
    /// and marks past the first few stack outside the 16-pixel strip. No natural text comes near it.
    static let maxCombiningRun = 128

    /// `text` with every run of combining marks cut to `maxCombiningRun`; the same string when none is longer.
    static func boundingCombiningRuns(_ text: String) -> String {
        var run = 0, longest = 0
        for scalar in text.unicodeScalars {
            run = isCombiningMark(scalar) ? run + 1 : 0
            longest = max(longest, run)
        }
        guard longest > maxCombiningRun else { return text }
        var kept = String.UnicodeScalarView()
        run = 0
        for scalar in text.unicodeScalars {
            run = isCombiningMark(scalar) ? run + 1 : 0
            if run <= maxCombiningRun { kept.append(scalar) }
        }
        return String(kept)
    }

    private static func isCombiningMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: true
        default: false
        }
    }

    /// `layout.set_text(text, -1)`: Pango reads a C string, so the text ends at a NUL character, as upstream's does.
    private static func setText(_ layout: OpaquePointer, _ text: String) {
        text.withCString { pango_layout_set_text(layout, $0, -1) }
    }

    /// A cleared surface of the requested format and width with a fresh cairo context on it (upstream
    /// `get_empty_surface`), and the extraction of its bytes (SPEC 5.4).
    private final class Canvas {
        let cr: OpaquePointer
        let surface: OpaquePointer
        let geometry: PatchGeometry
        let mode: RenderMode
        private let key: SurfaceKey
        private unowned let renderer: TextRenderer
        /// Columns [0, n) drawn on so far (see `TextRenderer.dirtyColumns`).
        var dirtyColumns = 0

        init(renderer: TextRenderer, maxSeqLength: Int?, mode: RenderMode?) throws(RenderError) {
            let length = maxSeqLength ?? renderer.config.maxSeqLength
            guard length > 0, length <= 1 << 20 else {
                throw RenderError(path: renderer.directory, .invalidKey(key: "max_seq_length", reason: "must be between 1 and 1048576, found \(length)"))
            }
            let mode = mode ?? renderer.defaultMode
            geometry = PatchGeometry(pixelsPerPatch: renderer.config.pixelsPerPatch, maxSequenceLength: length)
            self.mode = mode
            let format = mode == .rgb ? CAIRO_FORMAT_RGB24 : CAIRO_FORMAT_A8
            let key = SurfaceKey(format: format.rawValue, width: geometry.width)
            self.key = key
            self.renderer = renderer
            // A new surface is cleared whole; a reused one only where the last strip drew.
            var clear = geometry.width
            if let cached = renderer.surfaces[key] {
                surface = cached
                clear = renderer.dirtyColumns[key] ?? geometry.width
            } else {
                guard let created = cairo_image_surface_create(format, Int32(geometry.width), Int32(geometry.pixelsPerPatch)),
                      cairo_surface_status(created) == CAIRO_STATUS_SUCCESS else {
                    throw RenderError(path: renderer.directory, .cairo("cannot create a \(geometry.width) x \(geometry.pixelsPerPatch) surface"))
                }
                renderer.surfaces[key] = created
                surface = created
            }
            cr = cairo_create(surface)
            // Until strip() says otherwise, the whole surface counts as dirty (a render that stops early).
            renderer.dirtyColumns[key] = geometry.width
            if mode == .rgb {
                // Upstream fills the whole surface white; the columns right of `clear` already are.
                cairo_set_source_rgb(cr, 1, 1, 1)
                cairo_rectangle(cr, 0, 0, Double(clear), Double(geometry.pixelsPerPatch))
                cairo_fill(cr)
                cairo_set_source_rgb(cr, 0, 0, 0)
            } else if clear > 0 {
                // A fresh A8 surface is all zero; a reused one is cleared to the same state.
                cairo_set_operator(cr, CAIRO_OPERATOR_CLEAR)
                cairo_rectangle(cr, 0, 0, Double(clear), Double(geometry.pixelsPerPatch))
                cairo_fill(cr)
                cairo_set_operator(cr, CAIRO_OPERATOR_OVER)
            }
        }

        func finish() { cairo_destroy(cr) }

        /// Upstream `get_image_from_surface`: BGRX -> RGB or 255 - alpha, then the black patches (SPEC 5.4).
        func strip(sepPatches: [Int], numTextPatches: Int, unknownGlyphs: Int, rightToLeft: Bool) -> RenderedStrip {
            cairo_surface_flush(surface)
            let width = geometry.width, height = geometry.pixelsPerPatch
            let stride = Int(cairo_image_surface_get_stride(surface))
            let data = UnsafePointer(cairo_image_surface_get_data(surface)!)
            let channels = mode.channels
            let dirty = min(dirtyColumns, width)
            renderer.dirtyColumns[key] = dirty
            // Columns past `dirty` were not drawn on: they are the cleared background, white (255) in every mode.
            var pixels = [UInt8](repeating: 255, count: height * width * channels)
            pixels.withUnsafeMutableBufferPointer { out in
                for y in 0 ..< height {
                    let row = UnsafeRawPointer(data + y * stride)
                    let o = y * width * channels
                    switch mode {
                    case .rgb:
                        // Little-endian RGB24: the 32-bit word is X R G B from the top byte down.
                        for x in 0 ..< dirty {
                            let word = row.load(fromByteOffset: 4 * x, as: UInt32.self)
                            out[o + 3 * x] = UInt8(truncatingIfNeeded: word >> 16)
                            out[o + 3 * x + 1] = UInt8(truncatingIfNeeded: word >> 8)
                            out[o + 3 * x + 2] = UInt8(truncatingIfNeeded: word)
                        }
                    case .gray:
                        let bytes = row.assumingMemoryBound(to: UInt8.self)
                        for x in 0 ..< dirty { out[o + x] = 255 - bytes[x] }
                    case .binary:
                        let bytes = row.assumingMemoryBound(to: UInt8.self)
                        for x in 0 ..< dirty { out[o + x] = 255 - bytes[x] > 127 ? 255 : 0 }
                    }
                }
                for sep in sepPatches {
                    let end = min(sep + geometry.pixelsPerPatch, width)
                    for y in 0 ..< height where sep < end {
                        for i in (y * width + sep) * channels ..< (y * width + end) * channels { out[i] = 0 }
                    }
                }
            }
            return RenderedStrip(
                mode: mode, pixelsPerPatch: geometry.pixelsPerPatch, maxSeqLength: geometry.maxSequenceLength,
                pixels: pixels, numTextPatches: numTextPatches, sepPatches: sepPatches,
                unknownGlyphs: unknownGlyphs, rightToLeft: rightToLeft)
        }
    }
}

/// Pango's `pango_unichar_direction`, the function upstream's `is_rtl` calls. The header marks it deprecated
/// (since 1.44), so it is looked up at run time instead of called through the import, which would warn.
enum UnicharDirection {
    private typealias Function = @convention(c) (UInt32) -> PangoDirection
    private static let function: Function = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pango_unichar_direction") else {
            fatalError("pango_unichar_direction is missing from the loaded Pango library")
        }
        return unsafeBitCast(symbol, to: Function.self)
    }()

    static func isRightToLeft(_ scalar: Unicode.Scalar) -> Bool {
        function(scalar.value) == PANGO_DIRECTION_RTL
    }
}
