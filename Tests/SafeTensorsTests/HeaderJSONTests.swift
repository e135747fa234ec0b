import Testing
@testable import SafeTensors

@Suite struct HeaderJSONTests {
    func parse(_ text: String) throws -> HeaderJSON.Value {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { raw throws(HeaderJSON.SyntaxError) in try HeaderJSON.parse(raw) }
    }

    @Test func parsesEscapesAndSurrogatePairs() throws {
        let value = try parse(#"  {"a\n\"b\u00e9\ud83d\ude00": [true, false, null, -0.5e3, 18446744073709551615]}  "#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.first?.key == "a\n\"bé😀")
        #expect(members.first?.value == .array([.bool(true), .bool(false), .null, .number("-0.5e3"), .number("18446744073709551615")]))
        if case .array(let items) = members.first?.value {
            #expect(items[4].unsignedInteger == UInt64.max)
            #expect(items[3].unsignedInteger == nil)
        }
    }

    @Test(arguments: [
        "", "{", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\\x\"", "\"\\ud800\"", "\"a\u{1}\"",
        "{\"a\":1}x", "tru", "{\"a\":1,\"a\":2}", String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: HeaderJSON.SyntaxError.self) { try parse(text) }
    }

    /// The writer escapes as serde_json: quote, backslash and control characters only.
    @Test func writesLikeSerdeJSON() throws {
        var out: [UInt8] = []
        HeaderJSON.writeString("q\"b\\t\tn\nc\u{1}é/", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""q\"b\\t\tn\nc\u0001é/""#)
        let roundTrip = try parse(String(decoding: out, as: UTF8.self))
        #expect(roundTrip == .string("q\"b\\t\tn\nc\u{1}é/"))
    }
}
