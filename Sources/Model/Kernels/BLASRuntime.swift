import COpenBLAS
import Foundation

/// The OpenBLAS build and thread count that the GEMMs run with, for provenance (numerics baselines record
/// them) and for measuring how results move with the thread count. Modules above Model never import the
/// C shim themselves.
public enum BLASRuntime {
    /// `openblas_get_config()`: version, build options and the core it was built for.
    public static var configuration: String { String(cString: openblas_get_config()) }
    /// `openblas_get_corename()`: the kernel set chosen at run time for this CPU.
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// The configured thread count: OpenBLAS's inside large GEMMs, and the Swift workers of the kernels
    /// that parallelise themselves (`KernelThreads`), never both at once.
    public static var threads: Int { KernelThreads.configured }
    /// Process-wide; takes effect for the next kernel.
    public static func setThreads(_ count: Int) { KernelThreads.configure(max(1, count)) }
}
