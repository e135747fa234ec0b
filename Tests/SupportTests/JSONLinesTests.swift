import Foundation
import Support
import Testing
import TestSupport

@Suite struct JSONLinesTests {
    @Test func linesFollowOneRule() {
        let bytes = TextLines.byteOrderMark + Array("a\r\nb\n\n \t\rc\r\rd".utf8)
        let lines = TextLines.split(bytes)
        #expect(lines.map(\.number) == [1, 2, 3, 4, 5, 6, 7])
        #expect(lines.map { String(decoding: $0.bytes, as: UTF8.self) } == ["a", "b", "", " \t", "c", "", "d"])
        #expect(lines.map(\.isBlank) == [false, false, true, true, false, true, false])
        #expect(TextLines.split(Array("x\n".utf8)).count == 1, "the piece after a final LF is not a line")
        #expect(TextLines.split([]).isEmpty && TextLines.split(TextLines.byteOrderMark).isEmpty)
    }

    @Test func entriesReportEachLineProblem() {
        let text = "{\"text\": \"ok\"}\n[1]\n{\"text\": \"\\uD800\"}\n{bad\n\n{\"text\": \"\\uD83D\\uDE00\"}\n"
        let entries = JSONLines.entries(Array(text.utf8))
        #expect(entries.map(\.line) == [1, 2, 3, 4, 6])
        #expect(entries[0].object == .success(["text": .string("ok")]))
        #expect(entries[1].object == .failure(.notAnObject(found: "an array")))
        guard case .failure(.invalidJSON) = entries[2].object else { Issue.record("a lone surrogate escape must be refused"); return }
        guard case .failure(.invalidJSON) = entries[3].object else { Issue.record("{bad is not JSON"); return }
        #expect(entries[4].object == .success(["text": .string("😀")]), "a surrogate pair is one character")
    }

    /// The offset of the first malformed byte is where Python's strict UTF-8 decoder stops
    /// (UnicodeDecodeError.start): truncated sequences, overlong forms, encoded surrogates, bytes past U+10FFFF.
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("sys")))
    func invalidUTF8OffsetsMatchPython() throws {
        let cases: [[UInt8]] = [
            Array("plain".utf8), Array("é".utf8), [0x61, 0x80], [0x61, 0xC3], [0xC0, 0xAF], [0x61, 0x62, 0xED, 0xA0, 0x80],
            [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], Array("日本".utf8) + [0xFF], [0xF0, 0x9F, 0x98, 0x80, 0x61],
        ]
        let script = "import sys\nfor h in sys.argv[1:]:\n  b = bytes.fromhex(h)\n  try: b.decode('utf-8'); print(-1)\n  except UnicodeDecodeError as e: print(e.start)"
        let output = String(decoding: try PythonReference.run(["-c", script] + cases.map(\.hex)), as: UTF8.self)
        let theirs = output.split(separator: "\n").map { Int($0)! }
        #expect(cases.map { TextLines.firstInvalidUTF8Offset($0[...]) ?? -1 } == theirs)
    }
}
