import ArgumentParser
import Foundation
import Render

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render a text, a pair, or JSON lines of cases to PNG strips with the original PangoCairo algorithm (SPEC 5).",
        discussion: """
            --text T [--pair T2] --out FILE.png renders one strip and prints {"num_text_patches", "sep_patches", \
            "width", ...} as one JSON line. --input FILE.jsonl --out-dir DIR reads lines {"text": ..., "text_pair": \
            ..., "max_seq_length": N, "mode": "rgb"} (all but text optional), writes DIR/000000.png, ..., \
            DIR/results.jsonl (one line per case, also printed to stdout) and DIR/environment.json (library \
            versions and font hashes). The renderer directory defaults to $PIXELGPT_RENDERER, else the project's \
            renderers/noto.
            """
    )

    @Option(help: "The text to render.")
    var text: String?

    @Option(help: "The second text of a pair (with --text).")
    var pair: String?

    @Option(help: "The PNG to write (with --text).")
    var out: String?

    @Option(help: "A JSON-lines file of cases {\"text\", \"text_pair\"?, \"max_seq_length\"?, \"mode\"?}.")
    var input: String?

    @Option(help: "The directory for the numbered PNGs and results.jsonl (with --input).")
    var outDir: String?

    @Option(help: "A renderer directory holding text_renderer_config.json and fonts.conf.")
    var renderer: String?

    @Option(help: "Patches per strip (the strip is 16 x 16*N px); overrides the renderer's max_seq_length.")
    var maxSeqLength: Int?

    @Option(help: "rgb, gray or binary (default: the renderer's rgb setting).")
    var mode: String?

    @Option(help: "With --text: also write an enlarged image with patch boundaries and the attention mask.")
    var preview: String?

    @Option(help: "With --input: render on this many threads, one renderer each (the output is the same).")
    var threads: Int = 1

    func validate() throws {
        guard (text == nil) != (input == nil) else { throw ValidationError("give exactly one of --text and --input") }
        if text != nil && out == nil { throw ValidationError("--text needs --out FILE.png") }
        if input != nil && outDir == nil { throw ValidationError("--input needs --out-dir DIR") }
        if pair != nil && text == nil { throw ValidationError("--pair needs --text") }
        if preview != nil && text == nil { throw ValidationError("--preview works with --text") }
        if let mode, RenderMode(name: mode) == nil { throw ValidationError("--mode must be rgb, gray or binary, not \(mode)") }
        if let maxSeqLength, !(1 ... 1 << 20).contains(maxSeqLength) { throw ValidationError("--max-seq-length must be from 1 to 1048576") }
        if !(1 ... 256).contains(threads) { throw ValidationError("--threads must be from 1 to 256") }
    }

    /// One results.jsonl line.
    struct CaseResult: Encodable, Sendable {
        let index: Int?
        let png: String
        let numTextPatches: Int
        let sepPatches: [Int]
        let width: Int
        let maxSeqLength: Int
        let mode: String
        let rtl: Bool
        let unknownGlyphs: Int

        enum CodingKeys: String, CodingKey {
            case index, png, width, mode, rtl
            case numTextPatches = "num_text_patches", sepPatches = "sep_patches", maxSeqLength = "max_seq_length"
            case unknownGlyphs = "unknown_glyphs"
        }

        init(index: Int?, png: String, strip: RenderedStrip) {
            self.index = index
            self.png = png
            numTextPatches = strip.numTextPatches
            sepPatches = strip.sepPatches
            width = strip.width
            maxSeqLength = strip.maxSeqLength
            mode = strip.mode.rawValue
            rtl = strip.rightToLeft
            unknownGlyphs = strip.unknownGlyphs
        }
    }

    func run() throws {
        let directory = try reportingErrors { try renderer ?? RendererLocation.defaultDirectory() }
        let requestedMode = mode.flatMap { RenderMode(name: $0) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]

        if let text, let out {
            let textRenderer = try reportingErrors { try TextRenderer(directory: directory) }
            let strip = try reportingErrors {
                try RenderRequest(text: text, textPair: pair, maxSeqLength: maxSeqLength, mode: requestedMode).render(with: textRenderer)
            }
            try reportingErrors { try PNGFile.write(strip, to: out) }
            if let preview {
                let image = StripPreview.make(strip)
                try reportingErrors { try PNGFile.write(pixels: image.pixels, width: image.width, height: image.height, channels: 3, to: preview) }
            }
            if strip.unknownGlyphs > 0 { log("warning: \(strip.unknownGlyphs) unknown glyphs (no font has them; drawn as hex boxes)") }
            print(String(decoding: try encoder.encode(CaseResult(index: nil, png: out, strip: strip)), as: UTF8.self))
            return
        }
        guard let input, let outDir else { return }
        // Every line is checked before anything is rendered or written.
        var requests = try reportingErrors { try RenderRequest.load(jsonLines: input) }
        for i in requests.indices {
            if let maxSeqLength { requests[i].maxSeqLength = maxSeqLength }
            if let requestedMode { requests[i].mode = requestedMode }
        }
        let pool = try reportingErrors { try RendererPool(directory: directory, threads: threads) }
        try reportingErrors { try makeDirectory(outDir) }
        let started = Date()
        var lines = Data()
        // Chunks keep memory and the time to the first output line bounded; each worker writes its own PNGs.
        let chunk = 64 * pool.threads
        for start in stride(from: 0, to: requests.count, by: chunk) {
            let end = min(start + chunk, requests.count)
            let results = try reportingErrors {
                try pool.map(requests[start ..< end]) { offset, strip in
                    let name = String(format: "%06d.png", start + offset)
                    try PNGFile.write(strip, to: (outDir as NSString).appendingPathComponent(name))
                    return CaseResult(index: start + offset, png: name, strip: strip)
                }
            }
            for result in results {
                if result.unknownGlyphs > 0 { log("warning: case \(result.index ?? 0) of \(input): \(result.unknownGlyphs) unknown glyphs") }
                let line = try encoder.encode(result) + Data("\n".utf8)
                FileHandle.standardOutput.write(line)
                lines.append(line)
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let environment = try reportingErrors { try pool.first.environment() }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        let environmentJSON = try encoder.encode(environment) + Data("\n".utf8)
        try reportingErrors {
            try writeAtomically(lines, to: (outDir as NSString).appendingPathComponent("results.jsonl"))
            try writeAtomically(environmentJSON, to: (outDir as NSString).appendingPathComponent("environment.json"))
        }
        log("rendered \(requests.count) strips with \(directory) on \(pool.threads) thread(s) in \(String(format: "%.2f", seconds)) s "
            + "(\(String(format: "%.0f", Double(requests.count) / max(seconds, 1e-9))) strips/s, PNG writing included)")
    }

    private func makeDirectory(_ path: String) throws(RenderError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw RenderError(path: path, .writeFailed(error.localizedDescription))
        }
    }

    private func writeAtomically(_ data: Data, to path: String) throws(RenderError) {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw RenderError(path: path, .writeFailed(error.localizedDescription))
        }
    }
}
