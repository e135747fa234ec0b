import ArgumentParser
import Eval
import Foundation
import Support

struct Slurm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command on a Slurm cluster.",
        subcommands: [SlurmEval.self]
    )
}

/// `pixelgpt slurm eval EVAL-OPTIONS --shards N`: an sbatch job array of `eval --shard K/N --resume` and a merge
/// job that starts when every shard succeeded (docs/cluster.md).
struct SlurmEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Write (and with --submit, submit) a Slurm job array over the shards of an evaluation, plus the merge job.",
        discussion: """
            Every option not listed here is an option of `pixelgpt eval` and is passed on; --output-dir must be on \
            a filesystem every node shares. Writes OUTPUT/slurm/shards.sbatch (array 0..N-1, --requeue: a requeued \
            shard continues after its last complete piece) and OUTPUT/slurm/merge.sbatch, to be submitted with \
            --dependency=afterok:<array job>; --submit does both and prints the two job ids. --only K[,K...] \
            submits only those array tasks (a shard that failed or was cancelled: it resumes after its last complete \
            piece) and a new merge job that waits for them and, with --after JOB, for that job's end too.
            """
    )

    @Option(help: "Shards (array tasks).")
    var shards: Int

    @Option(help: "Slurm partition.")
    var partition: String?

    @Option(help: "Time limit of each job (Slurm's format, e.g. 04:00:00).")
    var time: String?

    @Option(help: "CPUs per task; also the kernel threads of each shard unless --threads is given.")
    var cpusPerTask: Int?

    @Option(help: "Memory per node (Slurm's format, e.g. 16G).")
    var mem: String?

    @Flag(help: "Submit both jobs with sbatch and print their ids.")
    var submit = false

    @Option(help: ArgumentHelp("Only these shards (e.g. 2 or 0,3): resubmit shards that failed or were cancelled, with a new merge job.", valueName: "K[,K...]"))
    var only: String?

    @Option(help: ArgumentHelp("With --only: the merge job also waits for this job to end (the first submission's array job, if some of its tasks still run).", valueName: "JOB"))
    var after: String?

    @Argument(parsing: .allUnrecognized, help: "Options of `pixelgpt eval` (see `pixelgpt eval --help`).")
    var evalArguments: [String] = []

    func run() throws {
        try reportingErrors { () throws in
            guard (1...100_000).contains(shards) else { throw ValidationError("--shards \(shards): give 1 to 100000") }
            if let cpusPerTask, cpusPerTask < 1 { throw ValidationError("--cpus-per-task \(cpusPerTask): give 1 or more") }
            guard let output = EvalCommandLine.value(of: "--output-dir", in: evalArguments) else {
                throw ValidationError("give --output-dir on a filesystem every node shares")
            }
            for refused in ["--shard", "--resume"] where evalArguments.contains(where: { $0 == refused || $0.hasPrefix(refused + "=") }) {
                throw ValidationError("\(refused) is set by the job script; leave it out")
            }
            let array = try only.map { try Self.arraySpec($0, shards: shards) }
            if let after {
                guard array != nil else { throw ValidationError("--after is for --only (a resubmission)") }
                guard !after.isEmpty, after.allSatisfy(\.isNumber) else { throw ValidationError("--after \(after): give a job id") }
            }
            // Refuse what eval would refuse now, not on the cluster.
            _ = try Eval.parse(evalArguments)
            let script = SlurmScripts(executable: Self.executable, workingDirectory: FileManager.default.currentDirectoryPath,
                                      evalArguments: evalArguments, outputDirectory: output, shards: shards, partition: partition,
                                      time: time, cpusPerTask: cpusPerTask, memory: mem)
            let directory = (output as NSString).appendingPathComponent("slurm")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let shardsPath = (directory as NSString).appendingPathComponent("shards.sbatch")
            let mergePath = (directory as NSString).appendingPathComponent("merge.sbatch")
            try AtomicFile.write(Array(script.shardsScript.utf8), to: shardsPath)
            try AtomicFile.write(Array(script.mergeScript.utf8), to: mergePath)
            let arrayOption = array.map { ["--array=\($0)"] } ?? []
            let waitsFor = after.map { ",afterany:\($0)" } ?? ""
            guard submit else {
                print("shards: \(shardsPath)\nmerge: \(mergePath)")
                log("submit with: id=$(sbatch --parsable \((arrayOption + [shardsPath]).joined(separator: " "))) && "
                    + "sbatch --dependency=afterok:${id%%;*}\(waitsFor) --kill-on-invalid-dep=yes \(mergePath)")
                return
            }
            let shardsJob = try Self.sbatch(["--parsable"] + arrayOption + [shardsPath])
            let merge = try Self.sbatch(["--parsable", "--dependency=afterok:\(shardsJob)\(waitsFor)", "--kill-on-invalid-dep=yes", mergePath])
            print("shards job \(shardsJob)\nmerge job \(merge)")
        }
    }

    /// `--only K[,K...]` as sbatch's --array value: distinct shards of the run, in order.
    static func arraySpec(_ text: String, shards: Int) throws -> String {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let indices = parts.compactMap { Int($0) }
        guard !parts.isEmpty, indices.count == parts.count, indices.allSatisfy((0..<shards).contains) else {
            throw ValidationError("--only \(text): give shard numbers 0 to \(shards - 1), separated by commas")
        }
        return Set(indices).sorted().map(String.init).joined(separator: ",")
    }

    /// This tool's own path, absolute (the nodes run the same build).
    static var executable: String {
        let path = Bundle.main.executablePath ?? CommandLine.arguments[0]
        return path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }

    /// Runs sbatch (from PATH) and returns the job id it prints with --parsable ("ID" or "ID;CLUSTER").
    static func sbatch(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sbatch"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { throw ValidationError("cannot run sbatch: \(error)") }
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let id = stdout.split(whereSeparator: \.isNewline).first.map { String($0.split(separator: ";").first ?? "") } ?? ""
        guard process.terminationStatus == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            let reason = stderr.split(whereSeparator: \.isNewline).first.map(String.init) ?? "exit status \(process.terminationStatus)"
            throw ValidationError("sbatch \(arguments.last ?? ""): \(reason)")
        }
        return id
    }
}

