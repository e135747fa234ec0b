import ArgumentParser

/// The command-line tool (DESIGN.md, command-line contract): data on stdout, logs on stderr, a one-line
/// error and a non-zero exit on bad input. Only commands that work are registered here.
@main
struct PixelGPT: ParsableCommand {
    static let toolVersion = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "pixelgpt",
        abstract: "Convert, run and evaluate PixelGPT checkpoints on the CPU.",
        version: toolVersion,
        subcommands: [Inspect.self, Convert.self, Verify.self, Init.self, Forward.self, Generate.self, Tasks.self, Eval.self, Bench.self, Tokenize.self, Render.self, Numerics.self, Report.self]
    )
}
