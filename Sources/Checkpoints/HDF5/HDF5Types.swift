import CHDF5
import SafeTensors

/// How each safetensors dtype is stored in HDF5, and how an HDF5 datatype found in someone else's file
/// maps back. Types HDF5 lacks (BF16, the 8-bit floats, the packed MX types) are stored as unsigned
/// integers of their width with a `dtype` attribute naming the real type (docs/hdf5-layout.md).
enum HDF5Types {
    /// The little-endian HDF5 type that holds `dtype`'s bytes unchanged. The caller closes it.
    static func storageType(for dtype: DType) -> HDF5Object {
        switch dtype {
        case .f32: HDF5Object(H5Tcopy(pgpt_h5t_ieee_f32le()), .datatype)
        case .f64: HDF5Object(H5Tcopy(pgpt_h5t_ieee_f64le()), .datatype)
        case .f16: HDF5Object(pgpt_h5t_ieee_f16le(), .datatype)
        case .i8: HDF5Object(H5Tcopy(pgpt_h5t_std_i8le()), .datatype)
        case .i16: HDF5Object(H5Tcopy(pgpt_h5t_std_i16le()), .datatype)
        case .i32: HDF5Object(H5Tcopy(pgpt_h5t_std_i32le()), .datatype)
        case .i64: HDF5Object(H5Tcopy(pgpt_h5t_std_i64le()), .datatype)
        case .u8, .f8E4M3, .f8E5M2, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ, .f4, .f6E2M3, .f6E3M2:
            HDF5Object(H5Tcopy(pgpt_h5t_std_u8le()), .datatype)
        case .u16, .bf16: HDF5Object(H5Tcopy(pgpt_h5t_std_u16le()), .datatype)
        case .u32: HDF5Object(H5Tcopy(pgpt_h5t_std_u32le()), .datatype)
        case .u64: HDF5Object(H5Tcopy(pgpt_h5t_std_u64le()), .datatype)
        case .bool: booleanEnum()
        case .c64: complexCompound()
        }
    }

    /// h5py's boolean: an enum over int8 with FALSE = 0 and TRUE = 1.
    static func booleanEnum() -> HDF5Object {
        let type = H5Tenum_create(pgpt_h5t_native_int8())
        var no: Int8 = 0, yes: Int8 = 1
        H5Tenum_insert(type, "FALSE", &no)
        H5Tenum_insert(type, "TRUE", &yes)
        return HDF5Object(type, .datatype)
    }

    /// h5py's complex64: a compound of two little-endian binary32 fields "r" and "i".
    static func complexCompound() -> HDF5Object {
        let type = H5Tcreate(H5T_COMPOUND, 8)
        H5Tinsert(type, "r", 0, pgpt_h5t_ieee_f32le())
        H5Tinsert(type, "i", 4, pgpt_h5t_ieee_f32le())
        return HDF5Object(type, .datatype)
    }

    /// The dtype a dataset of `type` holds, or nil when it is a type no tensor format has (strings,
    /// references, other compounds and enums, floats of unusual layout).
    static func dtype(of type: hid_t) -> DType? {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_FLOAT:
            var spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0
            guard H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0 else { return nil }
            switch (size, esize, msize) {
            case (2, 5, 10): return .f16
            case (2, 8, 7): return .bf16
            case (4, 8, 23): return .f32
            case (8, 11, 52): return .f64
            default: return nil
            }
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) == H5T_SGN_2
            switch (size, signed) {
            case (1, true): return .i8
            case (2, true): return .i16
            case (4, true): return .i32
            case (8, true): return .i64
            case (1, false): return .u8
            case (2, false): return .u16
            case (4, false): return .u32
            case (8, false): return .u64
            default: return nil
            }
        case H5T_ENUM:
            // h5py's bool: two members, FALSE = 0 and TRUE = 1, over a one-byte integer.
            guard size == 1, H5Tget_nmembers(type) == 2 else { return nil }
            var value: Int8 = 0
            guard H5Tenum_valueof(type, "FALSE", &value) >= 0, value == 0,
                H5Tenum_valueof(type, "TRUE", &value) >= 0, value == 1
            else { return nil }
            return .bool
        case H5T_COMPOUND:
            guard size == 8, H5Tget_nmembers(type) == 2 else { return nil }
            let names = (0..<2).map { i -> String in
                guard let p = H5Tget_member_name(type, UInt32(i)) else { return "" }
                defer { H5free_memory(p) }
                return String(cString: p)
            }
            let floats = (0..<2).allSatisfy { i in
                let member = H5Tget_member_type(type, UInt32(i))
                defer { H5Tclose(member) }
                return dtype(of: member) == .f32
            }
            return names == ["r", "i"] && floats ? .c64 : nil
        default:
            return nil
        }
    }

    /// A readable name for an unsupported type, for error messages.
    static func describe(_ type: hid_t) -> String {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_STRING: return "string"
        case H5T_FLOAT: return "\(size * 8)-bit float of unusual layout"
        case H5T_INTEGER: return "\(size * 8)-bit integer"
        case H5T_COMPOUND: return "compound (\(size) bytes)"
        case H5T_ENUM: return "enum"
        case H5T_REFERENCE: return "reference"
        case H5T_VLEN: return "variable-length"
        case H5T_ARRAY: return "array"
        case H5T_OPAQUE: return "opaque"
        case H5T_BITFIELD: return "bitfield"
        default: return "unknown class"
        }
    }
}
