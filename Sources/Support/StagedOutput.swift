#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Foundation

/// The one way this project puts an output in place: everything is written under a hidden temporary name
/// beside the destination (`.NAME.tmp-PID-RANDOM`) and renamed onto it only when complete, so a reader never
/// sees a half-written file or directory and a failure leaves nothing behind. Files, staged directories
/// (converted and classifier checkpoints) and files that a C library writes by path (PNG, HDF5) all go
/// through `commit`.
public enum StagedOutput {
    /// A fresh hidden sibling of `path`.
    public static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(directory).\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Runs `body` with a temporary path beside `destination` (the body creates a file or a directory there),
    /// then renames it onto `destination`. On any failure the temporary is removed. An existing file at
    /// `destination` is replaced; an existing directory must be empty (rename(2)'s rule), which callers check
    /// first with their own message.
    public static func commit<Failure: Error>(
        _ destination: String, failure: (FileAccessError) -> Failure, _ body: (String) throws(Failure) -> Void
    ) throws(Failure) {
        let temporary = temporaryPath(for: destination)
        var committed = false
        defer { if !committed { removeTree(temporary) } }
        try body(temporary)
        if isEmptyDirectory(destination) { rmdir(destination) }
        guard rename(temporary, destination) == 0 else {
            throw failure(FileAccessError(path: destination, reason: "cannot rename into place: \(String(cString: strerror(errno)))"))
        }
        committed = true
    }

    /// `commit` for bodies that throw any error; the rename's failure is a `FileAccessError`.
    public static func commit(_ destination: String, _ body: (String) throws -> Void) throws {
        try commit(destination, failure: { $0 as any Error }, body)
    }

    /// Fails early, naming the numbers, when the file system holding `path` has less than `bytes` (plus
    /// 1 MiB of headroom) free: better than discovering it after gigabytes were written, and some writers
    /// (HDF5) handle a full disk badly.
    public static func requireFreeSpace<Failure: Error>(_ bytes: Int, at path: String, failure: (FileAccessError) -> Failure) throws(Failure) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? "."
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return }  // unknown: let the write itself report
        let free = Int(info.f_bavail) * Int(info.f_frsize)
        guard free >= bytes + (1 << 20) else {
            throw failure(FileAccessError(path: path, reason: "needs \(bytes) bytes but the file system has \(free) free"))
        }
    }

    public static func requireFreeSpace(_ bytes: Int, at path: String) throws(FileAccessError) {
        try requireFreeSpace(bytes, at: path, failure: { $0 })
    }

    /// An existing directory with nothing in it (rename(2) replaces only such a directory).
    public static func isEmptyDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return false }
        return (try? FileManager.default.contentsOfDirectory(atPath: path).isEmpty) ?? false
    }

    /// Removes what interrupted writes of `path` left behind: `.NAME.tmp-PID-N` files (`temporaryPath`) and directories beside it
    /// whose process no longer exists (a kill -9, SIGINT or SIGTERM runs no cleanup). A live process's
    /// temporaries, and names of any other shape, are left alone. Returns the paths removed.
    @discardableResult
    public static func removeStaleTemporaries(for path: String) -> [String] {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let prefix = ".\(name).tmp-"
        guard !name.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory) else { return [] }
        var removed: [String] = []
        for entry in entries where entry.hasPrefix(prefix) {
            let parts = entry.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, UInt32(parts[1]) != nil,
                  pid != getpid(), kill(pid, 0) == -1, errno == ESRCH else { continue }
            if (try? FileManager.default.removeItem(atPath: directory + entry)) != nil { removed.append(directory + entry) }
        }
        return removed
    }

    static func removeTree(_ path: String) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        if (status.st_mode & S_IFMT) == S_IFDIR { try? FileManager.default.removeItem(atPath: path) } else { unlink(path) }
    }
}

/// Files written through a `ByteSink` and synced before the rename (`StagedOutput.commit`).
public enum AtomicFile {
    public static func write<Failure: Error>(
        to path: String, failure: (FileAccessError) -> Failure, _ produce: (inout ByteSink) throws(Failure) -> Void
    ) throws(Failure) {
        try StagedOutput.commit(path, failure: failure) { (temporary: String) throws(Failure) in
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw failure(FileAccessError(path: path, reason: "cannot create \(temporary): \(String(cString: strerror(errno)))")) }
            defer { close(fd) }
            var sink = ByteSink(fd: fd, path: path)
            try produce(&sink)
            do throws(FileAccessError) { try sink.finish() } catch { throw failure(error) }
            guard fsync(fd) == 0 else { throw failure(FileAccessError(path: path, reason: "fsync: \(String(cString: strerror(errno)))")) }
        }
    }

    /// Writes small contents (an index, a config, results) atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws(FileAccessError) {
        try write(to: path, failure: { $0 }) { (sink: inout ByteSink) throws(FileAccessError) in sink.append(bytes) }
    }
}

/// Buffered appends to a file descriptor. A write error is remembered and reported at the next check,
/// so that appends stay non-throwing inside conversion loops.
public struct ByteSink: ~Copyable {
    /// -1 for an in-memory sink, which keeps everything in `buffer`.
    private let fd: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private var failure: String?
    /// Bytes appended so far.
    public private(set) var count = 0
    static let bufferSize = 4 << 20

    public init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        buffer.reserveCapacity(Self.bufferSize)
    }

    /// A sink that collects the bytes in memory (for formats that write a tensor in one call).
    public static func inMemory(capacity: Int) -> ByteSink {
        var sink = ByteSink(fd: -1, path: "<memory>")
        sink.buffer.reserveCapacity(capacity)
        return sink
    }

    /// The bytes an in-memory sink collected.
    public consuming func collectedBytes() -> [UInt8] {
        precondition(fd < 0, "only an in-memory sink collects bytes")
        return buffer
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        count += bytes.count
        if fd < 0 {
            buffer.append(contentsOf: bytes)
            return
        }
        if buffer.count + bytes.count > Self.bufferSize { flush() }
        if bytes.count >= Self.bufferSize {
            writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    public mutating func flush() {
        guard fd >= 0, !buffer.isEmpty else { return }
        let pending = buffer
        buffer.removeAll(keepingCapacity: true)
        pending.withUnsafeBytes { writeAll($0) }
    }

    private mutating func writeAll(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, var p = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let n = Glibc.write(fd, p, remaining)
            if n < 0 {
                if errno == EINTR { continue }
                failure = String(cString: strerror(errno))
                return
            }
            p += n
            remaining -= n
        }
    }

    /// Throws the first write error, if any happened.
    public mutating func flushIfFailed() throws(FileAccessError) {
        if let failure { throw FileAccessError(path: path, reason: failure) }
    }

    public mutating func finish() throws(FileAccessError) {
        flush()
        try flushIfFailed()
    }
}

