import Foundation
import TestSupport
import Testing

/// Issue 17, item 4: a real single-node Slurm (scripts/slurm-local.sh, Debian's slurm-wlm and munge) runs
/// `pixelgpt slurm eval --shards 4 --submit`: the job array and the merge job it depends on give the outputs
/// of the one-process run. Needs root and either Slurm installed or apt-get to install it.
@Suite(.serialized) struct SlurmClusterTests {
    static let script = PythonReference.repositoryRoot + "/scripts/slurm-local.sh"
    static var canRunSlurm: Bool {
        getuid() == 0 && ["/usr/sbin/slurmctld", "/usr/bin/apt-get"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A Slurm client command (squeue, scontrol) run against the local cluster.
    static func slurm(_ command: [String], conf: String) throws -> ProcessResult {
        try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["SLURM_CONF=\(conf)"] + command)
    }

    @Test(.enabled(if: canRunSlurm, "needs root and Slurm (or apt-get to install it)"))
    func jobArrayAndMergeGiveTheOneProcessOutputs() throws {
        let dir = try TemporaryDirectory()
        let state = dir.file("slurm")
        let started = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["PIXELGPT_SLURM_DIR=\(state)", "bash", Self.script, "start"])
        defer { _ = try? runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["PIXELGPT_SLURM_DIR=\(state)", "bash", Self.script, "stop"]) }
        try #require(started.status == 0, "\(started.stderr)")
        let conf = state + "/slurm.conf"

        let created = try BuiltTool.run(["init", "--preset", "tiny", "--seed", "3", dir.file("model")])
        #expect(created.status == 0, "\(created.stderr)")
        let common = ["--model", dir.file("model"), "--tasks", "rte,xnli_en", "--modality", "pixel", "--data-dir", ShardedEvalCommandTests.samples,
                      "--limit", "16", "--train-limit", "24", "--threads", "1"]
        let one = try BuiltTool.run(["eval"] + common + ["--output-dir", dir.file("one")])
        #expect(one.status == 0, "\(one.stderr)")

        let submitted = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["SLURM_CONF=\(conf)", BuiltTool.pixelgpt.path, "slurm", "eval"] + common
                                       + ["--output-dir", dir.file("sharded"), "--shards", "4", "--cpus-per-task", "1", "--submit"])
        try #require(submitted.status == 0, "\(submitted.stderr)")
        // "shards job ID" and "merge job ID".
        let ids = submitted.stdoutText.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        try #require(ids.count == 2 && ids.allSatisfy { Int($0) != nil }, "\(submitted.stdoutText)")

        // Bounded wait: both jobs leave the queue.
        var waited = 0
        while waited < 900, !(try Self.slurm(["squeue", "-h", "-j", ids.joined(separator: ",")], conf: conf).stdoutText).isEmpty {
            sleep(2)
            waited += 2
        }
        #expect(waited < 900, "the jobs did not finish in 15 minutes")
        let merge = try Self.slurm(["scontrol", "show", "job", ids[1]], conf: conf).stdoutText
        #expect(merge.contains("JobState=COMPLETED"), "\(merge)")
        let outputs = try FileManager.default.contentsOfDirectory(atPath: dir.file("one")).filter { $0.hasPrefix("samples_") || $0 == "table.md" || $0 == "results.json" }
        #expect(outputs.count == 4)
        for name in outputs {
            #expect(try ShardedEvalCommandTests.contents(dir.file("sharded/" + name)) == (try ShardedEvalCommandTests.contents(dir.file("one/" + name))), "\(name)")
        }
    }
}
