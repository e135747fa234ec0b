import Foundation
import Testing
@testable import Text

/// tokenizer.json (Hugging Face form) and tokenizer.model give the same model and the same ids.
@Suite struct TokenizerJSONTests {
    /// Same pieces (as bytes), types and special ids; scores may differ but must order merge results alike.
    static func expectSameModel(_ json: SentencePieceModel, _ proto: SentencePieceModel) {
        #expect(json.pieces.count == proto.pieces.count)
        #expect(json.pieces.map { Array($0.text.utf8) } == proto.pieces.map { Array($0.text.utf8) })
        #expect(json.pieces.map(\.type) == proto.pieces.map(\.type))
        #expect(json.byteFallback == proto.byteFallback && json.addDummyPrefix == proto.addDummyPrefix)
        #expect(json.escapeWhitespaces == proto.escapeWhitespaces && json.removeExtraWhitespaces == proto.removeExtraWhitespaces)
        #expect(json.beginOfSequenceID == proto.beginOfSequenceID && json.endOfSequenceID == proto.endOfSequenceID)
    }

    @Test func tinyModelAndItsJSONAgree() throws {
        let proto = try TextFixtures.tokenizer("tiny_llama_like.model")
        let json = try TextFixtures.tokenizer("tiny_llama_like.json")
        Self.expectSameModel(json.model, proto.model)
        // Both against the reference ids, not only against each other.
        let goldens = try TextFixtures.goldens("tiny_llama_like_golden.json")
        GoldenEncodingTests.check(json, against: goldens, "tiny_llama_like.json")
    }

    /// The Llama-2 tokenizer.json written by scripts/tokenizer_json_from_model.py (the layout of
    /// transformers' converter) gives the reference ids on the goldens and on every XNLI and GLUE dev
    /// string, exactly as the .model does.
    @Test(.enabled(if: ReferenceData.hasDataAndSentencePiece, "needs PIXELGPT_DATA and python3 with sentencepiece"))
    func llama2ModelAndJSONAgree() throws {
        let proto = try ReferenceData.llamaTokenizer(), modelPath = ReferenceData.llamaModelPath
        let temporary = try TemporaryDirectory()
        try ReferenceData.python(["scripts/tokenizer_json_from_model.py", modelPath, temporary.file("tokenizer.json")])
        let json = try SentencePieceTokenizer(contentsOf: temporary.file("tokenizer.json"))
        Self.expectSameModel(json.model, proto.model)
        GoldenEncodingTests.check(json, against: try TextFixtures.goldens("llama2_golden.json"), "llama2 tokenizer.json")
        // A directory holding only tokenizer.json loads it.
        #expect(try SentencePieceTokenizer(contentsOf: temporary.path).vocabularySize == 32000)

        let reference = try FullReferenceComparisonTests.referenceStrings()
        var differing = 0
        for (text, _) in reference.singles where json.encode(text) != proto.encode(text) {
            differing += 1
            if differing <= 5 { Issue.record("tokenizer.json and tokenizer.model differ on \(text.debugDescription)") }
        }
        #expect(differing == 0, "\(differing) of \(reference.singles.count) strings differ between tokenizer.json and tokenizer.model")
    }

    @Test func mergesAsStringsAndAsPairsReadAlike() throws {
        let a = try SentencePieceModel(huggingFaceJSON: Array(Self.miniJSON(merges: #"["▁ a", "b c"]"#).utf8), path: "a.json")
        let b = try SentencePieceModel(huggingFaceJSON: Array(Self.miniJSON(merges: #"[["▁", "a"], ["b", "c"]]"#).utf8), path: "b.json")
        #expect(a == b)
        // The first merge ranks best.
        #expect(a.pieces[7].score > a.pieces[8].score)
    }

    /// A minimal Llama-style tokenizer.json: <unk> <s> </s>, ▁ a b c, ▁a bc (+ the 256 byte pieces).
    static func miniJSON(merges: String, extra: String = "") -> String {
        var vocab = [#""<unk>":0"#, #""<s>":1"#, #""</s>":2"#, #""▁":3"#, #""a":4"#, #""b":5"#, #""c":6"#, #""▁a":7"#, #""bc":8"#]
        for byte in 0..<256 { vocab.append("\"\(SentencePieceModel.bytePieceText(UInt8(byte)))\":\(9 + byte)") }
        return """
            {"added_tokens":[{"id":0,"content":"<unk>","special":true},{"id":1,"content":"<s>","special":true},\
            {"id":2,"content":"</s>","special":true}],
             "normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},\
            {"type":"Replace","pattern":{"String":" "},"content":"▁"}]},\(extra)
             "model":{"type":"BPE","unk_token":"<unk>","byte_fallback":true,"vocab":{\(vocab.joined(separator: ","))},"merges":\(merges)}}
            """
    }

    @Test func metaspacePreTokenizerSetsTheDummyPrefix() throws {
        let base = Self.miniJSON(merges: #"["▁ a", "b c"]"#)
        for (scheme, prepend) in [("first", true), ("always", true), ("never", false)] {
            let text = base.replacingOccurrences(of: #""normalizer":{"type":"Sequence""#,
                                                 with: #""pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"\#(scheme)"},"unused":{"type":"Sequence""#)
            let model = try SentencePieceModel(huggingFaceJSON: Array(text.utf8), path: "m.json")
            #expect(model.addDummyPrefix == prepend, "\(scheme)")
            #expect(model.escapeWhitespaces)
        }
    }
}
