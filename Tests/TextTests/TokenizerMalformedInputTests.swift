import Foundation
import Testing
@testable import Text

/// Bad tokenizer files and bad JSON-lines inputs give one-line errors naming the file and line.
@Suite struct TokenizerMalformedInputTests {
    func error<T>(_ body: () throws -> T) -> TokenizerError? {
        do {
            _ = try body()
            return nil
        } catch let error as TokenizerError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func notASentencePieceModel() throws {
        let dir = try TemporaryDirectory()
        let cases: [(String, [UInt8])] = [
            ("text.model", Array("hello world, this is not a model\n".utf8)),
            ("empty.model", []),
            ("truncated.model", Array(try Data(contentsOf: URL(fileURLWithPath: TextFixtures.path("tiny_llama_like.model"))).prefix(5000))),
            ("png.model", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]),
            ("garbage.json", Array("{\"model\": 3}".utf8)),
            ("broken.json", Array("{\"model\": {".utf8)),
        ]
        for (name, bytes) in cases {
            #expect(FileManager.default.createFile(atPath: dir.file(name), contents: Data(bytes)))
            let failure = error { try SentencePieceTokenizer(contentsOf: dir.file(name)) }
            #expect(failure != nil, "\(name) loaded")
            #expect(failure?.description.hasPrefix(dir.file(name) + ": ") == true, "\(failure?.description ?? "")")
            #expect(failure?.description.contains("\n") == false)
        }
        #expect(error { try SentencePieceTokenizer(contentsOf: dir.file("missing.model")) }?.problem == .cannotOpen("no such file or directory"))
        #expect(error { try SentencePieceTokenizer(contentsOf: dir.path) }?.problem == .noTokenizerInDirectory)
    }

    @Test func unsupportedModelTypeIsNamed() throws {
        // A unigram model: same wire format, model_type 1.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TextFixtures.path("tiny_variants.model"))))
        var model = try SentencePieceModel(protobuf: bytes, path: "tiny_variants.model")
        #expect(model.modelType == .bpe)
        // Find the TrainerSpec's model_type field (tag 0x18, value 2) and make it 1.
        let tag = bytes.firstIndex(of: 0x18).map { $0 }
        if let tag, bytes[tag + 1] == 2 {
            bytes[tag + 1] = 1
            let failure = error { try SentencePieceModel(protobuf: bytes, path: "u.model") }
            #expect(failure?.description.contains("only BPE") == true, "\(failure?.description ?? "")")
        }
        model.pieces.removeAll()
        #expect(throws: TokenizerError.self) { try model.validate(path: "x") }
    }

    @Test func handBuiltModelsAreValidated() throws {
        var model = SentencePieceModel(pieces: [
            .init("<unk>", score: 0, type: .unknown), .init("<s>", score: 0, type: .control), .init("</s>", score: 0, type: .control),
            .init("\u{2581}", score: -1, type: .normal), .init("a", score: -2, type: .normal), .init("\u{2581}a", score: -0.5, type: .normal),
        ])
        #expect(throws: TokenizerError.self) { try SentencePieceTokenizer(model: model) }  // unigram by default
        model.modelType = .bpe
        #expect(try SentencePieceTokenizer(model: model).vocabularySize == 6)
        var noUnknown = model
        noUnknown.pieces[0].type = .normal
        #expect(throws: TokenizerError.self) { try SentencePieceTokenizer(model: noUnknown) }
        var duplicate = model
        duplicate.pieces[4].text = "<s>"
        #expect(throws: TokenizerError.self) { try SentencePieceTokenizer(model: duplicate) }
        var missingBytes = model
        missingBytes.byteFallback = true
        #expect(throws: TokenizerError.self) { try SentencePieceTokenizer(model: missingBytes) }
    }

    @Test func jsonLinesErrorsNameTheLine() {
        let cases: [(String, [UInt8], Int, TokenizerError.Problem?)] = [
            ("missing text", Array("{\"text\": \"ok\"}\n{\"text_pair\": \"b\"}\n".utf8), 2, .missingText),
            ("invalid UTF-8", Array("{\"text\": \"ok\"}\n\n{\"text\": \"a".utf8) + [0xFF, 0xFE] + Array("\"}\n".utf8), 3, .invalidUTF8(byteOffset: 11)),
            ("not JSON", Array("{\"text\": \"ok\"}\nnot json\n".utf8), 2, nil),
            ("not an object", Array("[1, 2]\n".utf8), 1, nil),
            ("text not a string", Array("{\"text\": 5}\n".utf8), 1, .notAString(key: "text")),
            ("pair not a string", Array("{\"text\": \"a\", \"text_pair\": [1]}\n".utf8), 1, .notAString(key: "text_pair")),
            ("truncated object", Array("{\"text\": \"a\"".utf8), 1, nil),
            ("two values", Array("{\"text\": \"a\"} {\"text\": \"b\"}\n".utf8), 1, nil),
        ]
        for (label, bytes, line, problem) in cases {
            let failure = error { try TokenizationRequest.parseJSONLines(bytes, path: "in.jsonl") }
            #expect(failure?.line == line, "\(label): \(failure?.description ?? "no error")")
            #expect(failure?.description.hasPrefix("in.jsonl:\(line): ") == true, "\(label)")
            if let problem { #expect(failure?.problem == problem, "\(label)") }
        }
    }

    @Test func jsonLinesReadInOrder() throws {
        let text = "{\"text\": \"a\"}\r\n\n  \n{\"text\": \"b\\u00e9\", \"text_pair\": \"c\"}\n{\"text\": \"\", \"text_pair\": null}"
        let requests = try TokenizationRequest.parseJSONLines(Array(text.utf8), path: "in.jsonl")
        #expect(requests == [TokenizationRequest(text: "a"), TokenizationRequest(text: "b\u{e9}", textPair: "c"), TokenizationRequest(text: "")])
    }

    /// Hostile inputs, minor item: json-c turned a lone surrogate escape into U+FFFD where render --input
    /// refuses the line; both refuse it now. Pairs and an escaped backslash before "u" are not escapes of one.
    @Test func unpairedSurrogateEscapesAreRefusedLikeRenderInput() throws {
        for line in [#"{"text": "a\ud800b"}"#, #"{"text": "\udc00"}"#, #"{"text": "ok", "text_pair": "\ud83d\u0041"}"#, #"{"text": "\\\ud800"}"#] {
            let failure = error { try TokenizationRequest.parseJSONLines(Array((#"{"text": "fine"}"# + "\n" + line + "\n").utf8), path: "in.jsonl") }
            #expect(failure?.description.hasPrefix("in.jsonl:2: ") == true && failure?.description.contains("unpaired \\uD800-\\uDFFF surrogate escape") == true,
                    "\(line): \(String(describing: failure))")
        }
        let fine = try TokenizationRequest.parseJSONLines(Array(#"{"text": "\ud83d\ude00 \\ud800 \u00e9"}"#.utf8), path: "in.jsonl")
        #expect(fine == [TokenizationRequest(text: "😀 \\ud800 é")])
    }
}
