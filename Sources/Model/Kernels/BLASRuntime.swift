import COpenBLAS
import Foundation

/// The thread count of the kernels and the OpenBLAS build beside them, for provenance (numerics baselines
/// record them). The forward pass runs on the project's own GEMM (`PackedMatrix`); OpenBLAS serves the
/// training tail's backward pass and `pixelgpt bench`'s sgemm yardstick. Modules above Model never import
/// the C shims themselves.
public enum BLASRuntime {
    /// `openblas_get_config()`: version, build options and the core it was built for.
    public static var configuration: String { String(cString: openblas_get_config()) }
    /// `openblas_get_corename()`: the kernel set chosen at run time for this CPU.
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// The instruction set the forward pass's GEMM runs with (`avx512`, `avx2`, `scalar`).
    public static var gemmInstructionSet: String { GEMMInstructionSet.current.name }
    /// The thread count in force: the kernels' workers and OpenBLAS's threads (set together, once).
    public static var threads: Int { KernelThreads.current }
    /// `openblas_get_num_threads()`: OpenBLAS's own count (its environment variables or the cores, unless
    /// `setThreads` set it).
    public static var blasThreads: Int { Int(openblas_get_num_threads()) }
    /// Sets the process default, once, before any pass runs (`--threads`). Results do not depend on it.
    public static func setThreads(_ count: Int) {
        KernelThreads.setDefault(count)
        openblas_set_num_threads(Int32(max(1, count)))
    }
    /// Runs `body` with `count` kernel threads for the current task only (tests, the invariance self-check).
    public static func withThreads<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        try KernelThreads.$override.withValue(max(1, count), operation: body)
    }
}
