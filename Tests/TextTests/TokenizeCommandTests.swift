import Foundation
import Testing
@testable import Text

/// `pixelgpt tokenize`, run as a process: ids on stdout, one-line errors with file and line on stderr,
/// non-zero exit on bad input (README.md, command-line contract).
@Suite struct TokenizeCommandTests {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        let result = try BuiltTool.run(arguments)
        return Result(status: result.status, stdout: result.stdoutText, stderr: result.stderr)
    }

    static let model = TextFixtures.path("tiny_llama_like.model")

    /// The error line of stderr (the tool logs a load line before it on success paths).
    static func errorLines(_ result: Result) -> [Substring] {
        result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
    }

    @Test func textAndPairPrintIds() throws {
        let tokenizer = try TextFixtures.tokenizer("tiny_llama_like.model")
        let single = try Self.run(["tokenize", "--tokenizer", Self.model, "--text", "The cat sat."])
        #expect(single.status == 0, "\(single.stderr)")
        #expect(single.stdout == tokenizer.encode("The cat sat.").map(String.init).joined(separator: " ") + "\n")

        let pair = try Self.run(["tokenize", "--tokenizer", Self.model, "--text", "The cat sat.", "--pair", "A dog.", "--json"])
        #expect(pair.status == 0, "\(pair.stderr)")
        let json = try #require(try parseJSON(Array(pair.stdout.utf8)) as? [String: Any])
        let expected = try PixelGPTTextInputs(tokenizer: tokenizer).encode("The cat sat.", pair: "A dog.")
        #expect((json["ids"] as? [Int])?.map(Int32.init) == expected)
        #expect(json["pieces"] as? [String] == tokenizer.pieces(expected))

        let truncated = try Self.run(["tokenize", "--tokenizer", Self.model, "--text", "The cat sat on the mat.", "--pair", "A dog.", "--max-length", "5"])
        #expect(truncated.status == 0)
        #expect(truncated.stdout.split(separator: " ").count == 5)
    }

    /// JSON lines in, one {"ids": [...]} line per input out, in order; ids are the reference's (goldens),
    /// including texts that start with U+FEFF, which Foundation's JSON parsers would drop.
    @Test func inputFileGivesReferenceIdsInOrder() throws {
        let goldens = try TextFixtures.goldens("tiny_llama_like_golden.json")
        #expect(goldens.contains { $0.text.hasPrefix("\u{FEFF}") })
        let dir = try TemporaryDirectory()
        var lines = ""
        for golden in goldens {
            lines += #"{"text": "\#(Self.escaped(golden.text))"}"# + "\n"
        }
        lines += #"{"text": "left", "text_pair": "right"}"# + "\n"
        try lines.write(toFile: dir.file("in.jsonl"), atomically: true, encoding: .utf8)
        let result = try Self.run(["tokenize", "--tokenizer", Self.model, "--input", dir.file("in.jsonl")])
        #expect(result.status == 0, "\(result.stderr)")
        let outputs = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(outputs.count == goldens.count + 1)
        for (line, golden) in zip(outputs, goldens) {
            let ids = try #require(try parseJSON(Array(line.utf8)) as? [String: Any])["ids"] as? [Int]
            #expect(ids?.map(Int32.init) == golden.ids, "\(golden.text.debugDescription)")
        }
        let tokenizer = try TextFixtures.tokenizer("tiny_llama_like.model")
        #expect(outputs.last == Substring("{\"ids\":[" + (try PixelGPTTextInputs(tokenizer: tokenizer).encode("left", pair: "right")).map(String.init).joined(separator: ",") + "]}"))
    }

    /// JSON string escaping for the test's own input file.
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    @Test func badInputsFailWithFileAndLine() throws {
        let dir = try TemporaryDirectory()
        let invalid = Data("{\"text\": \"fine\"}\n{\"text\": \"bad ".utf8) + Data([0xC3, 0x28]) + Data("\"}\n".utf8)
        #expect(FileManager.default.createFile(atPath: dir.file("invalid.jsonl"), contents: invalid))
        try "{\"text\": \"a\"}\n\n{\"pair\": \"b\"}\n".write(toFile: dir.file("notext.jsonl"), atomically: true, encoding: .utf8)
        try "this is not a sentencepiece model\n".write(toFile: dir.file("bogus.model"), atomically: true, encoding: .utf8)
        try "{\"text\": \"a\"}\n".write(toFile: dir.file("ok.jsonl"), atomically: true, encoding: .utf8)

        let cases: [([String], String)] = [
            (["--tokenizer", Self.model, "--input", dir.file("invalid.jsonl")], dir.file("invalid.jsonl") + ":2: invalid UTF-8"),
            (["--tokenizer", Self.model, "--input", dir.file("notext.jsonl")], dir.file("notext.jsonl") + ":3: JSON line has no \"text\""),
            (["--tokenizer", dir.file("bogus.model"), "--input", dir.file("ok.jsonl")], dir.file("bogus.model") + ": not a SentencePiece model"),
            (["--tokenizer", dir.path, "--text", "x"], dir.path + ": directory holds neither"),
            (["--tokenizer", Self.model, "--input", dir.file("missing.jsonl")], dir.file("missing.jsonl") + ": cannot open"),
        ]
        for (arguments, message) in cases {
            let result = try Self.run(["tokenize"] + arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stdout.isEmpty, "no partial output")
            let errors = Self.errorLines(result)
            #expect(errors.count == 1 && errors.first?.hasPrefix("error: " + message) == true, "\(result.stderr)")
        }
        let usage = try Self.run(["tokenize", "--tokenizer", Self.model, "--text", "a", "--input", dir.file("ok.jsonl")])
        #expect(usage.status != 0 && usage.stdout.isEmpty)
    }

    @Test func checkpointDirectoryWithTokenizerJSON() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.copyItem(atPath: TextFixtures.path("tiny_llama_like.json"), toPath: dir.file("tokenizer.json"))
        let viaDirectory = try Self.run(["tokenize", "--tokenizer", dir.path, "--text", "a<mask>b"])
        let viaModel = try Self.run(["tokenize", "--tokenizer", Self.model, "--text", "a<mask>b"])
        #expect(viaDirectory.status == 0 && viaModel.status == 0, "\(viaDirectory.stderr)")
        #expect(viaDirectory.stdout == viaModel.stdout && !viaModel.stdout.isEmpty)
    }
}
