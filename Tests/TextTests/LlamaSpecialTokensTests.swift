import Foundation
import Testing
@testable import Text

@Suite struct LlamaSpecialTokensTests {
    /// The constants are the ids the Llama-2 tokenizer.model declares, as Python's sentencepiece reads
    /// them and as our protobuf reader does; no pad id ships (-1), so padding borrows eos (SPEC 6).
    @Test(.enabled(if: ReferenceData.hasDataAndSentencePiece, "needs PIXELGPT_DATA and python3 with sentencepiece"))
    func constantsAreTheTokenizersIds() throws {
        let script = "import sys, sentencepiece as s; p = s.SentencePieceProcessor(model_file=sys.argv[1]); print(p.unk_id(), p.bos_id(), p.eos_id(), p.pad_id())"
        let output = String(decoding: try ReferenceData.python(["-c", script, ReferenceData.llamaModelPath]), as: UTF8.self)
        let theirs = output.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        #expect(theirs == [LlamaSpecialTokens.unknown, LlamaSpecialTokens.beginOfSequence, LlamaSpecialTokens.endOfSequence, -1])
        let model = try SentencePieceModel(contentsOfFile: ReferenceData.llamaModelPath)
        #expect([model.unknownID, model.beginOfSequenceID, model.endOfSequenceID, model.padID] == theirs)
        #expect(LlamaSpecialTokens.padding == theirs[2], "pad = eos, as the fine-tuning scripts set it")
    }
}
