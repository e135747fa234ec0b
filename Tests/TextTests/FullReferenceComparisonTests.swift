import Foundation
import Testing
@testable import Text

/// Every premise and hypothesis of the 15 XNLI dev files and every sentence of the GLUE dev files, alone
/// and as pairs, against the Python sentencepiece package: zero differing sequences (issue 6). Runs when
/// the data directory is present (CI: PIXELGPT_DATA=../shared/data) and python3 has sentencepiece;
/// the reference ids come from scripts/compare_tokenizer.py --write-reference.
@Suite struct FullReferenceComparisonTests {
    struct Reference {
        var singles: [(String, [Int32])] = []
        var pairs: [(String, String, [Int32])] = []
    }

    nonisolated(unsafe) private static var cached: Reference?
    private static let lock = NSLock()

    /// The reference set, computed once per test run.
    static func referenceStrings() throws -> Reference {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let temporary = try TemporaryDirectory()
        let file = temporary.file("reference.jsonl")
        try ReferenceData.python(["scripts/compare_tokenizer.py", "--data", try #require(ReferenceData.directory),
                                  "--write-reference", file])
        var reference = Reference()
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        for line in data.split(separator: UInt8(ascii: "\n")) {
            let entry = try #require(try parseJSON([UInt8](line)) as? [String: Any])
            let text = try #require(entry["text"] as? String)
            let ids = try #require(entry["ids"] as? [Int]).map(Int32.init)
            if let pair = entry["text_pair"] as? String {
                reference.pairs.append((text, pair, ids))
            } else {
                reference.singles.append((text, ids))
            }
        }
        cached = reference
        return reference
    }

    @Test(.enabled(if: ReferenceData.hasDataAndSentencePiece, "needs PIXELGPT_DATA and python3 with sentencepiece"))
    func everyDevStringMatchesTheReference() throws {
        let tokenizer = try ReferenceData.llamaTokenizer()
        let reference = try Self.referenceStrings()
        // XNLI: 15 languages x 2490 rows x 2 texts; GLUE dev: 17,353 sentences.
        #expect(reference.singles.count == 92_053)
        #expect(reference.pairs.count == 45_069)
        let inputs = try PixelGPTTextInputs(tokenizer: tokenizer)
        var differing = 0
        for (text, expected) in reference.singles {
            let ids = inputs.encode(text)
            if ids != expected {
                differing += 1
                if differing <= 5 { Issue.record("\(text.debugDescription): \(ids) != reference \(expected)") }
            }
        }
        for (text, pair, expected) in reference.pairs {
            let ids = inputs.encode(text, pair: pair)
            if ids != expected {
                differing += 1
                if differing <= 5 { Issue.record("pair \(text.debugDescription) / \(pair.debugDescription): \(ids) != reference \(expected)") }
            }
        }
        print("compared \(reference.singles.count + reference.pairs.count) sequences with sentencepiece: \(differing) differ")
        #expect(differing == 0, "\(differing) of \(reference.singles.count + reference.pairs.count) sequences differ from sentencepiece")
    }
}
