import Foundation
import SafeTensors
@_exported import TestSupport
import Testing

/// Paths of the committed fixtures (written by scripts/make_safetensors_fixtures.py).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static func path(_ name: String) -> String { directory + "/" + name }

    static func expected() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path("expected.json")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

/// Little-endian u64 length prefix + JSON text + data bytes: a hand-made safetensors file.
func handMadeFile(header: String, data: [UInt8]) -> [UInt8] {
    let json = Array(header.utf8)
    return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + data
}
