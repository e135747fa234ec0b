import ArgumentParser
import Checkpoints
import Foundation

/// The command-line tool (its contract is in README.md): data on stdout, logs on stderr, a one-line
/// error and a non-zero exit on bad input. Only commands that work are registered here.
@main
struct PixelGPT: ParsableCommand {
    static let toolVersion = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "pixelgpt",
        abstract: "Convert, run and evaluate PixelGPT checkpoints on the CPU.",
        version: toolVersion,
        subcommands: [Inspect.self, Convert.self, Verify.self, Init.self, Forward.self, Generate.self, Tasks.self, Eval.self, Merge.self, Export.self, Slurm.self, Bench.self, Tokenize.self, Render.self, Numerics.self, Report.self, CheckHDF5.self]
    )

    /// Every HDF5 file is first read by a child copy of this tool (HDF5CrashGuard), except in that child.
    static func main() {
        if CommandLine.arguments.dropFirst().first != CheckHDF5.configuration.commandName {
            let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            HDF5CrashGuard.enable(command: [executable, CheckHDF5.configuration.commandName!])
        }
        runCommandLine(Self.self)
    }
}
