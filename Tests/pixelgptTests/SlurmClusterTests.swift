import Foundation
import TestSupport
import Testing

/// Issue 17, item 4: a real single-node Slurm (scripts/slurm-local.sh, Debian's slurm-wlm and munge) runs
/// `pixelgpt slurm eval --shards 4 --submit`: the job array and the merge job it depends on give the outputs
/// of the one-process run, also when one shard is cancelled mid-way and resubmitted. Needs root and either
/// Slurm installed or apt-get to install it.
@Suite(.serialized, .enabled(if: LocalSlurmCluster.canRun, "needs root and Slurm (or apt-get to install it)"), LocalSlurmCluster())
struct SlurmClusterTests {
    /// The shard the second test cancels: one of two pieces (planned from the fixed data and options below;
    /// the test checks that it has two).
    static let cancelled = 3

    /// A Slurm client command (squeue, scontrol, scancel) run against the local cluster.
    static func slurm(_ command: [String], conf: String) throws -> ProcessResult {
        try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["SLURM_CONF=\(conf)"] + command)
    }

    /// Waits (at most `seconds`) until none of `jobs` is in the queue; false on timeout.
    static func waitUntilGone(_ jobs: [String], conf: String, seconds: Int = 900) throws -> Bool {
        for _ in 0..<(seconds / 2) {
            if try slurm(["squeue", "-h", "-j", jobs.joined(separator: ",")], conf: conf).stdoutText.isEmpty { return true }
            sleep(2)
        }
        return false
    }

    /// `pixelgpt slurm eval` on the shared fixture's options with `environment` added; the two job ids it prints
    /// ("shards job ID", "merge job ID").
    static func submit(_ fixture: LocalSlurmCluster.Fixture, _ options: [String], environment: [String] = []) throws -> [String] {
        let submitted = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["SLURM_CONF=\(fixture.conf)"] + environment
                                       + [BuiltTool.pixelgpt.path, "slurm", "eval"] + fixture.options + options + ["--shards", "4", "--cpus-per-task", "1", "--submit"])
        try #require(submitted.status == 0, "\(submitted.stderr)")
        let ids = submitted.stdoutText.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        try #require(ids.count == 2 && ids.allSatisfy { Int($0) != nil }, "\(submitted.stdoutText)")
        return ids
    }

    static func state(of job: String, conf: String) throws -> String {
        let shown = try slurm(["scontrol", "show", "job", job], conf: conf).stdoutText
        return shown.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("JobState=") }.map { String($0.dropFirst("JobState=".count)) } ?? shown
    }

    /// results.json, the samples and table.md of `output` equal those of the one-process run.
    static func expectOneProcessOutputs(_ output: String, _ fixture: LocalSlurmCluster.Fixture) throws {
        let outputs = try FileManager.default.contentsOfDirectory(atPath: fixture.oneProcess).filter { $0.hasPrefix("samples_") || $0 == "table.md" || $0 == "results.json" }
        #expect(outputs.count == 4)
        for name in outputs {
            #expect(try ShardedEvalCommandTests.contents(output + "/" + name) == (try ShardedEvalCommandTests.contents(fixture.oneProcess + "/" + name)), "\(name)")
        }
    }

    @Test func jobArrayAndMergeGiveTheOneProcessOutputs() throws {
        let fixture = try LocalSlurmCluster.fixture()
        let output = fixture.directory + "/sharded"
        let ids = try Self.submit(fixture, ["--output-dir", output])
        #expect(try Self.waitUntilGone(ids, conf: fixture.conf), "the jobs did not finish in 15 minutes")
        #expect(try Self.state(of: ids[1], conf: fixture.conf) == "COMPLETED")
        try Self.expectOneProcessOutputs(output, fixture)
    }

    /// A shard cancelled with scancel mid-way (the testing hook PIXELGPT_STALL_AFTER_PIECES holds it after its
    /// first piece, so the cancel cannot miss) cancels the waiting merge job; resubmitting it as docs/cluster.md
    /// says (`slurm eval ... --only K --after ARRAY --submit`) resumes after that piece and merges to the same outputs.
    @Test func aCancelledShardResubmittedGivesTheOneProcessOutputs() throws {
        let fixture = try LocalSlurmCluster.fixture()
        let output = fixture.directory + "/cancelled", k = Self.cancelled
        let shardDirectory = output + "/shards/\(k)-of-4", log = output + "/slurm/shard-\(k).log"
        let first = try Self.submit(fixture, ["--output-dir", output], environment: ["PIXELGPT_STALL_AFTER_PIECES=\(k):1"])

        let stallLine = "shard \(k)/4: stalling after 1 pieces (PIXELGPT_STALL_AFTER_PIECES)"
        var waited = 0
        while waited < 600, !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(stallLine) {
            try #require(!FileManager.default.fileExists(atPath: shardDirectory + "/shard.json"), "shard \(k) finished without stalling")
            sleep(1)
            waited += 1
        }
        try #require(waited < 600, "shard \(k) did not stall in 10 minutes")
        let kept = try FileManager.default.contentsOfDirectory(atPath: shardDirectory).filter { $0.hasSuffix(".safetensors") }
        try #require(kept.count == 1, "\(kept)")
        let keptPath = shardDirectory + "/" + kept[0]
        let identity = { (path: String) throws -> [UInt64] in
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let inode = try #require((attributes[.systemFileNumber] as? NSNumber)?.uint64Value)
            let modified = try #require(attributes[.modificationDate] as? Date)
            return [inode, UInt64(modified.timeIntervalSince1970 * 1e6)]
        }
        let before = try identity(keptPath)

        let cancelled = try Self.slurm(["scancel", "\(first[0])_\(k)"], conf: fixture.conf)
        try #require(cancelled.status == 0, "\(cancelled.stderr)")
        #expect(try Self.waitUntilGone(["\(first[0])_\(k)"], conf: fixture.conf, seconds: 60))
        #expect(!FileManager.default.fileExists(atPath: shardDirectory + "/shard.json"))

        // The procedure of docs/cluster.md: resubmit the shard, with a merge that also waits for the rest of the array.
        let second = try Self.submit(fixture, ["--output-dir", output, "--only", "\(k)", "--after", first[0]])
        #expect(try Self.waitUntilGone(first + second, conf: fixture.conf), "the jobs did not finish in 15 minutes")
        // The first merge's dependency (afterok on the array) can never be met: Slurm cancelled it (--kill-on-invalid-dep).
        #expect(try Self.state(of: first[1], conf: fixture.conf) == "CANCELLED")
        #expect(try Self.state(of: second[1], conf: fixture.conf) == "COMPLETED")

        // The resumed shard kept its first piece (same file, not rewritten) and computed only its second.
        #expect(try identity(keptPath) == before)
        let logText = try String(contentsOfFile: log, encoding: .utf8)
        let summary = try #require(logText.split(separator: "\n").last { $0.hasPrefix("shard \(k)/4: ") && $0.contains(" computed now)") }, "\(logText)")
        let numbers = summary.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        // "shard K/4: D rows in P pieces (C computed now) in ...": two pieces, fewer rows computed than the shard holds.
        #expect(numbers.count >= 6 && numbers[3] == 2 && (1..<numbers[2]).contains(numbers[4]), "\(summary)")
        try Self.expectOneProcessOutputs(output, fixture)
    }
}

