import Foundation
import Support
import SafeTensors

/// `pixelgpt verify`: two checkpoints in any layouts compared tensor by tensor, names mapped through
/// `WeightNameTable`. A tensor passes when every element satisfies |a - b| <= atol + rtol * |b| (numpy's
/// allclose, B the reference); NaN equals NaN. Exact (atol = rtol = 0) by default.
public struct CheckpointComparison: Codable, Sendable {
    public static let schema = "pixelgpt.verify"
    public static let version = 1

    public struct TensorResult: Codable, Sendable {
        public let name: String
        public let dtypeA: String
        public let dtypeB: String
        public let shape: [Int]
        public let maxAbsDiff: Double
        /// max |a - b| / |b| over elements with b != 0.
        public let maxRelDiff: Double
        /// Elements outside the tolerance.
        public let mismatches: Int
        public let passed: Bool
        /// When one side is F16 or BF16 and the other wider: the unit roundoff of the narrower type
        /// (2^-11, 2^-8), and whether every element is within it, i.e. the difference is that rounding.
        public let roundingBound: Double?
        public let withinRounding: Bool?

        enum CodingKeys: String, CodingKey {
            case name, shape, mismatches, passed
            case dtypeA = "dtype_a", dtypeB = "dtype_b"
            case maxAbsDiff = "max_abs_diff", maxRelDiff = "max_rel_diff"
            case roundingBound = "rounding_bound", withinRounding = "within_rounding"
        }
    }

    public struct ShapeMismatch: Codable, Sendable {
        public let name: String
        public let shapeA: [Int]
        public let shapeB: [Int]
        enum CodingKeys: String, CodingKey {
            case name
            case shapeA = "shape_a", shapeB = "shape_b"
        }
    }

    public let schema: String
    public let version: Int
    public let a: String
    public let b: String
    public let atol: Double
    public let rtol: Double
    public let tensors: [TensorResult]
    public let onlyInA: [String]
    public let onlyInB: [String]
    public let shapeMismatches: [ShapeMismatch]
    /// Up to ten tensors with the largest max_abs_diff.
    public let worst: [String]
    public let passed: Bool

    enum CodingKeys: String, CodingKey {
        case schema, version, a, b, atol, rtol, tensors, worst, passed
        case onlyInA = "only_in_a", onlyInB = "only_in_b", shapeMismatches = "shape_mismatches"
    }

    /// Elements compared per step, so that memory stays at a chunk, not a tensor, for safetensors sources.
    static let chunkElements = 1 << 20

    public static func compare(_ pathA: String, _ pathB: String, tolerance: Tolerance = .init(.elementwise, name: "exact", atol: 0, rtol: 0)) throws -> CheckpointComparison {
        precondition(tolerance.mode == .elementwise, "verify compares element by element")
        let a = try CheckpointLocation.resolve(pathA).openWeights()
        let b = try CheckpointLocation.resolve(pathB).openWeights()
        func byCanonical(_ source: any WeightSource) -> [String: WeightInfo] {
            var map: [String: WeightInfo] = [:]
            for w in source.weights { map[WeightNameTable.canonical(w.name)?.canonical ?? w.name] = w }
            return map
        }
        let mapA = byCanonical(a), mapB = byCanonical(b)
        var results: [TensorResult] = []
        var shapeMismatches: [ShapeMismatch] = []
        for name in mapA.keys.sorted() {
            guard let wa = mapA[name], let wb = mapB[name] else { continue }
            guard wa.shape == wb.shape else {
                shapeMismatches.append(ShapeMismatch(name: name, shapeA: wa.shape, shapeB: wb.shape))
                continue
            }
            results.append(try compareTensor(name: name, a.load(wa.name), b.load(wb.name), tolerance: tolerance))
        }
        let onlyInA = mapA.keys.filter { mapB[$0] == nil }.sorted()
        let onlyInB = mapB.keys.filter { mapA[$0] == nil }.sorted()
        let worst = results.filter { $0.maxAbsDiff > 0 }.sorted { $0.maxAbsDiff > $1.maxAbsDiff }.prefix(10).map(\.name)
        return CheckpointComparison(
            schema: schema, version: version, a: pathA, b: pathB, atol: tolerance.atol, rtol: tolerance.rtol, tensors: results,
            onlyInA: onlyInA, onlyInB: onlyInB, shapeMismatches: shapeMismatches, worst: Array(worst),
            passed: onlyInA.isEmpty && onlyInB.isEmpty && shapeMismatches.isEmpty && results.allSatisfy(\.passed))
    }

    static func unitRoundoff(_ dtype: DType) -> Double? {
        switch dtype {
        case .f16: 0x1p-11
        case .bf16: 0x1p-8
        default: nil
        }
    }

