import Foundation
import TestSupport
import Testing

/// Issue 18: `tasks --data-dir` shows which splits a data directory holds; usage errors are one line and a
/// hint, as runtime errors are one line; `numerics make-probe`'s help says what the command takes (item 8).
@Suite struct CommandSurfaceTests {
    @Test func tasksShowsWhichSplitsADataDirectoryHolds() throws {
        let dir = try TemporaryDirectory()
        for file in ["glue/RTE/dev.tsv", "glue/RTE/test.tsv", "xnli/dev-en.tsv", "xnli/test-unlabeled/test-en.tsv", "rendered_glue/rte-test/part-00000.gz"] {
            try FileManager.default.createDirectory(atPath: (dir.file(file) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: dir.file(file), contents: Data()))
        }
        let text = try CommandLineTests.run(["tasks", "--data-dir", dir.path])
        #expect(text.status == 0, "\(text.stderr)")
        func row(_ task: String) -> [String] {
            text.stdout.split(separator: "\n").first { $0.hasPrefix(task + " ") }.map { $0.split(separator: " ").map(String.init) } ?? []
        }
        #expect(row("rte") == ["rte", "missing", "present", "present", "test"], "\(text.stdout)")
        #expect(row("xnli_en") == ["xnli_en", "missing", "present", "unlabeled", "none"], "\(text.stdout)")
        #expect(row("ax") == ["ax", "-", "-", "missing", "none"], "\(text.stdout)")
        #expect(text.stdout.contains("26 tasks; 0 with every split's data file present"), "\(text.stdout)")

        let json = try CommandLineTests.run(["tasks", "--data-dir", dir.path, "--json"])
        let listing = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(listing["data_directory"] as? String == dir.path)
        let rte = try #require((listing["tasks"] as? [[String: Any]])?.first { $0["task"] as? String == "rte" })
        #expect(rte["data"] as? [String: String] == ["train": "missing", "validation": "present", "test": "present"])
        #expect(rte["rendered"] as? [String: String] == ["train": "missing", "validation": "missing", "test": "present"])
        let plain = try CommandLineTests.run(["tasks", "--json"])
        #expect(!plain.stdout.contains("\"data\"") && !plain.stdout.contains("data_directory"), "without --data-dir the listing is as before")

        let missing = try CommandLineTests.run(["tasks", "--data-dir", dir.file("nope")])
        #expect(missing.status == 1 && missing.stdout.isEmpty && missing.stderr == "error: --data-dir \(dir.file("nope")): no such directory\n", "\(missing.stderr)")
    }

    /// ArgumentParser printed a usage error as "Error: ...", the option's help, the usage and a "See" line.
    @Test func usageErrorsAreOneLineAndAHint() throws {
        let cases: [([String], String, String)] = [
            (["eval", "--model", "m", "--tasks", "rte", "--modality", "pixel", "--bogus"], "Unknown option '--bogus'", "pixelgpt help eval"),
            (["eval", "--model", "m", "--tasks", "rte", "--modality", "pixel", "--limit"], "Missing value for '--limit <limit>'", "pixelgpt help eval"),
            (["eval", "--model", "m", "--tasks", "rte", "--modality", "sound"], "The value 'sound' is invalid for '--modality <modality>'", "pixelgpt help eval"),
            (["tokenize", "--tokenizer", "t", "--text", "a", "--input", "b"], "give exactly one of --text and --input", "pixelgpt help tokenize"),
            (["export", "glue", "run"], "Missing expected argument '--out <out>'", "pixelgpt help export glue"),
            (["tasks", "--data-dir"], "Missing value for '--data-dir <data-dir>'", "pixelgpt help tasks"),
            (["exprot"], "Unexpected argument 'exprot'", "pixelgpt help`"),
        ]
        for (arguments, message, hint) in cases {
            let result = try CommandLineTests.run(arguments)
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            #expect(result.status == 64 && result.stdout.isEmpty, "\(arguments): \(result.status) \(result.stderr)")
            #expect(lines.count == 2, "\(arguments): \(result.stderr)")
            #expect(lines.first == "error: " + message || (lines.first?.hasPrefix("error: " + message) == true), "\(arguments): \(result.stderr)")
            #expect(lines.last?.hasPrefix("hint: see `") == true && lines.last?.contains(hint) == true, "\(arguments): \(result.stderr)")
        }
        // Help and the version still go to stdout with status 0; a runtime error stays one line with status 1.
        let help = try CommandLineTests.run(["export", "glue", "--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: pixelgpt export glue") && help.stderr.isEmpty)
        #expect(try CommandLineTests.run(["--version"]).stdout.hasPrefix("0."))
        let runtime = try CommandLineTests.run(["inspect", "/nonexistent.safetensors"])
        #expect(runtime.status == 1 && runtime.stderr.split(separator: "\n").count == 1, "\(runtime.stderr)")
    }

    /// Item 8: the help promised a probe written "from its texts", which the command takes no option for.
    /// It now lists the built-in texts, and the file written names the same languages.
    @Test(.enabled(if: TestData.hasData)) func makeProbeHelpNamesTheTextsItWrites() throws {
        let help = try CommandLineTests.run(["help", "numerics", "make-probe"])
        #expect(help.status == 0 && help.stdout.contains("not an input") && help.stdout.contains("numerics record --probe"), "\(help.stdout)")
        let flat = help.stdout.replacingOccurrences(of: "\n", with: " ")
        let dir = try TemporaryDirectory()
        let made = try CommandLineTests.run(["numerics", "make-probe", "--tokenizer", TestData.llamaTokenizer, "--out", dir.file("p.safetensors")])
        #expect(made.status == 0, "\(made.stderr)")
        let languages = try #require(made.stderr.firstMatch(of: /4 texts \(([a-z, ]+)\)/)).1.split(separator: ", ")
        #expect(languages == ["en", "ru", "ar", "zh"])
        for language in languages { #expect(flat.contains("\(language) \""), "\(language) not in: \(flat)") }
        #expect(flat.contains("The quick brown fox jumps over the lazy dog."))
        let options = help.stdout.components(separatedBy: "OPTIONS:").last ?? ""
        #expect(!options.contains("--text"), "no option takes texts")
    }
}
