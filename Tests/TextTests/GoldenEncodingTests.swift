import Foundation
import Support
import Testing
@testable import Text

/// Ids, pieces and decoded text against the Python sentencepiece package's (committed goldens written by
/// scripts/make_tokenizer_fixtures.py).
@Suite struct GoldenEncodingTests {
    /// Compares every golden; returns how many entries were checked.
    @discardableResult
    static func check(_ tokenizer: SentencePieceTokenizer, against goldens: [TextFixtures.Golden], _ label: String) -> Int {
        var differing = 0
        for golden in goldens {
            let ids = tokenizer.encode(golden.text)
            if ids != golden.ids {
                differing += 1
                if differing <= 5 { Issue.record("\(label): \(golden.text.debugDescription): \(ids) != reference \(golden.ids)") }
                continue
            }
            #expect(tokenizer.pieces(ids) == golden.pieces, "\(label): pieces of \(golden.text.debugDescription)")
            // Compared as scalars: String == would accept canonically equivalent but different text.
            let decoded = tokenizer.decode(ids)
            #expect(Array(decoded.unicodeScalars) == Array(golden.decoded.unicodeScalars),
                    "\(label): decode of \(golden.text.debugDescription) gave \(decoded.debugDescription)")
        }
        #expect(differing == 0, "\(label): \(differing) of \(goldens.count) strings differ from the reference")
        return goldens.count
    }

    @Test(.enabled(if: TestData.hasData, "needs the Llama-2 tokenizer (PIXELGPT_DATA)"))
    func llama2MatchesTheReference() throws {
        let tokenizer = try ReferenceData.llamaTokenizer()
        let goldens = try TextFixtures.goldens("llama2_golden.json")
        #expect(goldens.count > 400)
        // Every XNLI language is represented (10 premises and 10 hypotheses each).
        #expect(goldens.contains { $0.text.unicodeScalars.contains { (0x0E00...0x0E7F).contains($0.value) } }, "Thai")
        Self.check(tokenizer, against: goldens, "llama2")
    }

    @Test(.enabled(if: TestData.hasData, "needs the Llama-2 tokenizer (PIXELGPT_DATA)"))
    func llama2DecodesLikeTheReference() throws {
        let tokenizer = try ReferenceData.llamaTokenizer()
        let cases = try #require(try TextFixtures.json("llama2_golden.json")["decode"] as? [[String: Any]])
        #expect(cases.count > 10)
        for entry in cases {
            let ids = try #require(entry["ids"] as? [Int]).map(Int32.init)
            let expected = try #require(entry["decoded"] as? String)
            #expect(Array(tokenizer.decode(ids).unicodeScalars) == Array(expected.unicodeScalars), "decode \(ids)")
        }
    }

    @Test func tinyLlamaLikeModelMatchesTheReference() throws {
        let tokenizer = try TextFixtures.tokenizer("tiny_llama_like.model")
        #expect(tokenizer.model.pieces.contains { $0.type == .userDefined })
        #expect(tokenizer.model.pieces.contains { $0.type == .control && $0.text == "<ctrl>" })
        Self.check(tokenizer, against: try TextFixtures.goldens("tiny_llama_like_golden.json"), "tiny_llama_like")
    }

    /// No byte fallback (unknown pieces), extra spaces removed, no dummy prefix, BOS id 0, unused pieces.
    @Test func tinyVariantsModelMatchesTheReference() throws {
        let tokenizer = try TextFixtures.tokenizer("tiny_variants.model")
        let model = tokenizer.model
        #expect(!model.byteFallback && model.removeExtraWhitespaces && !model.addDummyPrefix)
        #expect(model.beginOfSequenceID == 0 && tokenizer.unknownID == 3)
        let unused = try #require(try TextFixtures.json("tiny_variants_golden.json")["unused_pieces"] as? [String])
        #expect(unused.count == 8)
        for piece in unused {
            #expect(model.pieces.contains { Array($0.text.utf8) == Array(piece.utf8) && $0.type == .unused }, "\(piece)")
        }
        let goldens = try TextFixtures.goldens("tiny_variants_golden.json")
        #expect(goldens.contains { $0.ids.contains(tokenizer.unknownID) }, "goldens exercise unknown pieces")
        Self.check(tokenizer, against: goldens, "tiny_variants")
    }

    /// decode(encode(x)) == x for valid UTF-8 (Llama-2 keeps every space and has byte fallback), except
    /// that a literal "▁" (U+2581) comes back as a space, as it does from sentencepiece.
    @Test func decodeInvertsEncode() throws {
        let tokenizer = try TextFixtures.tokenizer("tiny_llama_like.model")
        var generator = SplitMix64(state: 11)
        let alphabet = Array(" \t\n abcxyzäöü €😀👍🏽中文字ไทยहिन्दी\u{0301}\u{0000}\u{FEFF}<s><mask>")
        var samples = try TextFixtures.goldens("tiny_llama_like_golden.json").map(\.text).filter { !$0.contains("\u{2581}") }
        for _ in 0..<300 {
            samples.append(String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }))
        }
        for text in samples {
            let decoded = tokenizer.decode(tokenizer.encode(text))
            #expect(Array(decoded.unicodeScalars) == Array(text.unicodeScalars), "\(text.debugDescription) → \(decoded.debugDescription)")
        }
    }
}