/// The text of the two sbatch scripts.
struct SlurmScripts {
    let executable: String
    let workingDirectory: String
    let evalArguments: [String]
    let outputDirectory: String
    let shards: Int
    let partition: String?
    let time: String?
    let cpusPerTask: Int?
    let memory: String?

    /// POSIX shell single quotes.
    static func quoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    func directives(jobName: String, log: String) -> [String] {
        var lines = ["--job-name=\(jobName)", "--chdir=\(workingDirectory)", "--output=\(log)"]
        if let partition { lines.append("--partition=\(partition)") }
        if let time { lines.append("--time=\(time)") }
        if let cpusPerTask { lines.append("--cpus-per-task=\(cpusPerTask)") }
        if let memory { lines.append("--mem=\(memory)") }
        return lines
    }

    var logDirectory: String {
        let absolute = outputDirectory.hasPrefix("/") ? outputDirectory : (workingDirectory as NSString).appendingPathComponent(outputDirectory)
        return (absolute as NSString).appendingPathComponent("slurm")
    }

    func script(_ directives: [String], comment: String, command: String) -> String {
        (["#!/bin/bash"] + directives.map { "#SBATCH \($0)" } + ["# \(comment)", "set -eu", command]).joined(separator: "\n") + "\n"
    }

    var shardsScript: String {
        let threads = cpusPerTask != nil && EvalCommandLine.value(of: "--threads", in: evalArguments) == nil ? " --threads \"${SLURM_CPUS_PER_TASK}\"" : ""
        let command = "exec \(Self.quoted(executable)) eval " + evalArguments.map(Self.quoted).joined(separator: " ")
            + "\(threads) --shard \"${SLURM_ARRAY_TASK_ID}/\(shards)\" --resume"
        return script(directives(jobName: "pixelgpt-shards", log: logDirectory + "/shard-%a.log") + ["--array=0-\(shards - 1)", "--requeue", "--open-mode=append"],
                      comment: "One shard per array task; a requeued or resubmitted shard keeps its finished pieces (--resume).",
                      command: command)
    }

    var mergeScript: String {
        script(directives(jobName: "pixelgpt-merge", log: logDirectory + "/merge.log") + ["--requeue", "--open-mode=append"],
               comment: "Submit with --dependency=afterok:<the shards' array job>.",
               command: "exec \(Self.quoted(executable)) merge \(Self.quoted(outputDirectory))")
    }
}
