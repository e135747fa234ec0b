import ArgumentParser
import Foundation
import Numerics
import Render
import SafeTensors

struct MakeNumericsProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-probe",
        abstract: "Write one of the built-in probes (builtin, builtin-small): its fixed texts as token ids (text group), rendered strips (pixel group) and both for sentence pairs (pair group).",
        discussion: "The texts are part of the tool, not an input: "
            + NumericsProbes.texts.map { "\($0.language) \"\($0.text)\" / \"\($0.pair)\"" }.joined(separator: "; ")
            + " (builtin-small: en, ar, zh). This command writes the committed probes/ files (scripts/numerics_make_probes.sh); "
            + "for other inputs, write a probe file of the same groups and give its path to `numerics record --probe`."
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
            let textRenderer = try TextRenderer(directory: try renderer ?? RendererLocation.defaultDirectory())
            let built = try NumericsProbes.build(name: name, tokenizer: tokenizer, renderer: textRenderer)
            var metadata = built.metadata
            metadata["numerics.tool_version"] = PixelGPT.toolVersion
            try SafeTensorsWriter.write(built.probe.groups.flatMap(NumericsProbe.inputRecords), metadata: metadata, to: out)
            log("wrote \(name): \(built.texts.count) texts (\(built.texts.joined(separator: ", "))) as text, pixel and pair groups -> \(out)")
        }
    }
}
