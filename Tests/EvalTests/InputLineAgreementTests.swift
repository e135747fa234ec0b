import Foundation
import Render
import Support
import Testing
import TestSupport
import Text
@testable import Eval

/// `tokenize --input`, `render --input` and evaluation data read the same text from the same JSON lines
/// (one reader, Support's `JSONLines`): a byte-order mark, CRLF and blank lines are accepted alike, and a
/// lone surrogate escape is refused by all three at the same line.
@Suite struct InputLineAgreementTests {
    static let good = TextLines.byteOrderMark + Array((
        "{\"text\": \"caf\\u00e9\", \"sentence\": \"café\", \"label\": 1}\r\n"
        + "  \n"
        + "{\"text\": \"x\\ty\", \"sentence\": \"x\\ty\", \"label\": 0}\n").utf8)
    static let loneSurrogate = Array("{\"text\": \"\\uDC00\", \"sentence\": \"\\uDC00\", \"label\": 0}\n".utf8)

    static func sst2() throws -> TaskDefinition {
        try #require(try TaskRegistry(directory: TaskRegistryTests.tasksDirectory).tasks.first { $0.task == "sst2" })
    }

    @Test func theThreeReadersReadTheSameTexts() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("dev.jsonl")
        try Data(Self.good).write(to: URL(fileURLWithPath: path))
        let tokenized = try TokenizationRequest.parseJSONLines(Self.good, path: path).map(\.text)
        let rendered = try RenderRequest.parse(jsonLines: Data(Self.good), path: path).map(\.text)
        let evaluated = try DatasetReader.read(path, task: try Self.sst2(), split: .validation)
        #expect(tokenized == ["café", "x\ty"])
        #expect(rendered == tokenized)
        #expect(evaluated.rows.map(\.textA) == tokenized && evaluated.problems.isEmpty)
        #expect(evaluated.rows.map(\.line) == [1, 3])
    }

    @Test func aLoneSurrogateIsRefusedByAllThreeAtItsLine() throws {
        let bytes = Self.good + Self.loneSurrogate
        let dir = try TemporaryDirectory()
        let path = dir.file("dev.jsonl")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { try TokenizationRequest.parseJSONLines(bytes, path: path) } throws: { "\($0)".contains(":4:") || "\($0)".contains("line 4") }
        #expect { try RenderRequest.parse(jsonLines: Data(bytes), path: path) } throws: { "\($0)".contains("line 4") }
        let evaluated = try DatasetReader.read(path, task: try Self.sst2(), split: .validation)
        #expect(evaluated.rows.count == 2 && evaluated.problems.map(\.line) == [4])
    }
}