/// What the suite's tests share, set up once: a local Slurm cluster (stopped, each daemon by its PID, after the
/// last test, with any job still queued cancelled first), a tiny checkpoint and its one-process run on samples/.
struct LocalSlurmCluster: SuiteTrait, TestScoping {
    struct Fixture: Sendable {
        let directory: String
        let conf: String
        /// The eval options every run of the suite uses.
        let options: [String]
        let oneProcess: String
    }

    struct SetupFailure: Error, CustomStringConvertible {
        let description: String
    }

    static let script = PythonReference.repositoryRoot + "/scripts/slurm-local.sh"
    static var canRun: Bool {
        getuid() == 0 && ["/usr/sbin/slurmctld", "/usr/bin/apt-get"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @TaskLocal static var shared: Result<Fixture, SetupFailure>?

    static func fixture() throws -> Fixture {
        try #require(shared, "run inside the suite's LocalSlurmCluster trait").get()
    }

    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard Self.canRun else { return try await function() }
        let dir = try TemporaryDirectory()
        let state = dir.file("slurm"), conf = state + "/slurm.conf"
        let control = { (action: String) in
            try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["PIXELGPT_SLURM_DIR=\(state)", "bash", Self.script, action])
        }
        let started = try control("start")
        defer {
            // Jobs a failed test left behind (a stalled shard) end before their slurmd does.
            let queued = (try? SlurmClusterTests.slurm(["squeue", "-h", "-o", "%i"], conf: conf).stdoutText) ?? ""
            let ids = queued.split(whereSeparator: \.isWhitespace).map(String.init)
            if !ids.isEmpty {
                _ = try? SlurmClusterTests.slurm(["scancel"] + ids, conf: conf)
                _ = try? SlurmClusterTests.waitUntilGone(ids, conf: conf, seconds: 30)
            }
            _ = try? control("stop")
            withExtendedLifetime(dir) {}
        }
        let fixture: Result<Fixture, SetupFailure>
        if started.status != 0 {
            fixture = .failure(SetupFailure(description: "slurm-local.sh start (exit \(started.status)): \(started.stderr)"))
        } else {
            let options = ["--model", dir.file("model"), "--tasks", "rte,xnli_en", "--modality", "pixel", "--data-dir", ShardedEvalCommandTests.samples,
                           "--limit", "16", "--train-limit", "24", "--threads", "1"]
            let created = try BuiltTool.run(["init", "--preset", "tiny", "--seed", "3", dir.file("model")])
            let one = created.status == 0 ? try BuiltTool.run(["eval"] + options + ["--output-dir", dir.file("one")]) : created
            fixture = one.status == 0 ? .success(Fixture(directory: dir.path, conf: conf, options: options, oneProcess: dir.file("one")))
                : .failure(SetupFailure(description: "the one-process run: \(one.stderr)"))
        }
        try await Self.$shared.withValue(fixture) { try await function() }
    }
}
