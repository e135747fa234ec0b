/// The element types of the safetensors format, spelled as in the header's `dtype` field.
///
/// The case order is the reference implementation's `Dtype` enum order, which is also its alignment
/// order: the writer sorts tensors by descending rank here, then by name, so that every tensor starts at a
/// multiple of its own element size (see `SafeTensorsWriter`).
public enum DType: String, CaseIterable, Sendable, Codable, Comparable {
    case bool = "BOOL"
    case f4 = "F4"
    case f6E2M3 = "F6_E2M3"
    case f6E3M2 = "F6_E3M2"
    case u8 = "U8"
    case i8 = "I8"
    case f8E5M2 = "F8_E5M2"
    case f8E4M3 = "F8_E4M3"
    case f8E8M0 = "F8_E8M0"
    case f8E4M3FNUZ = "F8_E4M3FNUZ"
    case f8E5M2FNUZ = "F8_E5M2FNUZ"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case c64 = "C64"
    case f64 = "F64"
    case i64 = "I64"
    case u64 = "U64"

    /// Size of one element in bits (F4 and F6 pack several elements per byte).
    public var bitSize: Int {
        switch self {
        case .f4: 4
        case .f6E2M3, .f6E3M2: 6
        case .bool, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ: 8
        case .i16, .u16, .f16, .bf16: 16
        case .i32, .u32, .f32: 32
        case .c64, .f64, .i64, .u64: 64
        }
    }

    /// Alignment a zero-copy typed view needs, in bytes.
    public var alignment: Int { max(1, bitSize / 8) }

    public var isFloatingPoint: Bool {
        switch self {
        case .f4, .f6E2M3, .f6E3M2, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ, .f16, .bf16, .f32, .f64:
            true
        default:
            false
        }
    }

    /// Whether `ElementConversion.toFloat32` can decode this type. The sub-byte MX types (F4, F6) and the
    /// complex C64 can be read, inspected and copied, but not decoded element-wise.
    public var convertsToFloat32: Bool {
        switch self {
        case .f4, .f6E2M3, .f6E3M2, .c64: false
        default: true
        }
    }

    /// Byte count of `elementCount` elements, or nil when it is not a whole number of bytes or overflows.
    public func byteCount(elements elementCount: Int) -> Int? {
        let (bits, overflow) = elementCount.multipliedReportingOverflow(by: bitSize)
        guard !overflow, bits % 8 == 0 else { return nil }
        return bits / 8
    }

    /// Byte count of a tensor of `shape`, or nil when a dimension is negative, the product overflows, or
    /// it is not a whole number of bytes. Untrusted shapes (file headers) go through here.
    public func byteCount(shape: [Int]) -> Int? {
        var elements = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            elements = product
        }
        return byteCount(elements: elements)
    }

    public static func < (lhs: DType, rhs: DType) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
