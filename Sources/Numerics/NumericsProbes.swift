import Checkpoints
import Foundation
import Model
import Render
import SafeTensors
import Support
import Text

/// The named probes of `pixelgpt numerics record --probe`, and how the built-in ones are made. The built-in
/// ones are committed files (probes/, written by `pixelgpt numerics make-probe`,
/// scripts/numerics_make_probes.sh), so a baseline does not depend on the fonts or the tokenizer of the
/// machine that records it.
public enum NumericsProbes {
    public static let environmentVariable = "PIXELGPT_PROBES"
    public static let builtinNames = ["builtin", "builtin-small"]

    /// `name` is "synthetic", a built-in name, or a probe file's path.
    public static func resolve(_ name: String, model: String) throws -> NumericsProbe {
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
    public static let texts: [(language: String, text: String, pair: String)] = [
        ("en", "The quick brown fox jumps over the lazy dog.", "A fox is jumping."),
        ("ru", "Съешь же ещё этих мягких французских булок.", "Это предложение."),
        ("ar", "النص العربي يكتب من اليمين إلى اليسار.", "هذه جملة."),
        ("zh", "敏捷的棕色狐狸跳过了懒狗。", "这是一句话。"),
    ]

    /// A built-in probe from its texts: token ids (text group), rendered strips (pixel group) and both for
    /// the sentence pairs (pair group). Returns the probe and the metadata its file records.
    public static func build(name: String, tokenizer: String, renderer: TextRenderer) throws -> (probe: NumericsProbe, texts: [String], metadata: [String: String]) {
        guard builtinNames.contains(name) else {
            throw CheckpointError(path: name, "--name must be builtin or builtin-small, is \"\(name)\"")
        }
        let small = name == "builtin-small"
        let chosen = small ? texts.filter { ["en", "ar", "zh"].contains($0.language) } : texts
        let patches = small ? 12 : 24, maxTokens = small ? 16 : 24
        let encoder = try PixelGPTTextInputs(tokenizer: try SentencePieceTokenizer(contentsOf: tokenizer), maxLength: maxTokens)
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
        let (textIds, textMask) = ids(chosen.map { encoder.encode($0.text) })
        let (pixels, pixelMask) = strips(try chosen.map { try renderer.render($0.text, maxSeqLength: patches) })
        let (pairIds, pairMask) = ids(chosen.map { encoder.encode($0.text, pair: $0.pair) })
        let (pairPixels, pairPatchMask) = strips(try chosen.map { try renderer.render($0.text, pair: $0.pair, maxSeqLength: patches) })
        let probe = NumericsProbe(name: name, groups: [
            .init(name: "text", inputs: try ForwardInputs(inputIds: textIds, attentionMask: textMask)),
            .init(name: "pixel", inputs: try ForwardInputs(attentionMask: pixelMask, pixelValues: pixels)),
            .init(name: "pair", inputs: try ForwardInputs(inputIds: pairIds, attentionMask: pairMask, pixelValues: pairPixels, patchAttentionMask: pairPatchMask)),
        ])
        let languages = chosen.map(\.language)
        let metadata = ["numerics.probe": name, "numerics.texts": languages.joined(separator: ","),
                        "numerics.renderer": renderer.fontDescriptionString]
        return (probe, languages, metadata)
    }
}
