import ArgumentParser
import Foundation
import Numerics
import Render
import SafeTensors

struct MakeNumericsProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-probe",
        abstract: "Write a built-in probe file from its texts: token ids (text group), rendered strips (pixel group) and both for sentence pairs (pair group).",
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
            let textRenderer = try TextRenderer(directory: try renderer ?? RendererLocation.defaultDirectory())
            let built = try NumericsProbes.build(name: name, tokenizer: tokenizer, renderer: textRenderer)
            var metadata = built.metadata
            metadata["numerics.tool_version"] = PixelGPT.toolVersion
            try SafeTensorsWriter.write(built.probe.groups.flatMap(NumericsProbe.inputRecords), metadata: metadata, to: out)
            log("wrote \(name): \(built.texts.count) texts (\(built.texts.joined(separator: ", "))) as text, pixel and pair groups -> \(out)")
        }
    }
}
