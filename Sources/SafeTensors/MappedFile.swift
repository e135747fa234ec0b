#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Support

/// A read-only byte region that stays valid while this object lives: a file mapped with mmap(2), or a
/// page-aligned heap copy for bytes that never were a file (tests, fuzzing).
///
/// Mapping, unlike `Data(contentsOf:options: .mappedIfSafe)`, reads nothing up front: opening a 1.4 GB
/// checkpoint touches only the pages of its header. Pages are read on first access and can be dropped by
/// the kernel again, so resident memory follows what is used. A file truncated by another process while
/// mapped raises SIGBUS on access; that is the price of zero-copy and is what every mmap reader accepts.
final class MappedRegion: @unchecked Sendable {
    // @unchecked: the region is immutable after init and unmapped only in deinit.
    let base: UnsafeRawPointer?
    let count: Int
    private let isMapped: Bool

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Maps `path` read-only. Throws for anything that is not a readable regular file.
    init(path: String) throws(SafeTensorsError) {
        do { try RegularFile.require(path) } catch {
            throw SafeTensorsError(path: path, error.kind == .notARegularFile ? .notARegularFile : .cannotOpen(error.reason))
        }
        // O_NONBLOCK: should a FIFO take the file's place after the check, open(2) returns at once
        // instead of waiting for a writer; fstat below then refuses it. It changes nothing for regular files.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw SafeTensorsError(path: path, .cannotOpen(String(cString: strerror(errno)))) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw SafeTensorsError(path: path, .cannotOpen(String(cString: strerror(errno)))) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw SafeTensorsError(path: path, .notARegularFile) }
        count = Int(status.st_size)
        isMapped = count > 0
        guard count > 0 else {
            base = nil
            return
        }
        let address = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw SafeTensorsError(path: path, .cannotOpen("mmap failed: \(String(cString: strerror(errno)))"))
        }
        base = UnsafeRawPointer(address)
    }

    /// A private, page-aligned copy of `bytes`, so that alignment behaves as for a mapped file.
    init(copying bytes: [UInt8]) {
        let n = bytes.count
        count = n
        isMapped = false
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: 4096)
        bytes.withUnsafeBytes { if n > 0 { buffer.copyMemory(from: $0.baseAddress!, byteCount: n) } }
        base = UnsafeRawPointer(buffer)
    }

    /// madvise(MADV_DONTNEED) over the whole pages inside `range` (mapped files only).
    func releasePages(of range: UnsafeRawBufferPointer) {
        guard isMapped, let start = range.baseAddress, range.count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let last = (Int(bitPattern: start) + range.count) / page * page
        guard last > first, let address = UnsafeMutableRawPointer(bitPattern: first) else { return }
        madvise(address, last - first, Int32(MADV_DONTNEED))
    }

    deinit {
        guard let base else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }
}
