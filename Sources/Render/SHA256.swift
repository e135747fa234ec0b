import CPangoCairo
import Foundation

/// SHA-256 digests through GLib's GChecksum (already linked with Pango, so no new dependency), for font-file
/// provenance and for comparing strips with the goldens' pixel_sha256.
public enum SHA256 {
    /// The lowercase hex digest of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { buffer in
            let checksum = g_checksum_new(G_CHECKSUM_SHA256)!
            defer { g_checksum_free(checksum) }
            if let base = buffer.baseAddress { g_checksum_update(checksum, base, buffer.count) }
            return String(cString: g_checksum_get_string(checksum))
        }
    }

    /// The lowercase hex digest of a file, read in 1 MiB pieces.
    public static func hex(fileAt path: String) throws(RenderError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileManager.default.fileExists(atPath: path)
                ? RenderError(path: path, .cannotRead("permission denied?")) : RenderError(path: path, .missingFile(what: "the file"))
        }
        defer { try? handle.close() }
        let checksum = g_checksum_new(G_CHECKSUM_SHA256)!
        defer { g_checksum_free(checksum) }
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch { throw RenderError(path: path, .cannotRead(error.localizedDescription)) }
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { g_checksum_update(checksum, $0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
        }
        return String(cString: g_checksum_get_string(checksum))
    }
}
