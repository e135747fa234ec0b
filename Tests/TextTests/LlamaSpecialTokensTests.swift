import Testing
@testable import Text

@Suite struct LlamaSpecialTokensTests {
    @Test func padIsEndOfSequence() {
        #expect(LlamaSpecialTokens.padding == LlamaSpecialTokens.endOfSequence)
        #expect(LlamaSpecialTokens.beginOfSequence == 1 && LlamaSpecialTokens.unknown == 0)
    }
}
