import Foundation
import SafeTensors
import TestSupport
import Testing

/// The command-line contract (README.md): data on stdout, one-line errors on stderr, exit status.
@Suite struct CommandLineTests {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var executable: URL { BuiltTool.pixelgpt }

    static func run(_ arguments: [String]) throws -> Result {
        let result = try runProcess(executable, arguments)
        return Result(status: result.status, stdout: result.stdoutText, stderr: result.stderr)
    }

    /// Every command of the contract is listed, and nothing else (besides ArgumentParser's help).
    @Test func helpListsTheContractsCommands() throws {
        let help = try Self.run(["--help"])
        #expect(help.status == 0)
        let contract = ["inspect", "convert", "verify", "init", "tokenize", "render", "tasks", "forward", "generate", "eval", "merge", "export", "slurm", "numerics", "bench", "report"]
        for command in contract {
            #expect(help.stdout.contains("  \(command) "), "\(command) is not listed")
        }
        let section = help.stdout.components(separatedBy: "SUBCOMMANDS:").last ?? ""
        // Command lines start with exactly two spaces; wrapped descriptions are indented further.
        let listed = section.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") && !$0.hasPrefix("  See ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(Set(listed).subtracting(contract + ["help"]).isEmpty, "unexpected commands: \(listed)")
    }

    @Test func initThenInspectAsJSON() throws {
        let temporary = try TemporaryDirectory()
        let dir = temporary.path
        let created = try Self.run(["init", "--preset", "tiny", "--seed", "3", dir + "/ckpt"])
        #expect(created.status == 0, "\(created.stderr)")
        let inspected = try Self.run(["inspect", "--json", dir + "/ckpt"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any])
        #expect(json["schema"] as? String == "pixelgpt.inspect")
        #expect(json["version"] as? Int == 1)
        #expect(json["kind"] as? String == "directory")
        let totals = try #require(json["totals"] as? [String: Any])
        #expect(totals["parameters"] as? Int == 4_286_976)
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        #expect(tensors.count == 26)
        #expect(Set(tensors[0].keys) == ["name", "dtype", "shape", "bytes", "parameters", "file", "storage", "data_offsets"])
        let loading = try #require(json["loading"] as? [String: Any])
        #expect(loading["missing"] as? [String] == [])
        #expect(loading["expected"] as? Int == 26)
        let config = try #require(json["config"] as? [String: Any])
        #expect(config["rms_norm_eps"] as? Double == 1e-5)

        let text = try Self.run(["inspect", dir + "/ckpt/model.safetensors"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("total: 26 tensors, 4286976 parameters"))
    }

    @Test func badInputGivesOneLineErrorAndNonZeroExit() throws {
        let temporary = try TemporaryDirectory()
        let dir = temporary.path
        let truncated = dir + "/truncated.safetensors"
        try Data([0x10, 0, 0, 0, 0, 0, 0, 0, 0x7B]).write(to: URL(fileURLWithPath: truncated))
        for (arguments, needle) in [
            (["inspect", truncated], "truncated.safetensors: header length 16 runs past the end"),
            (["inspect", dir], "no weights found"),
            (["inspect", dir + "/nope.safetensors"], "no such file"),
        ] {
            let result = try Self.run(arguments)
            #expect(result.status != 0)
            #expect(result.stdout.isEmpty)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(result.stderr.contains(needle), "\(result.stderr)")
        }
        let existing = try Self.run(["init", "--preset", "tiny", dir])
        #expect(existing.status != 0)
        #expect(existing.stderr.contains("not empty"))
    }
}

@Suite struct BenchCommandTests {
    @Test func reportsThroughputAgainstSGEMM() throws {
        let result = try CommandLineTests.run(["bench", "--preset", "tiny", "--batch", "1", "--seq", "16", "--repeats", "1", "--threads", "1", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["schema"] as? String == "pixelgpt.bench" && json["version"] as? Int == 3)
        #expect(["avx512", "avx2", "scalar"].contains(json["gemm_instruction_set"] as? String ?? ""))
        #expect((json["gflop_per_second"] as? Double ?? 0) > 0 && (json["sgemm_gflop_per_second"] as? Double ?? 0) > 0)
        #expect(json["sequence_length"] as? Int == 16)
        let kernels = try #require(json["kernel_seconds"] as? [String: Double])
        #expect(Set(kernels.keys).isSuperset(of: ["linear", "attention", "rmsNorm", "rotary", "swiGLU", "other"]))
        let bad = try CommandLineTests.run(["bench", "--batch", "0"])
        #expect(bad.status != 0 && bad.stderr.split(separator: "\n").count == 1)
    }
}

@Suite struct InvarianceCommandTests {
    /// `pixelgpt numerics invariance` on a tiny checkpoint: every output identical (exit 0), the JSON report
    /// names what it compared; bad lists are one-line errors.
    @Test func reportsEveryOutputIdentical() throws {
        let dir = try TemporaryDirectory()
        let model = dir.file("tiny")
        #expect(try CommandLineTests.run(["init", "--preset", "tiny", "--num-labels", "2", model]).status == 0)
        let result = try CommandLineTests.run(["numerics", "invariance", "--model", model, "--threads", "1,2", "--batch-sizes", "1,3", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["schema"] as? String == "pixelgpt.invariance" && json["passed"] as? Bool == true)
        #expect(json["threads"] as? [Int] == [1, 2] && json["batch_sizes"] as? [Int] == [1, 3])
        let findings = try #require(json["findings"] as? [[String: Any]])
        let outputs = Set(findings.map { "\($0["modality"] as? String ?? "") \($0["output"] as? String ?? "")" })
        #expect(outputs.isSuperset(of: ["text pooled_logits", "pixel last_hidden_state", "pair hidden_states.2", "text causal prefix (hidden states)"]))
        #expect(findings.allSatisfy { $0["identical"] as? Bool == true && ($0["comparisons"] as? Int ?? 0) > 0 })
        for bad in [["--threads", "0"], ["--batch-sizes", "2,x"]] {
            let refused = try CommandLineTests.run(["numerics", "invariance", "--model", model] + bad)
            #expect(refused.status != 0 && refused.stderr.split(separator: "\n").count == 1, "\(bad): \(refused.stderr)")
        }
    }
}
