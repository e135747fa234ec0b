/// Element-wise conversion between the stored dtypes and Float32. Kernels of a format reader: the only
/// place in this module that reads raw element bytes. Sources may be unaligned (a safetensors tensor is
/// only guaranteed byte alignment), so every load is an unaligned load; little-endian is assumed, as the
/// format requires and every platform Swift targets here is.
public enum ElementConversion {
    /// The integer dtypes whose every value an Int64 holds.
    public static let decodableAsInt64: Set<DType> = [.bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64]

    /// Decodes `count` integer elements of `dtype` (one of `decodableAsInt64`) from `source`, exactly.
    public static func toInt64(_ source: UnsafeRawBufferPointer, dtype: DType, count n: Int) -> [Int64] {
        precondition(decodableAsInt64.contains(dtype), "\(dtype.rawValue) does not decode to Int64")
        precondition(dtype.byteCount(elements: n) == source.count, "source size does not match element count")
        return (0..<n).map { i in
            switch dtype {
            case .bool, .u8: Int64(source[i])
            case .i8: Int64(Int8(bitPattern: source[i]))
            case .i16: Int64(source.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))
            case .u16: Int64(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            case .i32: Int64(source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
            case .u32: Int64(source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
            default: source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)
            }
        }
    }

    /// Decodes `count` elements of `dtype` from `source` into `destination` (both exactly sized).
    /// Integers convert exactly where Float32 can hold them; F64 rounds to nearest even.
    public static func toFloat32(
        _ source: UnsafeRawBufferPointer, dtype: DType, into destination: UnsafeMutableBufferPointer<Float>
    ) {
        let n = destination.count
        precondition(dtype.convertsToFloat32, "\(dtype.rawValue) does not decode element-wise")
        precondition(dtype.byteCount(elements: n) == source.count, "source size does not match element count")
        switch dtype {
        case .f32:
            for i in 0..<n { destination[i] = source.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<n {
                destination[i] = Float(Float16(bitPattern: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<n { destination[i] = bfloat16ToFloat(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .f64:
            for i in 0..<n { destination[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        case .f8E4M3, .f8E5M2, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ:
            let table = Float8Tables.table(for: dtype)
            for i in 0..<n { destination[i] = table[Int(source[i])] }
        case .bool:
            for i in 0..<n { destination[i] = source[i] != 0 ? 1 : 0 }
        case .u8:
            for i in 0..<n { destination[i] = Float(source[i]) }
        case .i8:
            for i in 0..<n { destination[i] = Float(Int8(bitPattern: source[i])) }
        case .i16:
            for i in 0..<n { destination[i] = Float(source.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
        case .u16:
            for i in 0..<n { destination[i] = Float(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .i32:
            for i in 0..<n { destination[i] = Float(source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        case .u32:
            for i in 0..<n { destination[i] = Float(source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        case .i64:
            for i in 0..<n { destination[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
        case .u64:
            for i in 0..<n { destination[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
        case .f4, .f6E2M3, .f6E3M2, .c64:
            preconditionFailure("unreachable: checked by convertsToFloat32")
        }
    }

    /// The dtypes `fromFloat32` can encode.
    public static let encodableFromFloat32: [DType] = [.f32, .f16, .bf16]

    /// Encodes Float32 values as F32, F16 or BF16, rounding to nearest even; NaN stays NaN (sign kept,
    /// quieted), infinities stay infinite, values past the target's range become infinite.
    public static func fromFloat32(
        _ source: UnsafeBufferPointer<Float>, to dtype: DType, into destination: UnsafeMutableRawBufferPointer
    ) {
        let n = source.count
        precondition(dtype.byteCount(elements: n) == destination.count, "destination size does not match element count")
        switch dtype {
        case .f32:
            for i in 0..<n { destination.storeBytes(of: source[i], toByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<n { destination.storeBytes(of: Float16(source[i]).bitPattern, toByteOffset: 2 * i, as: UInt16.self) }
        case .bf16:
            for i in 0..<n { destination.storeBytes(of: floatToBFloat16(source[i]), toByteOffset: 2 * i, as: UInt16.self) }
        default:
            preconditionFailure("fromFloat32 encodes F32, F16 and BF16 only, not \(dtype.rawValue)")
        }
    }

    /// BF16 is the top half of an IEEE binary32.
    @inline(__always)
    public static func bfloat16ToFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Round-to-nearest-even truncation of binary32 to its top 16 bits; NaNs are quieted so that no
    /// payload truncates to an infinity.
    @inline(__always)
    public static func floatToBFloat16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let roundingBias: UInt32 = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
    }
}

/// 256-entry decode tables for the 8-bit float formats (OCP FP8 and MX E8M0, and the FNUZ variants of
/// Graphcore/AMD). Built once; a table lookup is exact and faster than bit manipulation.
enum Float8Tables {
    static let e4m3: [Float] = (0..<256).map { decodeMinifloat(UInt8($0), exponentBits: 4, mantissaBits: 3, bias: 7, nan: .e4m3fn) }
    static let e5m2: [Float] = (0..<256).map { decodeMinifloat(UInt8($0), exponentBits: 5, mantissaBits: 2, bias: 15, nan: .ieee) }
    static let e4m3fnuz: [Float] = (0..<256).map { decodeMinifloat(UInt8($0), exponentBits: 4, mantissaBits: 3, bias: 8, nan: .negativeZero) }
    static let e5m2fnuz: [Float] = (0..<256).map { decodeMinifloat(UInt8($0), exponentBits: 5, mantissaBits: 2, bias: 16, nan: .negativeZero) }
    /// E8M0: an unsigned power of two, 2^(e-127); 0xFF is NaN.
    static let e8m0: [Float] = (0..<256).map { $0 == 255 ? .nan : Float(sign: .plus, exponent: $0 - 127, significand: 1) }

    static func table(for dtype: DType) -> [Float] {
        switch dtype {
        case .f8E4M3: e4m3
        case .f8E5M2: e5m2
        case .f8E4M3FNUZ: e4m3fnuz
        case .f8E5M2FNUZ: e5m2fnuz
        case .f8E8M0: e8m0
        default: preconditionFailure("\(dtype.rawValue) is not an 8-bit float")
        }
    }

    /// How a format spends its special encodings.
    enum SpecialValues {
        /// IEEE-like: all-ones exponent is infinity (zero mantissa) or NaN.
        case ieee
        /// E4M3FN: no infinities; only S.1111.111 is NaN.
        case e4m3fn
        /// FNUZ: no infinities, no negative zero; 0x80 is the only NaN.
        case negativeZero
    }

    static func decodeMinifloat(_ byte: UInt8, exponentBits: Int, mantissaBits: Int, bias: Int, nan: SpecialValues) -> Float {
        let sign: Float = byte & 0x80 != 0 ? -1 : 1
        let exponentMask = (1 << exponentBits) - 1
        let exponent = Int(byte >> UInt8(mantissaBits)) & exponentMask
        let mantissa = Int(byte) & ((1 << mantissaBits) - 1)
        switch nan {
        case .ieee where exponent == exponentMask:
            return mantissa == 0 ? sign * .infinity : .nan
        case .e4m3fn where exponent == exponentMask && mantissa == (1 << mantissaBits) - 1:
            return .nan
        case .negativeZero where byte == 0x80:
            return .nan
        default:
            break
        }
        let scale = Float(1 << mantissaBits)
        if exponent == 0 {
            return sign * Float(mantissa) / scale * Float(sign: .plus, exponent: 1 - bias, significand: 1)
        }
        return sign * (1 + Float(mantissa) / scale) * Float(sign: .plus, exponent: exponent - bias, significand: 1)
    }
}
