import CHDF5

/// An open HDF5 identifier, closed exactly once when released. Every HDF5 call of this module goes
/// through these wrappers, so no identifier leaks on an error path.
final class HDF5Object: @unchecked Sendable {
    // @unchecked: Debian's HDF5 is the serial (non-thread-safe) build; a checkpoint is read and written
    // from one thread at a time, which is how the converter uses it.
    enum Kind { case file, group, dataset, dataspace, datatype, attribute, propertyList, object }

    let id: hid_t
    let kind: Kind
    /// Set when closing would crash: HDF5 1.10 dereferences freed state when it closes a file whose flush
    /// failed (seen with ENOSPC). The identifier is then left open; the file is deleted by the caller.
    private var isAbandoned = false

    func abandon() { isAbandoned = true }

    init(_ id: hid_t, _ kind: Kind) {
        self.id = id
        self.kind = kind
    }

    deinit {
        guard !isAbandoned else { return }
        switch kind {
        case .file: H5Fclose(id)
        case .group: H5Gclose(id)
        case .dataset: H5Dclose(id)
        case .dataspace: H5Sclose(id)
        case .datatype: H5Tclose(id)
        case .attribute: H5Aclose(id)
        case .propertyList: H5Pclose(id)
        case .object: H5Oclose(id)
        }
    }
}

/// An HDF5 failure: the file and object concerned, what was being done, and HDF5's own innermost message.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

enum HDF5 {
    /// Turns HDF5's error printing off once per process: its stack dumps would break the one-line rule.
    static let silenced: Void = { pgpt_h5_silence_errors() }()

    static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        pgpt_h5_last_error(&buffer)
        // Some HDF5 messages span lines (the file-write error lists its arguments); keep one line.
        let text = string(fromNullTerminated: buffer).split(whereSeparator: \.isNewline).joined(separator: " ")
        return text.isEmpty ? "unknown HDF5 error" : text
    }

    /// A C string held in a fixed buffer, up to its first NUL.
    static func string(fromNullTerminated buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Wraps a returned identifier; a negative one becomes an error naming what was attempted.
    static func check(_ id: hid_t, _ kind: HDF5Object.Kind, path: String, _ what: @autoclosure () -> String) throws(HDF5Error) -> HDF5Object {
        guard id >= 0 else { throw HDF5Error(path: path, message: "\(what()): \(lastError())") }
        return HDF5Object(id, kind)
    }

    static func check(_ status: herr_t, path: String, _ what: @autoclosure () -> String) throws(HDF5Error) {
        guard status >= 0 else { throw HDF5Error(path: path, message: "\(what()): \(lastError())") }
    }
}
