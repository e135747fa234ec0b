import Foundation
import SafeTensors
import TestSupport
import Testing

/// Inputs made to hurt (issue "Hostile inputs"): each must end in a one-line error and exit status 1,
/// never a trap, a hang, unbounded memory or a file written where it does not belong.
@Suite struct HostileInputTests {
    /// Runs the tool under a 4 GB address-space cap and a time limit, so that a regression fails the test
    /// (a crash, or status 124 from timeout) instead of filling a shared machine's memory or hanging.
    static func run(_ arguments: [String], environment: [String] = [], seconds: Int = 60) throws -> CommandLineTests.Result {
        let script = "ulimit -v 4000000; exec /usr/bin/timeout -s KILL \(seconds) /usr/bin/env \"$@\""
        let result = try runProcess(URL(fileURLWithPath: "/bin/sh"),
                                    ["-c", script, "sh"] + environment + [CommandLineTests.executable.path] + arguments)
        return CommandLineTests.Result(status: result.status, stdout: result.stdoutText, stderr: result.stderr)
    }

    static func expectOneLineError(_ result: CommandLineTests.Result, containing needles: [String],
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, "status \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        // Progress lines ("loaded ... in 0.02 s") may come first; the error is one line, and the last.
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("error: ") }.count == 1 && lines.last?.hasPrefix("error: ") == true,
                "\(result.stderr)", sourceLocation: sourceLocation)
        let error = lines.last.map(String.init) ?? ""
        for needle in needles {
            #expect(error.contains(needle), "no \"\(needle)\" in: \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    static func tinyCheckpoint(_ dir: TemporaryDirectory, _ name: String = "tiny") throws -> String {
        let path = dir.file(name)
        let created = try CommandLineTests.run(["init", "--preset", "tiny", path])
        #expect(created.status == 0, "\(created.stderr)")
        return path
    }

    static func writeInputIds(_ path: String, shape: [Int]) throws {
        let count = shape.reduce(1, *)
        let bytes = (0..<count).flatMap { withUnsafeBytes(of: Int64(5 + $0 % 7).littleEndian, Array.init) }
        _ = try SafeTensorsWriter.write([TensorRecord(name: "input_ids", dtype: .i64, shape: shape, payload: .bytes(bytes))], to: path)
    }

    /// config.json rewritten with `edit` applied to its text.
    static func editConfig(_ model: String, _ edit: (String) -> String) throws {
        let path = model + "/config.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let edited = edit(text)
        #expect(edited != text)
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Item 3: `forward --out` onto the checkpoint's own weights or config, or onto --inputs, replaced
    /// them with exit 0; through a symlink too.
    @Test func forwardRefusesToWriteOverItsOwnInputs() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.tinyCheckpoint(dir)
        let inputs = dir.file("inputs.safetensors")
        try Self.writeInputIds(inputs, shape: [1, 4])
        let link = dir.file("link.safetensors")
        #expect(symlink(model + "/model.safetensors", link) == 0)
        let weights = try Data(contentsOf: URL(fileURLWithPath: model + "/model.safetensors"))
        let inputBytes = try Data(contentsOf: URL(fileURLWithPath: inputs))
        for (out, named) in [(model + "/model.safetensors", "model.safetensors"), (inputs, "--inputs"),
                             (link, "model.safetensors"), (model + "/config.json", "config.json"),
                             (dir.path + "/tiny/../inputs.safetensors", "--inputs")] {
            let result = try Self.run(["forward", "--model", model, "--inputs", inputs, "--out", out])
            Self.expectOneLineError(result, containing: ["--out", named])
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: model + "/model.safetensors")) == weights)
        #expect(try Data(contentsOf: URL(fileURLWithPath: inputs)) == inputBytes)
        // A new path beside them is fine.
        let fine = try Self.run(["forward", "--model", model, "--inputs", inputs, "--out", dir.file("out.safetensors")])
        #expect(fine.status == 0, "\(fine.stderr)")
    }

    /// Item 6: an 800 KB input_ids [100000, 1] made forward allocate 12.8 GB of token logits.
    @Test func forwardRefusesInputsPastTheMemoryLimit() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.tinyCheckpoint(dir)
        let inputs = dir.file("inputs.safetensors")
        try Self.writeInputIds(inputs, shape: [100_000, 1])
        let out = dir.file("out.safetensors")
        let result = try Self.run(["forward", "--model", model, "--inputs", inputs, "--out", out])
        Self.expectOneLineError(result, containing: ["input_ids", "batch 100000", "ResourceLimits.maxForwardBytes"])
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// Item 6: `bench --batch 100000 --seq 100000` asked for 80 GB after writing its temporary checkpoint,
    /// which the crash then left behind.
    @Test func benchRefusesSizesPastTheLimitBeforeWritingAnything() throws {
        let dir = try TemporaryDirectory()
        let result = try Self.run(["bench", "--batch", "100000", "--seq", "100000"], environment: ["TMPDIR=\(dir.path)/"])
        Self.expectOneLineError(result, containing: ["--batch 100000", "ResourceLimits"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [])
        let huge = try Self.run(["bench", "--batch", "9223372036854775807", "--seq", "9223372036854775807"], environment: ["TMPDIR=\(dir.path)/"])
        Self.expectOneLineError(huge, containing: ["ResourceLimits"])
    }

    /// Items 5, 6 and 15: config.json sizes that overflowed Int (SIGILL in inspect) or grew memory without
    /// end, rope_theta 0, and a repeated key (JSONDecoder took the first, Python's json takes the last).
    @Test func inspectRefusesHostileConfigsNamingTheKey() throws {
        let dir = try TemporaryDirectory()
        for (index, (edit, needles)) in [
            ({ (t: String) in t.replacingOccurrences(of: "\"hidden_size\" : 64", with: "\"hidden_size\" : 4294967296") }, ["hidden_size", "ResourceLimits.maxHiddenSize"]),
            ({ (t: String) in t.replacingOccurrences(of: "\"intermediate_size\" : 176", with: "\"intermediate_size\" : 4294967296") }, ["intermediate_size", "ResourceLimits"]),
            ({ (t: String) in t.replacingOccurrences(of: "\"num_hidden_layers\" : 2", with: "\"num_hidden_layers\" : 100000000") }, ["num_hidden_layers", "ResourceLimits.maxLayers"]),
            ({ (t: String) in t.replacingOccurrences(of: "\"rope_theta\" : 10000", with: "\"rope_theta\" : 0") }, ["rope_theta"]),
            ({ (t: String) in t.replacingOccurrences(of: "\"hidden_size\" : 64,", with: "\"hidden_size\" : 64, \"hidden_size\" : 128,") }, ["hidden_size", "more than once"]),
        ].enumerated() {
            let model = try Self.tinyCheckpoint(dir, "m\(index)")
            try Self.editConfig(model, edit)
            Self.expectOneLineError(try Self.run(["inspect", model]), containing: ["config.json"] + needles)
        }
    }

    /// Item 5: a shard size past Int.max trapped converting Double to Int.
    @Test func convertRefusesAShardSizePastInt() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.tinyCheckpoint(dir)
        for size in ["9223372036854775807KB", "1e300GB", "inf MB"] {
            let result = try Self.run(["convert", model, dir.file("out-\(size.count)"), "--max-shard-size", size])
            Self.expectOneLineError(result, containing: ["--max-shard-size"])
        }
    }

    /// Item 8: a FIFO in place of the weights, config or inputs blocked forever in open(2).
    @Test func refusesFIFOsInsteadOfBlocking() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.tinyCheckpoint(dir)
        let inputs = dir.file("inputs.safetensors")
        #expect(mkfifo(inputs, 0o600) == 0)
        let forward = try Self.run(["forward", "--model", model, "--inputs", inputs, "--out", dir.file("out.safetensors")], seconds: 20)
        Self.expectOneLineError(forward, containing: [inputs, "not a regular file"])
        for file in ["model.safetensors", "config.json"] {
            let broken = try Self.tinyCheckpoint(dir, "broken-\(file)")
            try FileManager.default.removeItem(atPath: broken + "/" + file)
            #expect(mkfifo(broken + "/" + file, 0o600) == 0)
            let inspect = try Self.run(["inspect", broken], seconds: 20)
            Self.expectOneLineError(inspect, containing: [broken + "/" + file, "not a regular file"])
        }
    }

    /// Item 2: `pixelgpt tasks` accepted a task named with a path, which eval then wrote outside --output-dir.
    @Test func tasksRefusesATaskNameWithAPath() throws {
        let dir = try TemporaryDirectory()
        let rte = try String(contentsOfFile: PythonReference.repositoryRoot + "/tasks/glue/rte.yaml", encoding: .utf8)
        let path = dir.file("evil.yaml")
        try rte.replacingOccurrences(of: "task: rte\n", with: "task: x/../../../../victimdir/victim\n").write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Self.run(["tasks", "--tasks-dir", dir.path])
        Self.expectOneLineError(result, containing: [path, "task:", "plain name"])
    }

    /// Item 13: an empty, header-only, binary or all-bad-label dev.tsv warned and exited 0 with `metrics {}`.
    /// A requested task that evaluates nothing fails the run with one line naming the file.
    @Test func evalOfADataFileWithNoReadableRowFails() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.tinyCheckpoint(dir)
        let header = "index\tsentence1\tsentence2\tlabel\n"
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "no data row"),
            ("header", Array(header.utf8), "no data row"),
            ("binary", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF, 0x1B, 0x5B], "unreadable"),
            ("labels", Array((header + "0\tA.\tB.\tmaybe\n1\tC.\tD.\tperhaps\n").utf8), "label \"maybe\" is not one of"),
        ]
        for (name, bytes, needle) in cases {
            let data = dir.file("data-\(name)")
            try FileManager.default.createDirectory(atPath: data + "/glue/RTE", withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: data + "/glue/RTE/dev.tsv"))
            let output = dir.file("out-\(name)")
            let result = try Self.run(["eval", "--model", model, "--tasks", "rte", "--modality", "pixel", "--data-dir", data,
                                       "--output-dir", output, "--limit", "4"])
            Self.expectOneLineError(result, containing: [data + "/glue/RTE/dev.tsv", "rte", "evaluates nothing", needle])
            #expect(!result.stderr.contains("\u{1B}"), "\(name): raw escape on stderr")
            // results.json still says what happened.
            let results = try String(contentsOfFile: output + "/results.json", encoding: .utf8)
            #expect(results.contains("evaluates nothing"), "\(name)")
        }
    }

    /// Minor item: `.NAME.tmp-PID-N` leftovers of a convert stopped by SIGINT were never cleaned. The next
    /// conversion to the same destination removes those of dead processes (and leaves a live one's alone).
    @Test func convertRemovesWhatAnInterruptedConvertLeft() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.tinyCheckpoint(dir)
        let destination = dir.file("out")
        let process = Process()
        // The test runner may ignore or block SIGINT, which stays so through exec: the child gets
        // the default disposition and an unblocked SIGINT before it becomes the tool (same PID).
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT]); os.execv(sys.argv[1], sys.argv[1:])",
                             CommandLineTests.executable.path, "convert", model, destination, "--format", "hdf5", "--gzip", "9"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        func leftovers() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".out.tmp-") }.sorted() }
        var interrupted = false
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline {
            if try !leftovers().isEmpty {
                interrupted = kill(process.processIdentifier, SIGINT) == 0
                break
            }
            usleep(1000)
        }
        process.waitUntilExit()
        try #require(interrupted && process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT,
                     "convert ended before it could be interrupted (status \(process.terminationStatus))")
        let stale = try leftovers()
        #expect(stale.count == 1)  // the symptom: the staging directory stays
        // A temporary of a process that is alive (this one) is not touched.
        let live = dir.file(".out.tmp-\(getpid())-7")
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: false)
        let again = try Self.run(["convert", model, destination])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try leftovers() == [".out.tmp-\(getpid())-7"])
    }

    /// Minor items: inspect printed raw escape sequences from names and metadata; a tokenizer FIFO blocked;
    /// both model.safetensors and model.h5 in one directory silently used the first; an out-of-range
    /// sequence_length passed `pixelgpt tasks`.
    @Test func smallHostileInputsAreOneLineErrorsOrEscaped() throws {
        let dir = try TemporaryDirectory()
        let file = dir.file("names.safetensors")
        _ = try SafeTensorsWriter.write([TensorRecord(name: "\u{1B}[31mred\nfake line", dtype: .f32, shape: [1], payload: .float32([1]))],
                                        metadata: ["note": "\u{1B}]0;title\u{07}", "\u{202E}key": "v"], to: file)
        let inspect = try Self.run(["inspect", file])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(!inspect.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E }, "\(inspect.stdout)")
        #expect(inspect.stdout.contains("\\u{1B}[31mred\\u{A}fake line") && inspect.stdout.contains("\\u{202E}key=v"), "\(inspect.stdout)")

        let fifo = dir.file("tokenizer.model")
        #expect(mkfifo(fifo, 0o600) == 0)
        let tokenize = try Self.run(["tokenize", "--tokenizer", fifo, "--text", "hi"], seconds: 20)
        Self.expectOneLineError(tokenize, containing: [fifo, "not a regular file"])

        let model = try Self.tinyCheckpoint(dir)
        try Data("not read".utf8).write(to: URL(fileURLWithPath: model + "/model.h5"))
        let both = try Self.run(["inspect", model])
        Self.expectOneLineError(both, containing: [model, "model.safetensors", "model.h5"])

        let rte = try String(contentsOfFile: PythonReference.repositoryRoot + "/tasks/glue/rte.yaml", encoding: .utf8)
        let tasks = dir.file("tasks")
        try FileManager.default.createDirectory(atPath: tasks, withIntermediateDirectories: true)
        let yaml = rte.replacingOccurrences(of: "sequence_length: {text: 768,", with: "sequence_length: {text: 100000000,")
        #expect(yaml != rte)
        try yaml.write(toFile: tasks + "/rte.yaml", atomically: true, encoding: .utf8)
        let listed = try Self.run(["tasks", "--tasks-dir", tasks])
        Self.expectOneLineError(listed, containing: [tasks + "/rte.yaml", "pixelgpt.sequence_length", "100000000", "131072"])
    }
}
