import CGEMM
import Foundation

/// The instruction set of the GEMM micro-kernel (Sources/CGEMM). All compute the same bits; the fastest
/// the CPU has is the default, and PIXELGPT_GEMM_ISA=avx2|scalar picks a slower one (the tests hold the
/// paths against each other on one machine).
public enum GEMMInstructionSet: Int, Sendable, CaseIterable {
    case scalar = 0, avx2 = 1, avx512 = 2

    /// What this CPU supports at best.
    public static let best = GEMMInstructionSet(rawValue: Int(pgpt_gemm_best_isa().rawValue)) ?? .scalar

    /// The process's choice: `best`, or the environment's PIXELGPT_GEMM_ISA when the CPU supports it.
    public static let current: GEMMInstructionSet = {
        guard let name = ProcessInfo.processInfo.environment["PIXELGPT_GEMM_ISA"],
              let chosen = allCases.first(where: { $0.name == name }), chosen.rawValue <= best.rawValue else { return best }
        return chosen
    }()

    public var name: String {
        switch self {
        case .scalar: "scalar"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }

    var c: pgpt_isa { pgpt_isa(rawValue: UInt32(rawValue)) }
    /// Output columns per packed panel.
    var panelWidth: Int { Int(pgpt_gemm_panel_width(c)) }
    /// Rows per micro-tile.
    var rowTile: Int { Int(pgpt_gemm_row_tile(c)) }
}

/// A Linear layer's weight W [N, K] ([out_features, in_features]) packed once into the GEMM's panels, so
/// that no call repacks it (OpenBLAS repacks its B operand on every call), with its bias when it has one.
/// Immutable after init.
public final class PackedMatrix: @unchecked Sendable {
    // @unchecked: `values` and `bias` are written only in init and read-only afterwards.
    /// N: output features.
    public let rows: Int
    /// K: input features, the length of every reduction.
    public let columns: Int
    public let instructionSet: GEMMInstructionSet
    let values: UnsafeMutablePointer<Float>
    let count: Int
    /// [N], added to each output after its chain.
    let bias: UnsafeMutablePointer<Float>?

    /// Packs W stored row-major [N, K] (leading dimension `leading`, default K) and copies the bias [N].
    public convenience init(_ w: UnsafeBufferPointer<Float>, rows n: Int, columns k: Int, leading: Int? = nil,
                            bias: UnsafeBufferPointer<Float>? = nil, instructionSet: GEMMInstructionSet = .current) {
        let ld = leading ?? k
        precondition(n >= 0 && k >= 0 && (n == 0 || k == 0 || w.count >= (n - 1) * ld + k) && (bias == nil || bias!.count == n))
        self.init(rows: n, columns: k, instructionSet: instructionSet, copyBias: bias.map { b in { $0.update(from: b.baseAddress!, count: n) } }) { packed, panel in
            pgpt_gemm_pack_nk(packed, w.baseAddress, Int64(ld), Int64(n), Int64(k), panel)
        }
    }

    /// Packs a weight tensor of any stored dtype (its Float32 view; trailing dimensions flatten into K) and
    /// its bias.
    public convenience init(_ tensor: WeightTensor, bias: WeightTensor? = nil, instructionSet: GEMMInstructionSet = .current) {
        let n = tensor.shape.first ?? 1, k = tensor.elementCount / max(n, 1)
        precondition(bias == nil || bias!.elementCount == n, "\(tensor.name): bias of \(bias!.elementCount) values for \(n) outputs")
        let copyBias: ((UnsafeMutablePointer<Float>) -> Void)? = bias.map { b in { target in b.withFloat32 { target.update(from: $0.baseAddress!, count: n) } } }
        self.init(rows: n, columns: k, instructionSet: instructionSet, copyBias: copyBias) { packed, panel in
            tensor.withFloat32 { pgpt_gemm_pack_nk(packed, $0.baseAddress, Int64(k), Int64(n), Int64(k), panel) }
        }
    }

    private init(rows: Int, columns: Int, instructionSet: GEMMInstructionSet, copyBias: ((UnsafeMutablePointer<Float>) -> Void)?,
                 pack: (UnsafeMutablePointer<Float>, Int32) -> Void) {
        (self.rows, self.columns, self.instructionSet) = (rows, columns, instructionSet)
        count = pgpt_gemm_packed_count(Int64(rows), Int64(columns), Int32(instructionSet.panelWidth))
        // 64-byte aligned: one cache line per packed row of an AVX-512 panel.
        values = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 1))
        if count > 0 { pack(values, Int32(instructionSet.panelWidth)) }
        if let copyBias {
            let b = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, 1))
            if rows > 0 { copyBias(b) }
            bias = b
        } else {
            bias = nil
        }
    }

    deinit {
        UnsafeMutableRawPointer(values).deallocate()
        bias?.deallocate()
    }
}
