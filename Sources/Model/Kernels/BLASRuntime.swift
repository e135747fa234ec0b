import COpenBLAS

/// The OpenBLAS build and thread count that the GEMMs run with, for provenance (numerics baselines record
/// them) and for measuring how results move with the thread count. Modules above Model never import the
/// C shim themselves.
public enum BLASRuntime {
    /// `openblas_get_config()`: version, build options and the core it was built for.
    public static var configuration: String { String(cString: openblas_get_config()) }
    /// `openblas_get_corename()`: the kernel set chosen at run time for this CPU.
    public static var coreName: String { String(cString: openblas_get_corename()) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
    /// Process-wide; takes effect for the next GEMM.
    public static func setThreads(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }
}
