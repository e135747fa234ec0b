import ArgumentParser
import Foundation
import SafeTensors
import Support
import Render

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render a text, a pair, or JSON lines of cases to PNG strips with the original PangoCairo algorithm.",
        discussion: """
            --text T [--pair T2] --out FILE.png renders one strip and prints {"num_text_patches", "sep_patches", \
            "width", ...} as one JSON line. --input FILE.jsonl --out-dir DIR reads lines {"text": ..., "text_pair": \
            ..., "max_seq_length": N, "mode": "rgb"} (all but text optional), writes DIR/000000.png, ..., \
            DIR/results.jsonl (one line per case, also printed to stdout) and DIR/environment.json (library \
            versions and font hashes). --from-dataset FILE.gz --out-dir DIR reads the original's pre-rendered \
            gzip JSON-lines file (base64 PNG "image", "num_patches") and writes each row's model input \
            as DIR/line-NNNNNN.png (16 x 16*L, after --resize crop|bicubic and convert('RGB'); --image-text keeps the \
            image-text scripts' no-conversion rule) plus DIR/results.jsonl; a malformed line is logged with its \
            line number and counted, the other rows are still written, and the exit status is then 1. The renderer \
            directory defaults to $PIXELGPT_RENDERER, else the project's renderers/noto.
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

    @Flag(help: "With --input: only time the rendering (no files written); prints {\"strips_per_s\", ...} (scripts/bench_render.py).")
    var bench = false

    @Option(help: "With --bench: untimed strips per thread first.")
    var warmup: Int = 20

    @Option(help: "With --bench: timed passes over the cases; the fastest counts.")
    var `repeat`: Int = 3

    @Option(help: "A pre-rendered dataset file (gzip JSON lines with base64 PNG \"image\" and \"num_patches\") to decode.")
    var fromDataset: String?

    @Option(help: "With --from-dataset: crop (GLUE, pair scripts) or bicubic (XNLI pixel scripts) to 16 x 16*L.")
    var resize: String = "crop"

    @Flag(help: "With --from-dataset: do not convert('RGB') first, as the image-text scripts (non-RGB images are errors).")
    var imageText = false

    @Option(help: "With --from-dataset: stop after this many rows.")
    var limit: Int?

    func validate() throws {
        guard [text != nil, input != nil, fromDataset != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --text, --input and --from-dataset")
        }
        if text != nil && out == nil { throw ValidationError("--text needs --out FILE.png") }
        if input != nil && outDir == nil && !bench { throw ValidationError("--input needs --out-dir DIR (or --bench)") }
        if bench && input == nil { throw ValidationError("--bench works with --input") }
        if warmup < 0 || `repeat` < 1 { throw ValidationError("--warmup must be at least 0 and --repeat at least 1") }
        if fromDataset != nil && outDir == nil { throw ValidationError("--from-dataset needs --out-dir DIR") }
        if !["crop", "bicubic"].contains(resize) { throw ValidationError("--resize must be crop or bicubic, not \(resize)") }
        if imageText && resize != "crop" { throw ValidationError("--image-text goes with --resize crop (the image-text scripts never resize)") }
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative") }
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
        if let fromDataset, let outDir {
            try decodeDataset(fromDataset, outDir: outDir, rendererDirectory: directory, encoder: encoder)
            return
        }

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
        guard let input else { return }
        // Every line is checked before anything is rendered or written.
        var requests = try reportingErrors { try RenderRequest.load(jsonLines: input) }
        for i in requests.indices {
            if let maxSeqLength { requests[i].maxSeqLength = maxSeqLength }
            if let requestedMode { requests[i].mode = requestedMode }
        }
        let pool = try reportingErrors { try RendererPool(directory: directory, threads: threads) }
        if bench {
            try benchmark(requests, pool: pool, encoder: encoder)
            return
        }
        guard let outDir else { return }
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

    /// --bench: the strips are rendered and dropped (as a training loop would hand them on), so that the time is
    /// the renderer's alone; each renderer first renders `warmup` strips untimed (font loading, caches).
    private func benchmark(_ requests: [RenderRequest], pool: RendererPool, encoder: JSONEncoder) throws {
        _ = try reportingErrors { try pool.map(requests.prefix(warmup * pool.threads)) { _, strip in strip.numTextPatches } }
        // Wall-clock time and the process's CPU time (user + system) of each pass; the fastest pass counts. On a
        // shared machine the CPU time is the steadier measure of the renderer's own cost.
        func cpuSeconds() -> Double {
            var usage = rusage()
            #if os(Linux)
            getrusage(RUSAGE_SELF.rawValue, &usage)
            #else
            getrusage(RUSAGE_SELF, &usage)
            #endif
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        var best = Double.infinity, bestCPU = Double.infinity
        for _ in 0 ..< `repeat` {
            let start = DispatchTime.now().uptimeNanoseconds, startCPU = cpuSeconds()
            _ = try reportingErrors { try pool.map(requests[...]) { _, strip in strip.numTextPatches } }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            bestCPU = min(bestCPU, cpuSeconds() - startCPU)
        }
        struct Timing: Encodable {
            let n: Int, threads: Int, seconds: Double, strips_per_s: Double, cpu_seconds: Double, strips_per_cpu_s: Double
        }
        let timing = Timing(
            n: requests.count, threads: pool.threads, seconds: best, strips_per_s: Double(requests.count) / max(best, 1e-9),
            cpu_seconds: bestCPU, strips_per_cpu_s: Double(requests.count) / max(bestCPU, 1e-9))
        print(String(decoding: try encoder.encode(timing), as: UTF8.self))
    }

    /// One results.jsonl line of --from-dataset.
    struct DatasetResult: Encodable {
        let line: Int
        let png: String
        let numPatches: Int
        let maskOnes: Int
        let sourceWidth: Int
        let sourceHeight: Int
        let sourceMode: String
        let label: Double?

        enum CodingKeys: String, CodingKey {
            case line, png, label
            case numPatches = "num_patches", maskOnes = "mask_ones", sourceWidth = "source_width"
            case sourceHeight = "source_height", sourceMode = "source_mode"
        }
    }

    /// --from-dataset: each row's model input (SPEC 5.6) as a PNG, so a person can see what the model got.
    private func decodeDataset(_ path: String, outDir: String, rendererDirectory: String, encoder: JSONEncoder) throws {
        let config = try reportingErrors { try RendererConfig.load(directory: rendererDirectory) }
        let length = maxSeqLength ?? config.maxSeqLength, patch = config.pixelsPerPatch
        let transform = imageText ? ImageTransform.imageText : ImageTransform(convertToRGB: true, geometry: resize == "bicubic" ? .bicubic : .crop)
        let reader = try reportingErrors { try RenderedDatasetReader(path: path) }
        try reportingErrors { try makeDirectory(outDir) }
        var lines = Data(), written = 0, failed = 0
        while limit.map({ written < $0 }) ?? true, let entry = try reportingErrors({ try reader.nextLine() }) {
            let row: RenderedDatasetRow
            switch entry {
            case .malformed(let error):
                log("error: \(TerminalText.escaped("\(error)"))")
                continue
            case .row(let r): row = r
            }
            let input: PatchModelInput
            do { input = try row.modelInput(transform, maxSeqLength: length, pixelsPerPatch: patch) } catch {
                log("error: \(TerminalText.escaped("\(error)"))")
                failed += 1
                continue
            }
            let width = patch * length, plane = patch * width
            var pixels = [UInt8](repeating: 0, count: 3 * plane)
            // Back from value / 255 to the bytes: exact, since every value is k / 255.
            for i in 0 ..< plane { for k in 0 ..< 3 { pixels[3 * i + k] = UInt8((input.pixelValues[k * plane + i] * 255).rounded()) } }
            let name = String(format: "line-%06d.png", row.line)
            try reportingErrors { try PNGFile.write(pixels: pixels, width: width, height: patch, channels: 3, to: (outDir as NSString).appendingPathComponent(name)) }
            let result = DatasetResult(
                line: row.line, png: name, numPatches: row.numPatches, maskOnes: Int(input.patchAttentionMask.reduce(0, +)),
                sourceWidth: row.image.width, sourceHeight: row.image.height, sourceMode: row.image.mode.rawValue, label: row.label)
            let line = try encoder.encode(result) + Data("\n".utf8)
            FileHandle.standardOutput.write(line)
            lines.append(line)
            written += 1
        }
        try reportingErrors { try writeAtomically(lines, to: (outDir as NSString).appendingPathComponent("results.jsonl")) }
        let bad = reader.malformedCount + failed
        log("decoded \(written) rows of \(path) (\(reader.linesRead) lines read) to \(outDir); \(bad) malformed or unusable lines")
        if bad > 0 { throw ExitCode.failure }
    }

    private func makeDirectory(_ path: String) throws(RenderError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw RenderError(path: path, .writeFailed(error.localizedDescription))
        }
    }

    private func writeAtomically(_ data: Data, to path: String) throws(RenderError) {
        do { try AtomicFile.write(Array(data), to: path) } catch { throw RenderError(path: path, .writeFailed(error.reason)) }
    }
}
