/// The special token ids of the Llama-2 SentencePiece vocabulary PixelGPT uses (SPEC 6).
public enum LlamaSpecialTokens {
    public static let unknown: Int32 = 0
    public static let beginOfSequence: Int32 = 1
    public static let endOfSequence: Int32 = 2
    /// No pad token ships; the fine-tuning scripts set pad = eos = 2 at run time (SPEC 6, 11.8).
    public static let padding: Int32 = 2
}