    static func compareTensor(name: String, _ a: LoadedWeight, _ b: LoadedWeight, tolerance: Tolerance) throws -> TensorResult {
        let dtypeA = a.info.dtype, dtypeB = b.info.dtype
        let bound: Double? = dtypeA == dtypeB ? nil : [dtypeA, dtypeB].compactMap(unitRoundoff).max()
        func result(maxAbs: Double, maxRel: Double, mismatches: Int, withinRounding: Bool?) -> TensorResult {
            TensorResult(name: name, dtypeA: dtypeA.rawValue, dtypeB: dtypeB.rawValue, shape: a.info.shape, maxAbsDiff: maxAbs,
                         maxRelDiff: maxRel, mismatches: mismatches, passed: mismatches == 0,
                         roundingBound: bound, withinRounding: withinRounding)
        }
        // Identical bytes in the same dtype are equal whatever the dtype (C64 and F4 included).
        if dtypeA == dtypeB, try withBytes(a, { ra in try withBytes(b) { rb in ra.elementsEqual(rb) } }) {
            return result(maxAbs: 0, maxRel: 0, mismatches: 0, withinRounding: nil)
        }
        // Same dtype, values Float32 cannot all hold (16777217 as I32, 2^62 + 1 as I64, 1 + 1e-12 as F64):
        // compared in their own type, so that no difference rounds away.
        if dtypeA == dtypeB, [.i32, .u32, .i64, .u64, .f64].contains(dtypeA) {
            let (maxAbs, maxRel, mismatches) = try withBytes(a) { ra in
                try withBytes(b) { rb in compareNatively(ra, rb, dtype: dtypeA, count: a.info.elementCount, tolerance: tolerance) }
            }
            return result(maxAbs: maxAbs, maxRel: maxRel, mismatches: mismatches, withinRounding: nil)
        }
        guard dtypeA.convertsToFloat32, dtypeB.convertsToFloat32 else {
            throw CheckpointError(path: name, "\(dtypeA.rawValue) and \(dtypeB.rawValue) tensors differ and cannot be compared element-wise")
        }
        let count = a.info.elementCount
        var maxAbs = 0.0, maxRel = 0.0, mismatches = 0, rounding = true
        var va = [Float](repeating: 0, count: min(count, chunkElements)), vb = va
        try withBytes(a) { ra in
            try withBytes(b) { rb in
                var first = 0
                while first < count {
                    let n = min(chunkElements, count - first)
                    decode(ra, dtypeA, first, n, into: &va)
                    decode(rb, dtypeB, first, n, into: &vb)
                    for i in 0..<n {
                        let x = Double(va[i]), y = Double(vb[i])
                        if x.isNaN || y.isNaN {
                            if x.isNaN != y.isNaN { mismatches += 1; maxAbs = .infinity; rounding = false }
                            continue
                        }
                        if x == y { continue }  // also equal infinities
                        let diff = abs(x - y)
                        maxAbs = max(maxAbs, diff)
                        if y != 0 { maxRel = max(maxRel, diff / abs(y)) }
                        if !tolerance.accepts(difference: diff, reference: abs(y)) { mismatches += 1 }
                        if let bound, !(diff <= bound * max(abs(x), abs(y)) + 0x1p-24 * 0x1p-1) { rounding = false }
                    }
                    first += n
                }
            }
        }
        return result(maxAbs: maxAbs, maxRel: maxRel, mismatches: mismatches, withinRounding: bound == nil ? nil : rounding)
    }

    /// Element-wise comparison of two same-dtype buffers without leaving the dtype: F64 in Double, integers
    /// exactly (a difference is nonzero whenever the values differ, however large they are).
    private static func compareNatively(_ ra: UnsafeRawBufferPointer, _ rb: UnsafeRawBufferPointer, dtype: DType, count: Int,
                                        tolerance: Tolerance) -> (maxAbs: Double, maxRel: Double, mismatches: Int) {
        var maxAbs = 0.0, maxRel = 0.0, mismatches = 0
        func record(diff: Double, reference y: Double) {
            maxAbs = max(maxAbs, diff)
            if y != 0 { maxRel = max(maxRel, diff / abs(y)) }
            if !tolerance.accepts(difference: diff, reference: abs(y)) { mismatches += 1 }
        }
        func integers<T: FixedWidthInteger>(_: T.Type) {
            for i in 0..<count {
                let x = T(littleEndian: ra.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
                let y = T(littleEndian: rb.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
                if x == y { continue }
                // |x − y| as the unsigned magnitude of the wrapped difference: exact, never overflowing.
                let diff = x > y ? Double(T.Magnitude(truncatingIfNeeded: x &- y)) : Double(T.Magnitude(truncatingIfNeeded: y &- x))
                record(diff: diff, reference: Double(y))
            }
        }
        switch dtype {
        case .i32: integers(Int32.self)
        case .u32: integers(UInt32.self)
        case .i64: integers(Int64.self)
        case .u64: integers(UInt64.self)
        default:
            for i in 0..<count {
                let x = Double(bitPattern: UInt64(littleEndian: ra.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
                let y = Double(bitPattern: UInt64(littleEndian: rb.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
                if x.isNaN || y.isNaN {
                    if x.isNaN != y.isNaN { mismatches += 1; maxAbs = .infinity }
                    continue
                }
                if x == y { continue }
                record(diff: abs(x - y), reference: y)
            }
        }
        return (maxAbs, maxRel, mismatches)
    }

    private static func decode(_ raw: UnsafeRawBufferPointer, _ dtype: DType, _ first: Int, _ n: Int, into values: inout [Float]) {
        let size = dtype.bitSize / 8
        values.withUnsafeMutableBufferPointer { buffer in
            ElementConversion.toFloat32(UnsafeRawBufferPointer(rebasing: raw[(first * size)..<((first + n) * size)]), dtype: dtype,
                                        into: UnsafeMutableBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    private static func withBytes<R>(_ weight: LoadedWeight, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        switch weight.payload {
        case .stored(let view):
            defer { view.releasePages() }
            return try view.withUnsafeBytes(body)
        case .bytes(let bytes):
            return try bytes.withUnsafeBytes(body)
        default:
            throw CheckpointError(path: weight.info.file, "tensor \(weight.info.name) was not loaded as bytes")
        }
    }
}
