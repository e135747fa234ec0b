import ArgumentParser
import Foundation
import Text

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Token ids of a text, a text pair, or a JSON-lines file, as PixelGPT's text inputs.",
        discussion: """
            Ids are [1] + A for one text and [1] + A + [1] + B for a pair (BOS, no EOS), identical to the \
            Python sentencepiece package. --input reads lines {"text": ..., "text_pair": ...} (text_pair \
            optional) and writes one line {"ids": [...]} per input, in order, to stdout.
            """
    )

    @Option(help: "A tokenizer.model, a tokenizer.json, or a checkpoint directory holding either.")
    var tokenizer: String

    @Option(help: "The text to tokenize.")
    var text: String?

    @Option(help: "The second text of a pair (with --text).")
    var pair: String?

    @Option(help: "A JSON-lines file of {\"text\": ..., \"text_pair\": ...}; - reads stdin.")
    var input: String?

    @Option(help: "Truncate longest-first to at most this many ids, BOS tokens included.")
    var maxLength: Int?

    @Option(help: "Threads for --input (default 1; the output does not depend on it).")
    var threads: Int = 1

    @Flag(help: "With --text: print {\"ids\": [...], \"pieces\": [...]} instead of space-separated ids.")
    var json = false

    func validate() throws {
        guard (text == nil) != (input == nil) else { throw ValidationError("give exactly one of --text and --input") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        if pair != nil && text == nil { throw ValidationError("--pair needs --text") }
    }

    func run() throws {
        let loadStarted = Date()
        let encoder = try reportingErrors {
            try PixelGPTTextInputs(tokenizer: try SentencePieceTokenizer(contentsOf: tokenizer), maxLength: maxLength)
        }
        let loadSeconds = Date().timeIntervalSince(loadStarted)
        if let text {
            let ids = encoder.encode(text, pair: pair)
            if json {
                try printJSON(TokenizeOutput(ids: ids, pieces: encoder.tokenizer.pieces(ids)))
            } else {
                print(ids.map(String.init).joined(separator: " "))
            }
            return
        }
        guard let input else { return }
        let requests = try reportingErrors { try TokenizationRequest.readJSONLines(path: input) }
        let started = Date()
        var out: [UInt8] = []
        out.reserveCapacity(requests.count * 64)
        var tokens = 0
        let encoded = encoder.encode(requests, threads: threads)
        let seconds = Date().timeIntervalSince(started)
        for ids in encoded {
            tokens += ids.count
            out.append(contentsOf: #"{"ids":["#.utf8)
            for (i, id) in ids.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: String(id).utf8)
            }
            out.append(contentsOf: "]}\n".utf8)
        }
        FileHandle.standardOutput.write(Data(out))
        log("tokenized \(requests.count) inputs (\(tokens) ids) in \(String(format: "%.3f", seconds)) s: "
            + "\(String(format: "%.0f", Double(requests.count) / max(seconds, 1e-9))) inputs/s "
            + "(tokenizer loaded in \(String(format: "%.3f", loadSeconds)) s)")
    }
}

/// `pixelgpt tokenize --text ... --json`.
struct TokenizeOutput: Encodable {
    let ids: [Int32]
    let pieces: [String]
}
