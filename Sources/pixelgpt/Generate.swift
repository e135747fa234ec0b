import ArgumentParser
import Checkpoints
import Foundation
import Model
import Render
import Text

/// What the model "writes": greedy next tokens after token ids, or the next patches after a pixel strip.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Greedy generation with a KV cache: next tokens after token ids, or next patches after a strip.",
        discussion: """
        Text: --text-ids 1,450,4996 prints the generated ids on stdout (with --json, prompt and generated); \
        --text "..." encodes with --tokenizer (default: the checkpoint directory's tokenizer.model or .json, \
        <s> prepended) and prints the generated text. \
        Pixels: --pixels STRIP.png (16 px high, width a multiple of 16) --patches N --out OUT.png writes the strip \
        followed by N predicted patches; each prediction is un-normalised with the mean and standard deviation \
        of the patch before it (the pixel head predicts per-patch normalised values).
        """
    )

    @Option(help: "Checkpoint directory.")
    var model: String

    @Option(help: "Prompt token ids, comma-separated (e.g. from pixelgpt tokenize).")
    var textIds: String?

    @Option(help: "Prompt text, encoded with the tokenizer.")
    var text: String?

    @Option(help: "tokenizer.model, tokenizer.json or a directory holding one (default: --model).")
    var tokenizer: String?

    @Option(help: "Tokens to generate.")
    var maxNewTokens = 20

    @Flag(help: "Keep generating after the end-of-sequence token.")
    var ignoreEos = false

    @Option(help: "Prompt strip as a PNG, 16 pixels high.")
    var pixels: String?

    @Option(help: "Patches to predict after the strip.")
    var patches = 8

    @Option(help: "Where to write the strip with its predicted patches (PNG).")
    var out: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard [textIds != nil, text != nil, pixels != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --text-ids, --text and --pixels")
        }
        if pixels != nil && out == nil { throw ValidationError("--pixels needs --out") }
        if maxNewTokens < 1 || patches < 1 { throw ValidationError("--max-new-tokens and --patches must be at least 1") }
    }

    struct TextResult: Encodable {
        let prompt: [Int]
        let generated: [Int]
        /// The generated ids decoded, when a tokenizer was given.
        let text: String?
    }

    func run() throws {
        try reportingErrors {
            let loaded = try PixelGPTModel.load(path: model)
            let started = Date()
            if textIds != nil || text != nil {
                var encoder: SentencePieceTokenizer?
                let prompt: [Int]
                if let text {
                    let tokenizerPath = tokenizer ?? model
                    encoder = try SentencePieceTokenizer(contentsOf: tokenizerPath)
                    prompt = encoder!.encode(text, addBOS: true).map(Int.init)
                } else {
                    prompt = try (textIds ?? "").split(separator: ",").map { part -> Int in
                        guard let id = Int(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--text-ids: \"\(part)\" is not an integer") }
                        return id
                    }
                }
                let generated = try loaded.model.generateTokens(prompt: prompt, maxNewTokens: maxNewTokens, stopAtEOS: !ignoreEos)
                log("generated \(generated.count) tokens in \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
                let decoded = encoder?.decode(generated.map { Int32($0) })
                if json {
                    try printJSON(TextResult(prompt: prompt, generated: generated, text: decoded))
                } else {
                    print(decoded ?? generated.map(String.init).joined(separator: " "))
                }
            } else if let pixels, let out {
                let image = try PNGFile.read(pixels)
                guard image.height == 16, image.width > 0, image.width % 16 == 0 else {
                    throw ValidationError("\(pixels): strip is \(image.width)x\(image.height); it must be 16 high and a multiple of 16 wide")
                }
                let w = image.width
                var strip = [Float](repeating: 0, count: 3 * 16 * w)
                for y in 0..<16 { for x in 0..<w { for c in 0..<3 { strip[(c * 16 + y) * w + x] = Float(image.rgb[(y * w + x) * 3 + c]) / 255 } } }
                let result = try loaded.model.predictPatches(pixelValues: strip, count: patches)
                log("predicted \(result.pixels.count) patches in \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
                let total = w + 16 * result.pixels.count
                var rgb = [UInt8](repeating: 255, count: 16 * total * 3)
                for y in 0..<16 { for x in 0..<w { for c in 0..<3 { rgb[(y * total + x) * 3 + c] = image.rgb[(y * w + x) * 3 + c] } } }
                for (n, patch) in result.pixels.enumerated() {
                    for y in 0..<16 { for x in 0..<16 { for c in 0..<3 {
                        rgb[(y * total + w + n * 16 + x) * 3 + c] = UInt8((patch[(y * 16 + x) * 3 + c] * 255).rounded())
                    } } }
                }
                try PNGFile.write(pixels: rgb, width: total, height: 16, channels: 3, to: out)
                print(out)
            }
        }
    }
}
