import ArgumentParser
import Eval
import Foundation

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the shards of `pixelgpt eval --shard K/N` into results.json, samples and table.md.",
        discussion: """
            Checks that OUTPUT/shards holds every shard of one run, complete and made with the same checkpoint, data \
            and options (one line names each missing, duplicated, foreign or incomplete shard), assembles their \
            features into the feature cache, then runs the shards' eval command line: the heads are trained on all \
            features, and the outputs equal those of the same run done in one process (docs/cluster.md).
            """
    )

    @Argument(help: "The --output-dir the shards wrote to.")
    var outputDir: String

    func run() throws {
        let assembled = try reportingErrors { try ShardMerge.assemble(outputDirectory: outputDir, log: log) }
        let eval = try reportingErrors { try Eval.parse(assembled.arguments + ["--output-dir", outputDir]) }
        try eval.run()
    }
}

/// The eval command line as the shards record it and the merge and Slurm jobs replay it.
enum EvalCommandLine {
    /// This process's arguments after the `eval` subcommand.
    static func current() -> [String] {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let at = arguments.firstIndex(of: "eval") else { return arguments }
        return Array(arguments[(at + 1)...])
    }

    /// Without the options that differ between shards and the merge: --shard, --output-dir, --resume.
    static func forMerge(_ arguments: [String]) -> [String] {
        removing(["--shard", "--output-dir"], flags: ["--resume"], from: arguments)
    }

    /// `arguments` without the options `withValue` (as "--name value" or "--name=value") and the flags `flags`.
    static func removing(_ withValue: Set<String>, flags: Set<String>, from arguments: [String]) -> [String] {
        var kept: [String] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if flags.contains(argument) {
                i += 1
            } else if withValue.contains(argument) {
                i += 2
            } else if argument.contains("="), withValue.contains(name) {
                i += 1
            } else {
                kept.append(argument)
                i += 1
            }
        }
        return kept
    }

    /// The value of `--name` ("--name value" or "--name=value"), if given.
    static func value(of name: String, in arguments: [String]) -> String? {
        for (i, argument) in arguments.enumerated() {
            if argument == name, i + 1 < arguments.count { return arguments[i + 1] }
            if argument.hasPrefix(name + "=") { return String(argument.dropFirst(name.count + 1)) }
        }
        return nil
    }
}
