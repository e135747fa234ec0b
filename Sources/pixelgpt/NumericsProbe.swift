import ArgumentParser
import Checkpoints
import Foundation
import Support
import Model
import Render
import SafeTensors
import Text

/// The named probes of `pixelgpt numerics record --probe`. The built-in ones are committed files (probes/,
/// written by `pixelgpt numerics make-probe`, scripts/numerics_make_probes.sh), so a baseline does not
/// depend on the fonts or the tokenizer of the machine that records it.
enum NumericsProbes {
    static let environmentVariable = "PIXELGPT_PROBES"
    static let builtinNames = ["builtin", "builtin-small"]

    static func resolve(_ name: String, model: String) throws -> NumericsProbe {
        if name == "synthetic" {
            guard let (_, config) = try CheckpointLocation.resolve(model).loadConfig() else {
                throw CheckpointError(path: model, "no config.json: the synthetic probe needs vocab_size")
            }
            return try NumericsProbe.synthetic(vocabSize: config.vocabSize)
        }
        guard builtinNames.contains(name) else { return try NumericsProbe.read(path: name) }
        let file = name + ".safetensors"
        guard let directory = ProjectResource.locate("probes", containing: file, environmentVariable: environmentVariable) else {
            throw CheckpointError(path: "probes/" + file, "built-in probe not found above the executable or in the current directory (set \(environmentVariable) to the project's probes/)")
        }
        let probe = try NumericsProbe.read(path: directory + "/" + file)
        if let (_, config) = try CheckpointLocation.resolve(model).loadConfig(),
           let largest = probe.groups.flatMap(\.inputs.inputIds).max(), largest >= config.vocabSize {
            throw CheckpointError(path: model, "vocab_size is \(config.vocabSize), but the \(name) probe holds Llama-2 token ids up to \(largest): use --probe synthetic (any vocabulary) or a probe file")
        }
        return NumericsProbe(name: name, groups: probe.groups)
    }

    /// The texts of the built-in probes: four scripts (Latin, Cyrillic, Arabic right-to-left, Chinese),
    /// each a sentence and an XNLI-style pair. builtin-small keeps Latin, Arabic and Chinese.
    static let texts: [(language: String, text: String, pair: String)] = [
        ("en", "The quick brown fox jumps over the lazy dog.", "A fox is jumping."),
        ("ru", "Съешь же ещё этих мягких французских булок.", "Это предложение."),
        ("ar", "النص العربي يكتب من اليمين إلى اليسار.", "هذه جملة."),
        ("zh", "敏捷的棕色狐狸跳过了懒狗。", "这是一句话。"),
    ]
}

struct MakeNumericsProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-probe",
        abstract: "Write a probe file from texts: token ids (text group), rendered strips (pixel group) and both for sentence pairs (pair group).",
        discussion: "Writes the committed built-in probes (scripts/numerics_make_probes.sh); --name builtin or builtin-small."
    )

    @Option(help: "builtin (4 scripts, 24 patches) or builtin-small (3 scripts, 12 patches).")
    var name: String = "builtin"

    @Option(help: "tokenizer.model, tokenizer.json or a directory holding one (the Llama-2 tokenizer).")
    var tokenizer: String

    @Option(help: "Renderer directory (default: $PIXELGPT_RENDERER, else the project's renderers/noto).")
    var renderer: String?

    @Option(help: "Where to write the probe (.safetensors).")
    var out: String

    func run() throws {
        try reportingErrors {
            guard NumericsProbes.builtinNames.contains(name) else {
                throw CheckpointError(path: out, "--name must be builtin or builtin-small, is \"\(name)\"")
            }
            let small = name == "builtin-small"
            let texts = small ? NumericsProbes.texts.filter { ["en", "ar", "zh"].contains($0.language) } : NumericsProbes.texts
            let patches = small ? 12 : 24, maxTokens = small ? 16 : 24
            let encoder = try PixelGPTTextInputs(tokenizer: try SentencePieceTokenizer(contentsOf: tokenizer), maxLength: maxTokens)
            let textRenderer = try TextRenderer(directory: try renderer ?? RendererLocation.defaultDirectory())
            func ids(_ sequences: [[Int32]]) -> (InputArray<Int>, InputArray<Float>) {
                let batch = PaddedBatch(sequences)
                let rows = batch.inputIDs.count, length = batch.length
                return (InputArray(shape: [rows, length], values: batch.inputIDs.flatMap { $0.map(Int.init) }),
                        InputArray(shape: [rows, length], values: batch.attentionMask.flatMap { $0.map(Float.init) }))
            }
            func strips(_ strips: [RenderedStrip]) -> (InputArray<Float>, InputArray<Float>) {
                (InputArray(shape: [strips.count, 3, 16, 16 * patches], values: strips.flatMap { $0.modelInput(asRGB: true) }),
                 InputArray(shape: [strips.count, patches], values: strips.flatMap { $0.attentionMask() }))
            }
            let (textIds, textMask) = ids(texts.map { encoder.encode($0.text) })
            let (pixels, pixelMask) = strips(try texts.map { try textRenderer.render($0.text, maxSeqLength: patches) })
            let (pairIds, pairMask) = ids(texts.map { encoder.encode($0.text, pair: $0.pair) })
            let (pairPixels, pairPatchMask) = strips(try texts.map { try textRenderer.render($0.text, pair: $0.pair, maxSeqLength: patches) })
            let probe = NumericsProbe(name: name, groups: [
                .init(name: "text", inputs: try ForwardInputs(inputIds: textIds, attentionMask: textMask)),
                .init(name: "pixel", inputs: try ForwardInputs(attentionMask: pixelMask, pixelValues: pixels)),
                .init(name: "pair", inputs: try ForwardInputs(inputIds: pairIds, attentionMask: pairMask, pixelValues: pairPixels, patchAttentionMask: pairPatchMask)),
            ])
            let metadata = ["numerics.probe": name, "numerics.texts": texts.map(\.language).joined(separator: ","),
                            "numerics.renderer": textRenderer.fontDescriptionString, "numerics.tool_version": PixelGPT.toolVersion]
            try SafeTensorsWriter.write(probe.groups.flatMap(NumericsProbe.inputRecords), metadata: metadata, to: out)
            log("wrote \(name): \(texts.count) texts (\(texts.map(\.language).joined(separator: ", "))) as text, pixel and pair groups -> \(out)")
        }
    }
}
