import Foundation
import TestSupport
import Testing

/// Issue 17: `pixelgpt slurm eval --shards N` writes the job scripts; their shards run as separate processes
/// at once, `merge` then writes outputs byte-identical to the one-process run; an incomplete or mixed set of
/// shards fails in one line naming the shard.
@Suite(.serialized) struct ShardedEvalCommandTests {
    static let samples = PythonReference.repositoryRoot + "/samples"

    /// The #SBATCH directives of a script, by option name (without the value for flags).
    static func directives(_ script: String) -> [String: String] {
        var found: [String: String] = [:]
        for line in script.split(separator: "\n") where line.hasPrefix("#SBATCH ") {
            let option = line.dropFirst("#SBATCH ".count).split(separator: "=", maxSplits: 1).map(String.init)
            found[option[0]] = option.count == 2 ? option[1] : ""
        }
        return found
    }

    /// The file's bytes; results.json without its one timestamp line ("created"), the only field that differs.
    /// What a run records about when and how it ran, not what it computed: the only results.json fields
    /// in which a merged run may differ from the one-process run.
    static let circumstances: Set<String> = ["created", "runtime_seconds", "rows_per_second", "command_line"]

    static func contents(_ path: String) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard path.hasSuffix("results.json") else { return text }
        func strip(_ value: Any) -> Any {
            if let object = value as? [String: Any] {
                return object.filter { !circumstances.contains($0.key) }.mapValues(strip)
            }
            if let array = value as? [Any] { return array.map(strip) }
            return value
        }
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        #expect((object as? [String: Any])?["created"] != nil)
        let stripped = try JSONSerialization.data(withJSONObject: strip(object), options: [.sortedKeys, .prettyPrinted])
        return String(decoding: stripped, as: UTF8.self)
    }

    /// Runs the shards script once per array task, all at once, as Slurm would; then the merge script.
    static func runScripts(_ output: String, shards: Int) throws {
        let script = try String(contentsOfFile: output + "/slurm/shards.sbatch", encoding: .utf8)
        var processes: [Process] = []
        for k in 0..<shards {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", script]
            process.environment = ProcessInfo.processInfo.environment.merging(["SLURM_ARRAY_TASK_ID": "\(k)"]) { $1 }
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            processes.append(process)
        }
        for process in processes { process.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 })
        let merged = try runProcess(URL(fileURLWithPath: "/bin/bash"), [output + "/slurm/merge.sbatch"])
        #expect(merged.status == 0, "\(merged.stderr)")
    }

    func shardsEqualOneProcess(modality: String, tasks: String, shards: Int) throws {
        let dir = try TemporaryDirectory()
        let created = try BuiltTool.run(["init", "--preset", "tiny", "--seed", "3", dir.file("model")])
        #expect(created.status == 0, "\(created.stderr)")
        let common = ["--model", dir.file("model"), "--tasks", tasks, "--modality", modality, "--data-dir", Self.samples,
                      "--limit", "16", "--train-limit", "24", "--threads", "1"]
        let one = try BuiltTool.run(["eval"] + common + ["--output-dir", dir.file("one")])
        #expect(one.status == 0, "\(one.stderr)")

        let written = try BuiltTool.run(["slurm", "eval"] + common + ["--output-dir", dir.file("sharded"), "--shards", "\(shards)",
                                                                      "--partition", "debug", "--time", "00:30:00", "--mem", "2G"])
        #expect(written.status == 0, "\(written.stderr)")
        let script = try String(contentsOfFile: dir.file("sharded/slurm/shards.sbatch"), encoding: .utf8)
        let options = Self.directives(script)
        #expect(options["--array"] == "0-\(shards - 1)" && options["--requeue"] == "" && options["--partition"] == "debug")
        #expect(options["--time"] == "00:30:00" && options["--mem"] == "2G" && options["--chdir"] != nil && options["--cpus-per-task"] == nil)
        let command = try #require(script.split(separator: "\n").last)
        #expect(command.hasPrefix("exec '\(BuiltTool.pixelgpt.path)' eval '--model' ") && command.hasSuffix("--shard \"${SLURM_ARRAY_TASK_ID}/\(shards)\" --resume"))
        let merge = try String(contentsOfFile: dir.file("sharded/slurm/merge.sbatch"), encoding: .utf8)
        #expect(Self.directives(merge)["--array"] == nil && merge.hasSuffix("merge '\(dir.file("sharded"))'\n"))

        try Self.runScripts(dir.file("sharded"), shards: shards)
        let outputs = try FileManager.default.contentsOfDirectory(atPath: dir.file("one")).filter { $0.hasPrefix("samples_") || $0 == "table.md" || $0 == "results.json" }
        #expect(outputs.count == tasks.split(separator: ",").count + 2)
        for name in outputs {
            #expect(try Self.contents(dir.file("sharded/" + name)) == (try Self.contents(dir.file("one/" + name))), "\(name)")
        }

        // --resume (Slurm's requeue) keeps a shard's complete pieces and recomputes only a lost one.
        let last = dir.file("sharded/shards/\(shards - 1)-of-\(shards)")
        let resumed = try BuiltTool.run(["eval"] + common + ["--output-dir", dir.file("sharded"), "--shard", "\(shards - 1)/\(shards)", "--resume"])
        #expect(resumed.status == 0 && resumed.stderr.contains("(0 computed now)"), "\(resumed.stderr)")
        let lastPieces = try FileManager.default.contentsOfDirectory(atPath: last).filter { $0.hasSuffix(".safetensors") }.sorted()
        try FileManager.default.removeItem(atPath: last + "/" + lastPieces[0])
        let lost = try BuiltTool.run(["eval"] + common + ["--output-dir", dir.file("sharded"), "--shard", "\(shards - 1)/\(shards)", "--resume"])
        #expect(lost.status == 0 && !lost.stderr.contains("(0 computed now)") && FileManager.default.fileExists(atPath: last + "/" + lastPieces[0]))
        let remerged = try BuiltTool.run(["merge", dir.file("sharded")])
        #expect(remerged.status == 0, "\(remerged.stderr)")
        for name in outputs {
            #expect(try Self.contents(dir.file("sharded/" + name)) == (try Self.contents(dir.file("one/" + name))), "\(name)")
        }

        // Merging an incomplete or mixed set fails in one line naming each shard.
        let root = dir.file("sharded/shards")
        try FileManager.default.moveItem(atPath: root + "/1-of-\(shards)", toPath: dir.file("moved"))
        let pieces = try FileManager.default.contentsOfDirectory(atPath: root + "/0-of-\(shards)").filter { $0.hasSuffix(".safetensors") }
        try FileManager.default.removeItem(atPath: root + "/0-of-\(shards)/" + pieces[0])
        let other = try BuiltTool.run(["eval"] + common.map { $0 == "16" ? "8" : $0 } + ["--output-dir", dir.file("sharded"), "--shard", "2/\(shards)"])
        #expect(other.status == 0, "\(other.stderr)")
        let refused = try BuiltTool.run(["merge", dir.file("sharded")])
        let line = refused.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(refused.status != 0 && line.hasPrefix("error:"))
        #expect(line.contains("shard 1/\(shards) missing") && line.contains("shard 0/\(shards) incomplete (\(pieces[0]) missing)"), "\(line)")
        #expect(line.contains("shard 2/\(shards) foreign (limit \"8\" vs \"16\")"), "\(line)")
    }

    /// `slurm eval --only K[,K...]` (resubmitting shards, docs/cluster.md) and the stall hook refuse bad values
    /// in one line; without --submit the resubmission commands are printed.
    @Test func resubmissionOptionsAndTheStallHook() throws {
        let dir = try TemporaryDirectory()
        let created = try BuiltTool.run(["init", "--preset", "tiny", "--seed", "3", dir.file("model")])
        #expect(created.status == 0, "\(created.stderr)")
        let common = ["--model", dir.file("model"), "--tasks", "rte", "--modality", "pixel", "--data-dir", Self.samples,
                      "--limit", "8", "--train-limit", "8", "--threads", "1", "--output-dir", dir.file("out")]
        let only = try BuiltTool.run(["slurm", "eval"] + common + ["--shards", "4", "--only", "3,1,3", "--after", "41"])
        #expect(only.status == 0, "\(only.stderr)")
        #expect(only.stderr.contains("sbatch --parsable --array=1,3 \(dir.file("out"))/slurm/shards.sbatch)"), "\(only.stderr)")
        #expect(only.stderr.contains("sbatch --dependency=afterok:${id%%;*},afterany:41 --kill-on-invalid-dep=yes "), "\(only.stderr)")
        for (options, message) in [(["--only", "4"], "--only 4: give shard numbers 0 to 3"), (["--only", "1,"], "--only 1,: give shard numbers"),
                                   (["--after", "41"], "--after is for --only"), (["--only", "1", "--after", "x"], "--after x: give a job id")] {
            let refused = try BuiltTool.run(["slurm", "eval"] + common + ["--shards", "4"] + options)
            let lines = refused.stderr.split(separator: "\n")
            #expect(refused.status != 0 && lines.count == 1 && lines[0].contains(message), "\(options): \(refused.stderr)")
        }
        let stall = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["PIXELGPT_STALL_AFTER_PIECES=2:0", BuiltTool.pixelgpt.path, "eval"]
                                   + common + ["--shard", "2/4"])
        let last = stall.stderr.split(separator: "\n").last ?? ""
        #expect(stall.status != 0 && last.hasPrefix("error:") && last.contains("PIXELGPT_STALL_AFTER_PIECES: \"2:0\" is not P or K:P"), "\(stall.stderr)")
    }

    @Test func pixelShardsMergeToTheOneProcessOutputs() throws {
        try shardsEqualOneProcess(modality: "pixel", tasks: "rte,xnli_en", shards: 4)
    }

    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)"))
    func textShardsMergeToTheOneProcessOutputs() throws {
        try shardsEqualOneProcess(modality: "text", tasks: "rte,stsb,xnli_en", shards: 5)
    }
}
