import Foundation
import Testing
@testable import Render

@Suite struct RenderRequestTests {
    @Test func readsCasesAndSkipsBlankLines() throws {
        let text = #"""
            {"text": "a"}

            {"text": "b", "text_pair": "c", "max_seq_length": 32, "mode": "grey", "id": 7}
            {"text": "d", "text_pair": null, "mode": "binary"}
            """#
        let requests = try RenderRequest.parse(jsonLines: Data(text.utf8), path: "in.jsonl")
        #expect(requests == [
            RenderRequest(text: "a"),
            RenderRequest(text: "b", textPair: "c", maxSeqLength: 32, mode: .gray),
            RenderRequest(text: "d", mode: .binary),
        ])
    }

    @Test func invalidUTF8IsRefusedWithItsLineNumber() {
        var data = Data(#"{"text": "fine"}"#.utf8 + [0x0A])
        data.append(contentsOf: Array(#"{"text": "bro"#.utf8) + [0xFF, 0xFE] + Array(#"ken"}"#.utf8))
        do { _ = try RenderRequest.parse(jsonLines: data, path: "in.jsonl"); Issue.record("invalid UTF-8 accepted") } catch {
            #expect(error == RenderError(path: "in.jsonl", .invalidUTF8(line: 2)))
            #expect(error.description == "in.jsonl: line 2: not valid UTF-8")
        }
    }

    @Test func badLinesNameTheLineAndTheKey() {
        for (line, fragment) in [
            (#"{"text_pair": "x"}"#, "\"text\" must be a string"),
            (#"{"text": 3}"#, "\"text\" must be a string"),
            (#"{"text": "a", "mode": "cmyk"}"#, "\"mode\""),
            (#"{"text": "a", "max_seq_length": 0}"#, "\"max_seq_length\""),
            (#"{"text": "a", "max_seq_length": 2.5}"#, "\"max_seq_length\""),
            (#"{"text": "a", "text_pair": ["b"]}"#, "\"text_pair\""),
            (#"["a"]"#, "expected a JSON object"),
            (#"{"text": "a""#, "not valid JSON"),
        ] {
            do { _ = try RenderRequest.parse(jsonLines: Data(("{\"text\": \"ok\"}\n" + line).utf8), path: "f"); Issue.record("accepted \(line)") } catch {
                guard case .invalidRequest(let n, let reason) = error.problem else { Issue.record("\(line): \(error)"); continue }
                #expect(n == 2)
                #expect(reason.contains(fragment), "\(line): \(reason)")
            }
        }
    }

    @Test func unpairedSurrogateEscapesAreRefusedNotCrashed() throws {
        let line = #"{"text": "a\ud800b"}"#
        do { _ = try RenderRequest.parse(jsonLines: Data(line.utf8), path: "f"); Issue.record("accepted an unpaired surrogate") } catch {
            guard case .invalidRequest(1, let reason) = error.problem else { Issue.record("\(error)"); return }
            #expect(reason.contains("surrogate"), "\(reason)")
        }
        // A correctly paired escape is fine.
        #expect(try RenderRequest.parse(jsonLines: Data(#"{"text": "\ud83d\ude00"}"#.utf8), path: "f") == [RenderRequest(text: "😀")])
    }

    @Test func aMissingInputFileIsNamed() {
        #expect(throws: RenderError(path: "/nonexistent/in.jsonl", .missingFile(what: "the input file"))) {
            try RenderRequest.load(jsonLines: "/nonexistent/in.jsonl")
        }
    }
}
