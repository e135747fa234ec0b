import Foundation
import Support
import Testing
import TestSupport

@Suite struct SHA256Tests {
    @Test func matchesTheStandardVectors() {
        #expect(SHA256.hexDigest(of: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hexDigest(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// Lengths around the 64-byte block and its 55/56-byte padding edge, fed in uneven pieces, against hashlib.
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("hashlib")))
    func matchesHashlibOnFilesAndPieces() throws {
        let dir = try TemporaryDirectory()
        var generator = SplitMix64(state: 7)
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, (4 << 20) + 3] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let path = dir.file("f\(length)")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let script = "import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())"
            let theirs = String(decoding: try PythonReference.run(["-c", script, path]), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try SHA256.hexDigest(ofFile: path) == theirs, "length \(length)")
            var pieces = SHA256()
            var offset = 0, step = 1
            while offset < bytes.count {
                let end = min(bytes.count, offset + step)
                pieces.update(Array(bytes[offset..<end]))
                offset = end
                step = step * 3 + 1
            }
            #expect(SHA256.hex(pieces.finalize()) == theirs, "length \(length) in pieces")
        }
    }

    @Test func anUnreadableFileNamesItsPath() {
        #expect { try SHA256.hexDigest(ofFile: "/nonexistent/x") } throws: { ($0 as? FileAccessError)?.path == "/nonexistent/x" }
    }
}
