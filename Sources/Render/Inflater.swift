import CZlib

/// A zlib inflate stream behind a safe API, for the gzip JSON-lines datasets (SPEC 7.1, 7.2) and PNG IDAT data.
/// The z_stream lives on the heap because zlib keeps a pointer back to it and refuses a stream that has moved.
final class Inflater {
    enum Format {
        /// gzip (RFC 1952): windowBits 16 + MAX_WBITS; concatenated members are read one after another.
        case gzip
        /// zlib (RFC 1950), as in a PNG's IDAT chunks.
        case zlib
    }

    /// Why zlib stopped: its message, or the status code when it gives none.
    struct Failure: Error {
        let message: String
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private let format: Format
    /// True once a zlib stream (or the last gzip member read so far) has ended.
    private(set) var finished = false

    init(_ format: Format) throws(Failure) {
        self.format = format
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let windowBits: Int32 = format == .gzip ? 16 + MAX_WBITS : MAX_WBITS
        let status = inflateInit2_(stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw Failure(message: "inflateInit2 failed with status \(status)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Inflates all of `input`, handing each piece of output to `sink` (at most `chunk` bytes at a time), so that
    /// no more than one chunk of decompressed data is held here. For gzip, a member that ends before the input does
    /// is followed by the next one (gzip allows concatenated members, as `gzip -c a b` writes).
    func inflate(_ input: UnsafeRawBufferPointer, chunk: Int = 1 << 16, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, input.count > 0 else { return }
        var output = [UInt8](repeating: 0, count: chunk)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        while stream.pointee.avail_in > 0 {
            if finished {
                guard format == .gzip else { throw Failure(message: "data after the end of the zlib stream") }
                guard inflateReset(stream) == Z_OK else { throw Failure(message: "inflateReset failed") }
                finished = false
            }
            var status: Int32 = Z_OK
            let produced = try output.withUnsafeMutableBytes { out throws(Failure) -> Int in
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                status = CZlib.inflate(stream, Z_NO_FLUSH)
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw Failure(message: message)
                }
                return out.count - Int(stream.pointee.avail_out)
            }
            if produced > 0 { try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[..<produced])) } }
            if status == Z_STREAM_END { finished = true }
            // Z_BUF_ERROR with output room left means no progress is possible with this input: ask for more.
            if status == Z_BUF_ERROR && produced == 0 { break }
        }
    }

    /// Inflates a complete zlib stream held in memory (a PNG's concatenated IDAT data) into one array.
    static func inflateAll(zlib data: [UInt8], expectedSize: Int) throws(Failure) -> [UInt8] {
        let inflater = try Inflater(.zlib)
        var out: [UInt8] = []
        out.reserveCapacity(expectedSize)
        do {
            try data.withUnsafeBytes { input in
                try inflater.inflate(input) { piece in
                    guard out.count + piece.count <= expectedSize else { throw Failure(message: "more image data than the header promises") }
                    out.append(contentsOf: piece)
                }
            }
        } catch let failure as Failure { throw failure } catch { throw Failure(message: "\(error)") }
        guard inflater.finished else { throw Failure(message: "the compressed image data is cut short") }
        return out
    }
}
