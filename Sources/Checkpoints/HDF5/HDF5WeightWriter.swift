import CHDF5
import Foundation
import SafeTensors
import Support

/// Writes this project's HDF5 layout (docs/hdf5-layout.md): one dataset per tensor at the root, named by
/// its full dotted key, little-endian, with a `dtype` attribute; root attributes `format`,
/// `format_version`, `metadata` (JSON) and, for checkpoints, `config_json`. Written to a temporary file
/// and renamed into place when complete.
public enum HDF5WeightWriter {
    public static let format = "pixelgpt-hdf5"
    public static let formatVersion = 1
    /// Target size of one chunk when compressing: big enough for gzip to work, small enough to read a
    /// slice without inflating a whole tensor.
    static let chunkBytes = 1 << 20

    public struct Options: Sendable {
        /// gzip level 1...9 (with the shuffle filter, chunked storage), or nil for contiguous storage.
        public var gzipLevel: Int?
        public init(gzipLevel: Int? = nil) { self.gzipLevel = gzipLevel }
    }

    public static func write(
        _ records: [TensorRecord], metadata: [String: String]?, configJSON: String?, to path: String, options: Options = Options()
    ) throws {
        _ = HDF5.silenced
        let bytes = records.reduce(0) { $0 + ($1.dtype.byteCount(elements: $1.elementCount) ?? 0) }
        try StagedOutput.requireFreeSpace(bytes, at: path)
        var seen = Set<String>()
        for record in records {
            guard seen.insert(record.name).inserted else { throw HDF5Error(path: path, message: "tensor \"\(record.name)\" appears more than once") }
            // libhdf5 takes names as C strings: a NUL would cut the name short.
            let problem = record.name.isEmpty ? "it is empty" : record.name == "." ? "it is \".\"" : record.name.contains("/") ? "it contains '/'"
                : TerminalText.hasControlCharacters(record.name) ? "it holds a control character" : nil
            if let problem {
                throw HDF5Error(path: path, message: "tensor name \"\(TerminalText.escaped(record.name))\" cannot be an HDF5 dataset name at the root (\(problem))")
            }
        }
        try StagedOutput.commit(path) { temporary in
            do {
                let file = try HDF5.check(H5Fcreate(temporary, pgpt_h5f_acc_excl(), pgpt_h5p_default(), pgpt_h5p_default()), .file,
                                          path: path, "cannot create \(temporary)")
                defer { withExtendedLifetime(file) {} }
                try writeStringAttribute(file.id, "format", format, path: path)
                try writeIntegerAttribute(file.id, "format_version", formatVersion, path: path)
                if let metadata {
                    let json = try JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys])
                    try writeStringAttribute(file.id, "metadata", String(decoding: json, as: UTF8.self), path: path)
                }
                if let configJSON { try writeStringAttribute(file.id, "config_json", configJSON, path: path) }
                for record in records {
                    try writeDataset(record, in: file.id, path: path, options: options)
                }
                do {
                    try HDF5.check(H5Fflush(file.id, H5F_SCOPE_GLOBAL), path: path, "cannot write")
                } catch {
                    file.abandon()
                    throw error
                }
            }
            // The file is closed (released above) before it is synced and renamed.
            let fd = open(temporary, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
        }
    }

    private static func writeDataset(_ record: TensorRecord, in file: hid_t, path: String, options: Options) throws {
        let bytes = try record.encodedBytes()
        // Packed types (F4, F6) are stored as their bytes, with the logical shape in an attribute.
        let isPacked = record.dtype.bitSize < 8
        let dims = isPacked ? [hsize_t(bytes.count)] : record.shape.map { hsize_t($0) }
        let space = try HDF5.check(dims.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil),
                                   .dataspace, path: path, "dataspace for \(record.name)")
        defer { withExtendedLifetime(space) {} }
        let type = HDF5Types.storageType(for: record.dtype)
        defer { withExtendedLifetime(type) {} }
        let plist = try HDF5.check(H5Pcreate(pgpt_h5p_dataset_create()), .propertyList, path: path, "property list")
        defer { withExtendedLifetime(plist) {} }
        if let level = options.gzipLevel, !dims.isEmpty, !bytes.isEmpty {
            // Chunk along the first axis so that one chunk holds about chunkBytes.
            let rowBytes = max(1, bytes.count / Int(max(1, dims[0])))
            var chunk = dims
            chunk[0] = max(1, min(dims[0], hsize_t(chunkBytes / rowBytes)))
            try HDF5.check(H5Pset_chunk(plist.id, Int32(chunk.count), chunk), path: path, "chunking \(record.name)")
            try HDF5.check(H5Pset_shuffle(plist.id), path: path, "shuffle filter for \(record.name)")
            try HDF5.check(H5Pset_deflate(plist.id, UInt32(min(9, max(1, level)))), path: path, "gzip filter for \(record.name)")
        }
        let dataset = try HDF5.check(H5Dcreate2(file, record.name, type.id, space.id, pgpt_h5p_default(), plist.id, pgpt_h5p_default()),
                                     .dataset, path: path, "cannot create dataset \(record.name)")
        defer { withExtendedLifetime(dataset) {} }
        if !bytes.isEmpty {
            let status = bytes.withUnsafeBytes { H5Dwrite(dataset.id, type.id, pgpt_h5s_all(), pgpt_h5s_all(), pgpt_h5p_default(), $0.baseAddress) }
            try HDF5.check(status, path: path, "cannot write dataset \(record.name) (disk full or read-only?)")
        }
        try writeStringAttribute(dataset.id, "dtype", record.dtype.rawValue, path: path)
        if isPacked { try writeIntegerArrayAttribute(dataset.id, "shape", record.shape, path: path) }
    }

    /// A variable-length UTF-8 string attribute, as h5py writes str.
    static func writeStringAttribute(_ object: hid_t, _ name: String, _ value: String, path: String) throws(HDF5Error) {
        let type = try HDF5.check(H5Tcopy(pgpt_h5t_c_s1()), .datatype, path: path, "string type")
        defer { withExtendedLifetime(type) {} }
        H5Tset_size(type.id, pgpt_h5t_variable())
        H5Tset_cset(type.id, H5T_CSET_UTF8)
        let space = try HDF5.check(H5Screate(H5S_SCALAR), .dataspace, path: path, "scalar dataspace")
        defer { withExtendedLifetime(space) {} }
        let attribute = try HDF5.check(H5Acreate2(object, name, type.id, space.id, pgpt_h5p_default(), pgpt_h5p_default()),
                                       .attribute, path: path, "cannot create attribute \(name)")
        defer { withExtendedLifetime(attribute) {} }
        let status = value.withCString { pointer -> herr_t in
            var p: UnsafePointer<CChar>? = pointer
            return H5Awrite(attribute.id, type.id, &p)
        }
        try HDF5.check(status, path: path, "cannot write attribute \(name)")
    }

    static func writeIntegerArrayAttribute(_ object: hid_t, _ name: String, _ values: [Int], path: String) throws(HDF5Error) {
        let space = try HDF5.check(H5Screate_simple(1, [hsize_t(values.count)], nil), .dataspace, path: path, "dataspace")
        defer { withExtendedLifetime(space) {} }
        let attribute = try HDF5.check(H5Acreate2(object, name, pgpt_h5t_std_i64le(), space.id, pgpt_h5p_default(), pgpt_h5p_default()),
                                       .attribute, path: path, "cannot create attribute \(name)")
        defer { withExtendedLifetime(attribute) {} }
        let v = values.map { Int64($0) }
        try HDF5.check(H5Awrite(attribute.id, pgpt_h5t_native_int64(), v), path: path, "cannot write attribute \(name)")
    }

    static func writeIntegerAttribute(_ object: hid_t, _ name: String, _ value: Int, path: String) throws(HDF5Error) {
        let space = try HDF5.check(H5Screate(H5S_SCALAR), .dataspace, path: path, "scalar dataspace")
        defer { withExtendedLifetime(space) {} }
        let attribute = try HDF5.check(H5Acreate2(object, name, pgpt_h5t_std_i64le(), space.id, pgpt_h5p_default(), pgpt_h5p_default()),
                                       .attribute, path: path, "cannot create attribute \(name)")
        defer { withExtendedLifetime(attribute) {} }
        var v = Int64(value)
        try HDF5.check(H5Awrite(attribute.id, pgpt_h5t_native_int64(), &v), path: path, "cannot write attribute \(name)")
    }
}
