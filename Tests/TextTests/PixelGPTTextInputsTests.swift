import Foundation
import Testing
@testable import Text

/// The single and pair forms, longest-first truncation and padding of SPEC 6.
@Suite struct PixelGPTTextInputsTests {
    @Test func singleAndPairForms() throws {
        let tokenizer = try TextFixtures.tokenizer("tiny_llama_like.model")
        let inputs = try PixelGPTTextInputs(tokenizer: tokenizer)
        let a = tokenizer.encode("The cat sat.", addBOS: false)
        let b = tokenizer.encode("A dog barked loudly.", addBOS: false)
        #expect(!a.isEmpty && !b.isEmpty)
        #expect(inputs.encode("The cat sat.") == [1] + a)
        #expect(inputs.encode("The cat sat.", pair: "A dog barked loudly.") == [1] + a + [1] + b)
        #expect(!inputs.encode("x", pair: "y").contains(tokenizer.endOfSequenceID), "no EOS in either form")
        #expect(inputs.encode("", pair: "") == [1, 1])
    }

    /// Lengths kept by the tokenizers library's longest_first, worked by hand from its rules.
    @Test func longestFirstLengths() {
        #expect(LongestFirstTruncation.lengths(3, 4, budget: 10) == (3, 4))  // fits
        #expect(LongestFirstTruncation.lengths(3, 20, budget: 10) == (3, 7))  // only the longer shrinks
        #expect(LongestFirstTruncation.lengths(20, 3, budget: 10) == (7, 3))
        #expect(LongestFirstTruncation.lengths(8, 9, budget: 10) == (5, 5))  // both shrink to half
        #expect(LongestFirstTruncation.lengths(9, 8, budget: 11) == (6, 5))  // the longer gets the odd one
        #expect(LongestFirstTruncation.lengths(8, 9, budget: 11) == (5, 6))
        #expect(LongestFirstTruncation.lengths(5, 5, budget: 0) == (0, 0))
    }

    /// Truncated singles and pairs from the Hugging Face tokenizers library (goldens).
    @Test(.enabled(if: TestData.hasData, "needs the Llama-2 tokenizer (PIXELGPT_DATA)"))
    func truncationMatchesTheTokenizersLibrary() throws {
        let tokenizer = try ReferenceData.llamaTokenizer()
        let cases = try #require(try TextFixtures.json("llama2_golden.json")["truncation"] as? [[String: Any]])
        #expect(cases.count == 450)
        for entry in cases {
            let text = try #require(entry["text"] as? String)
            let pair = entry["text_pair"] as? String
            let maxLength = try #require(entry["max_length"] as? Int)
            let expected = try #require(entry["ids"] as? [Int]).map(Int32.init)
            let ids = try PixelGPTTextInputs(tokenizer: tokenizer, maxLength: maxLength).encode(text, pair: pair)
            #expect(ids == expected, "max_length \(maxLength): \(text.prefix(30))… / \(pair?.prefix(30) ?? "-")")
            #expect(ids.count <= maxLength)
        }
    }

    @Test func threadedBatchEncodingKeepsOrderAndValues() throws {
        let inputs = try PixelGPTTextInputs(tokenizer: try TextFixtures.tokenizer("tiny_llama_like.model"), maxLength: 40)
        let texts = try TextFixtures.goldens("tiny_llama_like_golden.json").map(\.text)
        var requests: [TokenizationRequest] = []
        for i in 0..<2000 { requests.append(TokenizationRequest(text: texts[i % texts.count], textPair: i % 3 == 0 ? texts[(i * 7) % texts.count] : nil)) }
        let serial = requests.map { inputs.encode($0.text, pair: $0.textPair) }
        #expect(inputs.encode(requests, threads: 1) == serial)
        #expect(inputs.encode(requests, threads: 3) == serial)
    }

    @Test func maxLengthBelowTwoIsRefused() throws {
        let tokenizer = try TextFixtures.tokenizer("tiny_llama_like.model")
        #expect(throws: TokenizerError.self) { try PixelGPTTextInputs(tokenizer: tokenizer, maxLength: 1) }
        #expect(try PixelGPTTextInputs(tokenizer: tokenizer, maxLength: 2).encode("hello", pair: "world") == [1, 1])
    }

    @Test func rightPaddingWithMask() {
        let batch = PaddedBatch([[1, 5, 6], [1], [1, 7, 8, 9, 10]])
        #expect(batch.length == 5)
        #expect(batch.inputIDs == [[1, 5, 6, 2, 2], [1, 2, 2, 2, 2], [1, 7, 8, 9, 10]])
        #expect(batch.attentionMask == [[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]])
        let rounded = PaddedBatch([[1, 5, 6]], padToMultipleOf: 8)
        #expect(rounded.inputIDs == [[1, 5, 6, 2, 2, 2, 2, 2]])
        #expect(rounded.attentionMask == [[1, 1, 1, 0, 0, 0, 0, 0]])
        #expect(PaddedBatch([]).length == 0)
    }

    @Test func batchesPadToTheirOwnMaximum() {
        let sequences: [[Int32]] = [[1], [1, 3], [1, 3, 4, 5], [1, 9]]
        let batches = PaddedBatch.batches(sequences, batchSize: 3)
        #expect(batches.count == 2)
        #expect(batches[0].length == 4 && batches[1].length == 2)
        #expect(batches[1].inputIDs == [[1, 9]])
        #expect(batches.flatMap(\.attentionMask).map { $0.reduce(0, +) } == sequences.map { Int32($0.count) })
    }
}
