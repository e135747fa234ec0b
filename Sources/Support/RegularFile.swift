import Foundation
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Checks made before a file is opened for reading. open(2) of a FIFO blocks until a writer appears, and
/// reading a device can block or never end, so anything but a regular file (or a symlink to one) is
/// refused by stat(2) first. Every reader of a user-named file calls this.
public enum RegularFile {
    public static func require(_ path: String) throws(FileAccessError) {
        var status = stat()
        guard stat(path, &status) == 0 else { throw FileAccessError(path: path, reason: String(cString: strerror(errno))) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw FileAccessError(path: path, reason: "not a regular file (a directory, FIFO or device?)", kind: .notARegularFile)
        }
    }

    /// Copies the bytes `source` leads to into a new regular file at `destination`. A Hugging Face hub
    /// snapshot's files are relative symlinks into ../../blobs/; copying the link itself (FileManager's
    /// copyItem) would leave a dangling one in any other directory.
    public static func copyContents(of source: String, to destination: String) throws(FileAccessError) {
        try require(source)
        guard let data = FileManager.default.contents(atPath: source) else { throw FileAccessError(path: source, reason: "unreadable") }
        guard FileManager.default.createFile(atPath: destination, contents: data) else {
            throw FileAccessError(path: destination, reason: "cannot be written")
        }
    }
}
