import CHDF5
import SafeTensors

/// A read-only HDF5 file: walking groups, reading attributes and whole datasets. Knows nothing about
/// checkpoints; `HDF5Weights` decides what the datasets mean.
final class HDF5File: @unchecked Sendable {
    // @unchecked: see HDF5Object (serial HDF5, one thread at a time).
    let path: String
    private let file: HDF5Object

    init(path: String) throws(HDF5Error) {
        _ = HDF5.silenced
        guard H5Fis_hdf5(path) > 0 else {
            throw HDF5Error(path: path, message: "not an HDF5 file (no HDF5 signature found; truncated or another format?)")
        }
        self.path = path
        file = try HDF5.check(H5Fopen(path, pgpt_h5f_acc_rdonly(), pgpt_h5p_default()), .file, path: path, "cannot open")
    }

    var rootID: hid_t { file.id }

    // MARK: Groups and datasets

    /// Names of the links directly under the group at `location` ("/" for the root), sorted.
    func linkNames(in location: String) throws(HDF5Error) -> [String] {
        let group = try HDF5.check(H5Gopen2(file.id, location, pgpt_h5p_default()), .group, path: path, "cannot open group \(location)")
        defer { withExtendedLifetime(group) {} }
        final class Names { var list: [String] = [] }
        let names = Names()
        var index: hsize_t = 0
        let status = withExtendedLifetime(names) {
            H5Literate(group.id, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, data in
                guard let name, let data else { return -1 }
                Unmanaged<Names>.fromOpaque(data).takeUnretainedValue().list.append(String(cString: name))
                return 0
            }, Unmanaged.passUnretained(names).toOpaque())
        }
        try HDF5.check(status, path: path, "cannot list group \(location)")
        return names.list
    }

    /// `location` as a path of hard links only, after following its soft links; throws when a step is
    /// missing, is an external or user-defined link, or soft links do not end. Called before any object
    /// is opened by path: HDF5 would otherwise open the other file of an external link and read it.
    @discardableResult
    func hardPath(of location: String) throws(HDF5Error) -> String {
        var softLinks = 0
        return try hardPath(of: location, softLinks: &softLinks)
    }

    /// `softLinks` counts the soft links followed for one path in all, as HDF5 counts them: a limit on
    /// depth alone would let targets that repeat soft links fan out exponentially.
    private func hardPath(of location: String, softLinks: inout Int) throws(HDF5Error) -> String {
        var resolved = ""  // the hard-link path walked so far; "" is the root
        for part in location.split(separator: "/") where part != "." {
            let here = resolved + "/" + part
            var info = H5L_info_t()
            guard H5Lget_info(file.id, here, &info, pgpt_h5p_default()) >= 0 else {
                throw HDF5Error(path: path, message: here == location ? "no object \(location)" : "no object \(location) (\(here) does not exist)")
            }
            switch info.type {
            case H5L_TYPE_HARD:
                resolved = here
            case H5L_TYPE_SOFT:
                // A link value lives in an object header (at most 64 KiB); a larger size is corruption.
                guard info.u.val_size < 65536 else { throw HDF5Error(path: path, message: "soft link \(here) has an impossible length \(info.u.val_size)") }
                var value = [CChar](repeating: 0, count: info.u.val_size + 1)
                try HDF5.check(H5Lget_val(file.id, here, &value, value.count, pgpt_h5p_default()), path: path, "cannot read soft link \(here)")
                let target = HDF5.string(fromNullTerminated: value)
                // HDF5 itself gives up after 16 soft links; so does this walk.
                softLinks += 1
                guard softLinks <= 16 else { throw HDF5Error(path: path, message: "soft link \(here) -> \(target): more than 16 soft links in one path (a cycle?)") }
                do {
                    resolved = try hardPath(of: target.hasPrefix("/") ? target : resolved + "/" + target, softLinks: &softLinks)
                } catch {
                    throw HDF5Error(path: path, message: "soft link \(here) -> \(target): \(error.message)")
                }
            case H5L_TYPE_EXTERNAL:
                guard info.u.val_size < 65536 else { throw HDF5Error(path: path, message: "\(here) is an external link; only objects inside the file are read") }
                var value = [CChar](repeating: 0, count: info.u.val_size + 1)
                var flags: UInt32 = 0
                var fileName: UnsafePointer<CChar>?, objectName: UnsafePointer<CChar>?
                let target = H5Lget_val(file.id, here, &value, value.count, pgpt_h5p_default()) >= 0
                    && H5Lunpack_elink_val(&value, info.u.val_size, &flags, &fileName, &objectName) >= 0
                    ? " to \(fileName.map { String(cString: $0) } ?? "?"):\(objectName.map { String(cString: $0) } ?? "?")" : ""
                throw HDF5Error(path: path, message: "\(here) is an external link\(target); only objects inside the file are read")
            default:
                throw HDF5Error(path: path, message: "\(here) is a user-defined link (type \(info.type.rawValue)); only objects inside the file are read")
            }
        }
        return resolved.isEmpty ? "/" : resolved
    }

    /// Every dataset below the root, depth first, as absolute paths ("/a/b"). Each group is entered
    /// once: a link back to an enclosing group (a cycle) or a second link to a group already walked
    /// (which can multiply paths exponentially) is refused.
    func datasetPaths() throws(HDF5Error) -> [String] {
        var result: [String] = []
        let root = try address(of: "/").addr
        var groups: [haddr_t: String] = [root: "/"]
        try walk("/", ancestors: [root], groups: &groups, into: &result)
        return result
    }

    private func address(of location: String) throws(HDF5Error) -> H5O_info_t {
        var info = H5O_info_t()
        try HDF5.check(H5Oget_info_by_name2(file.id, location, &info, UInt32(H5O_INFO_BASIC), pgpt_h5p_default()), path: path, "cannot open \(location)")
        return info
    }

    private func walk(_ location: String, ancestors: Set<haddr_t>, groups: inout [haddr_t: String], into result: inout [String]) throws(HDF5Error) {
        for name in try linkNames(in: location) {
            let child = location == "/" ? "/" + name : location + "/" + name
            try hardPath(of: child)
            let info = try address(of: child)
            switch info.type {
            case H5O_TYPE_GROUP:
                if let first = groups[info.addr] {
                    throw HDF5Error(path: path, message: ancestors.contains(info.addr)
                        ? "group link \(child) leads back to \(first), which contains it (a cycle)"
                        : "group link \(child) is a second link to group \(first); each group is read through one path")
                }
                groups[info.addr] = child
                try walk(child, ancestors: ancestors.union([info.addr]), groups: &groups, into: &result)
            case H5O_TYPE_DATASET:
                result.append(child)
            default:
                continue
            }
        }
    }

    struct DatasetInfo {
        let dtype: DType
        let shape: [Int]
        /// "contiguous", "compact", or "chunked" with its filters ("chunked+shuffle+gzip").
        let storage: String
    }

    /// Shape, dtype and storage of a dataset. With `declaredDtype`, a `dtype` string attribute (this
    /// project's layout) names types HDF5 lacks, stored in a same-width integer.
    func datasetInfo(_ location: String, declaredDtype: Bool) throws(HDF5Error) -> DatasetInfo {
        try hardPath(of: location)
        let dataset = try HDF5.check(H5Dopen2(file.id, location, pgpt_h5p_default()), .dataset, path: path, "cannot open dataset \(location)")
        defer { withExtendedLifetime(dataset) {} }
        let type = try HDF5.check(H5Dget_type(dataset.id), .datatype, path: path, "cannot read the type of \(location)")
        defer { withExtendedLifetime(type) {} }
        var dtype = HDF5Types.dtype(of: type.id)
        if declaredDtype, let declared = try stringAttribute(on: dataset.id, name: "dtype", location: location) {
            guard let named = DType(rawValue: declared) else {
                throw HDF5Error(path: path, message: "dataset \(location): attribute dtype=\"\(declared)\" is not a safetensors dtype")
            }
            // The stored type must be exactly the one this project writes for that dtype: reading through
            // another type would make HDF5 convert values instead of keeping the bytes.
            let namedType = HDF5Types.storageType(for: named)
            defer { withExtendedLifetime(namedType) {} }
            guard H5Tequal(namedType.id, type.id) > 0 else {
                throw HDF5Error(path: path, message: "dataset \(location): attribute dtype=\"\(declared)\" does not match its stored HDF5 type (\(HDF5Types.describe(type.id)))")
            }
            dtype = named
        }
        guard let dtype else {
            throw HDF5Error(path: path, message: "dataset \(location) has an unsupported type (\(HDF5Types.describe(type.id)))")
        }
        let space = try HDF5.check(H5Dget_space(dataset.id), .dataspace, path: path, "cannot read the shape of \(location)")
        defer { withExtendedLifetime(space) {} }
        // h5py.Empty: no value at all, which reading would turn into a zero.
        guard H5Sget_simple_extent_type(space.id) != H5S_NULL else {
            throw HDF5Error(path: path, message: "dataset \(location) has a null dataspace (h5py.Empty): it holds no value")
        }
        let rank = Int(H5Sget_simple_extent_ndims(space.id))
        guard rank >= 0 else { throw HDF5Error(path: path, message: "dataset \(location): unreadable dataspace") }
        var dims = [hsize_t](repeating: 0, count: rank)
        if rank > 0 { H5Sget_simple_extent_dims(space.id, &dims, nil) }
        guard dims.allSatisfy({ $0 <= hsize_t(Int.max) }) else {
            throw HDF5Error(path: path, message: "dataset \(location): dimensions \(dims) are too large to address")
        }
        let plist = try HDF5.check(H5Dget_create_plist(dataset.id), .propertyList, path: path, "cannot read the layout of \(location)")
        defer { withExtendedLifetime(plist) {} }
        try checkStorageInsideFile(plist.id, location: location)
        var shape = dims.map { Int($0) }
        if dtype.bitSize < 8 {
            // Packed types are stored as bytes; the logical shape is an attribute (docs/hdf5-layout.md).
            guard let logical = try integerArrayAttribute(on: dataset.id, name: "shape", location: location),
                dtype.byteCount(shape: logical) == shape.first, shape.count == 1
            else { throw HDF5Error(path: path, message: "dataset \(location): packed \(dtype.rawValue) data needs a shape attribute matching its bytes") }
            shape = logical
        }
        guard let declared = dtype.byteCount(shape: shape) else {
            throw HDF5Error(path: path, message: "dataset \(location): shape \(shape) is too large to address")
        }
        let storage = try storage(plist.id, location: location)
        try checkStoredSize(declared, dataset.id, plist.id, location: location)
        return DatasetInfo(dtype: dtype, shape: shape, storage: storage)
    }

    /// Raw data in other files (external storage, virtual datasets) is never read: a checkpoint could
    /// otherwise copy any file the user can read into its output.
    private func checkStorageInsideFile(_ plist: hid_t, location: String) throws(HDF5Error) {
        let count = H5Pget_external_count(plist)
        if count > 0 {
            var name = [CChar](repeating: 0, count: 256)
            var offset: off_t = 0
            var size: hsize_t = 0
            _ = H5Pget_external(plist, 0, name.count, &name, &offset, &size)
            throw HDF5Error(path: path, message: "dataset \(location) has external raw storage in \(count) other file(s) (\(HDF5.string(fromNullTerminated: name)), ...); only data inside the file is read")
        }
        if H5Pget_layout(plist) == H5D_VIRTUAL {
            throw HDF5Error(path: path, message: "dataset \(location) is a virtual dataset (its data lives in other datasets or files); only data inside the file is read")
        }
    }

    /// Deflate expands at most about 1032-fold; no compressed dataset may declare more than this many
    /// bytes per byte stored.
    static let maximumExpansion = 1032

    /// The bytes a dataset declares must be stored in the file before anything is allocated for them:
    /// all of them when uncompressed, at least 1/`maximumExpansion` of them when compressed. A few
    /// hundred bytes of metadata can otherwise declare terabytes of never-written chunks, which HDF5
    /// would fill with zeros.
    private func checkStoredSize(_ declared: Int, _ dataset: hid_t, _ plist: hid_t, location: String) throws(HDF5Error) {
        guard declared > 0 else { return }
        let stored = H5Dget_storage_size(dataset)
        var compressed = false
        if H5Pget_layout(plist) == H5D_CHUNKED {
            for i in 0..<max(0, H5Pget_nfilters(plist)) {
                var flags: UInt32 = 0, count = 0, config: UInt32 = 0
                var name = [CChar](repeating: 0, count: 64)
                let filter = H5Pget_filter2(plist, UInt32(i), &flags, &count, nil, name.count, &name, &config)
                // Shuffle reorders bytes and Fletcher32 adds a checksum: neither makes data smaller.
                if filter != H5Z_FILTER_SHUFFLE && filter != H5Z_FILTER_FLETCHER32 { compressed = true }
            }
        }
        let (limit, overflow) = Int(clamping: stored).multipliedReportingOverflow(by: compressed ? Self.maximumExpansion : 1)
        guard overflow || declared <= limit else {
            let rule = compressed
                ? "compressed data may declare at most \(Self.maximumExpansion) times the bytes stored (\(limit))"
                : "uncompressed data must be stored in full (never-written or partly written dataset?)"
            throw HDF5Error(path: path, message: "dataset \(location) declares \(declared) bytes but the file stores \(stored) bytes for it; \(rule)")
        }
    }

    private func storage(_ plist: hid_t, location: String) throws(HDF5Error) -> String {
        switch H5Pget_layout(plist) {
        case H5D_CONTIGUOUS: return "contiguous"
        case H5D_COMPACT: return "compact"
        case H5D_CHUNKED:
            var parts = ["chunked"]
            for i in 0..<max(0, H5Pget_nfilters(plist)) {
                var flags: UInt32 = 0, count = 0
                var name = [CChar](repeating: 0, count: 64)
                var config: UInt32 = 0
                let filter = H5Pget_filter2(plist, UInt32(i), &flags, &count, nil, name.count, &name, &config)
                guard H5Zfilter_avail(filter) > 0 else {
                    throw HDF5Error(path: path, message: "dataset \(location) uses HDF5 filter \(filter) (\(HDF5.string(fromNullTerminated: name))), which this HDF5 library cannot decode")
                }
                switch filter {
                case H5Z_FILTER_DEFLATE: parts.append("gzip")
                case H5Z_FILTER_SHUFFLE: parts.append("shuffle")
                case H5Z_FILTER_FLETCHER32: parts.append("fletcher32")
                default: parts.append(HDF5.string(fromNullTerminated: name))
                }
            }
            return parts.joined(separator: "+")
        default: return "virtual"
        }
    }

    /// The dataset's elements in `dtype`'s little-endian byte layout (HDF5 converts other byte orders).
    func read(_ location: String, as dtype: DType, elementCount: Int) throws(HDF5Error) -> [UInt8] {
        let dataset = try HDF5.check(H5Dopen2(file.id, location, pgpt_h5p_default()), .dataset, path: path, "cannot open dataset \(location)")
        defer { withExtendedLifetime(dataset) {} }
        let memoryType = HDF5Types.storageType(for: dtype)
        defer { withExtendedLifetime(memoryType) {} }
        let size = dtype.byteCount(elements: elementCount) ?? 0
        var bytes = [UInt8](repeating: 0, count: size)
        guard size > 0 else { return bytes }
        let status = bytes.withUnsafeMutableBytes {
            H5Dread(dataset.id, memoryType.id, pgpt_h5s_all(), pgpt_h5s_all(), pgpt_h5p_default(), $0.baseAddress)
        }
        try HDF5.check(status, path: path, "cannot read dataset \(location) (corrupt or truncated?)")
        return bytes
    }

    // MARK: Attributes

    func hasAttribute(on object: hid_t, name: String) -> Bool {
        H5Aexists(object, name) > 0
    }

    /// A scalar string attribute (fixed or variable length), nil when absent.
    func stringAttribute(on object: hid_t, name: String, location: String) throws(HDF5Error) -> String? {
        try stringArrayAttribute(on: object, name: name, location: location)?.first
    }

    /// A string attribute as an array (Keras stores `layer_names` as fixed-length byte strings, h5py
    /// stores str as variable-length UTF-8); nil when absent.
    func stringArrayAttribute(on object: hid_t, name: String, location: String) throws(HDF5Error) -> [String]? {
        guard hasAttribute(on: object, name: name) else { return nil }
        let what = "attribute \(name) of \(location)"
        let attribute = try HDF5.check(H5Aopen(object, name, pgpt_h5p_default()), .attribute, path: path, "cannot open \(what)")
        defer { withExtendedLifetime(attribute) {} }
        let type = try HDF5.check(H5Aget_type(attribute.id), .datatype, path: path, "cannot read the type of \(what)")
        defer { withExtendedLifetime(type) {} }
        guard H5Tget_class(type.id) == H5T_STRING else { throw HDF5Error(path: path, message: "\(what) is not a string") }
        let space = try HDF5.check(H5Aget_space(attribute.id), .dataspace, path: path, "cannot read \(what)")
        defer { withExtendedLifetime(space) {} }
        let count = max(1, Int(H5Sget_simple_extent_npoints(space.id)))
        let memory = try HDF5.check(H5Tcopy(pgpt_h5t_c_s1()), .datatype, path: path, "string type")
        defer { withExtendedLifetime(memory) {} }
        if H5Tis_variable_str(type.id) > 0 {
            H5Tset_size(memory.id, pgpt_h5t_variable())
            H5Tset_cset(memory.id, H5Tget_cset(type.id))
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try HDF5.check(H5Aread(attribute.id, memory.id, &pointers), path: path, "cannot read \(what)")
            defer { for p in pointers where p != nil { H5free_memory(p) } }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let width = H5Tget_size(type.id)
        H5Tset_size(memory.id, width)
        // numpy's fixed-width bytes ("S28") fill the whole width with no terminator: read them padded,
        // not NUL-terminated, or HDF5 drops the last character to make room for one.
        H5Tset_strpad(memory.id, H5T_STR_NULLPAD)
        var bytes = [UInt8](repeating: 0, count: width * count)
        try HDF5.check(H5Aread(attribute.id, memory.id, &bytes), path: path, "cannot read \(what)")
        return (0..<count).map { i in
            let slice = bytes[(i * width)..<((i + 1) * width)]
            return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Keras splits a long string-list attribute into `name0`, `name1`, ... (HDF5 object headers are
    /// limited to 64 KiB); this reads either form.
    func splitStringListAttribute(on object: hid_t, name: String, location: String) throws(HDF5Error) -> [String]? {
        if let whole = try stringArrayAttribute(on: object, name: name, location: location) { return whole }
        var parts: [String] = []
        var chunk = 0
        while let part = try stringArrayAttribute(on: object, name: "\(name)\(chunk)", location: location) {
            parts += part
            chunk += 1
        }
        return chunk > 0 ? parts : nil
    }

    func integerArrayAttribute(on object: hid_t, name: String, location: String) throws(HDF5Error) -> [Int]? {
        guard hasAttribute(on: object, name: name) else { return nil }
        let attribute = try HDF5.check(H5Aopen(object, name, pgpt_h5p_default()), .attribute, path: path, "cannot open attribute \(name) of \(location)")
        defer { withExtendedLifetime(attribute) {} }
        let space = try HDF5.check(H5Aget_space(attribute.id), .dataspace, path: path, "cannot read attribute \(name) of \(location)")
        defer { withExtendedLifetime(space) {} }
        var values = [Int64](repeating: 0, count: max(0, Int(H5Sget_simple_extent_npoints(space.id))))
        try HDF5.check(H5Aread(attribute.id, pgpt_h5t_native_int64(), &values), path: path, "cannot read attribute \(name) of \(location) as integers")
        return values.map { Int($0) }
    }

    func integerAttribute(on object: hid_t, name: String, location: String) throws(HDF5Error) -> Int? {
        guard hasAttribute(on: object, name: name) else { return nil }
        let attribute = try HDF5.check(H5Aopen(object, name, pgpt_h5p_default()), .attribute, path: path, "cannot open attribute \(name) of \(location)")
        defer { withExtendedLifetime(attribute) {} }
        var value: Int64 = 0
        try HDF5.check(H5Aread(attribute.id, pgpt_h5t_native_int64(), &value), path: path, "cannot read attribute \(name) of \(location) as an integer")
        return Int(value)
    }
}
