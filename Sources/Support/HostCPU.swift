import Foundation

/// The processor a run ran on, as /proc/cpuinfo (Linux) names it: its model and the instruction-set
/// extensions among those that choose kernels here (the GEMM's avx2 and avx512 paths, OpenBLAS's core
/// set) or in the libraries, so that two results can be told apart by the machine as well as the code.
public struct HostCPU: Codable, Sendable, Equatable {
    /// "model name" (x86), else "Model" or "Hardware" (Arm); absent when the file names none.
    public let model: String?
    /// The extensions of `relevantFlags` the first processor lists, in that order.
    public let flags: [String]

    /// x86 ("flags") and Arm ("Features") names, as the Linux kernel spells them.
    public static let relevantFlags = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl",
                                       "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "asimd", "sve", "sve2"]

    public init(model: String?, flags: [String]) {
        self.model = model
        self.flags = flags
    }

    /// This machine's processor; nil where there is no /proc/cpuinfo (macOS) or it says nothing useful.
    public static func current() -> HostCPU? {
        guard let data = FileManager.default.contents(atPath: "/proc/cpuinfo") else { return nil }
        return parse(String(decoding: data, as: UTF8.self))
    }

    /// The first processor's entry of a /proc/cpuinfo text ("key<TAB>: value" lines, processors separated by
    /// a blank line); on Arm the model lines may follow the per-processor entries.
    public static func parse(_ text: String) -> HostCPU? {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = value }
        }
        let model = ["model name", "Model", "Hardware"].lazy.compactMap { fields[$0] }.first { !$0.isEmpty }
        let listed = Set((fields["flags"] ?? fields["Features"] ?? "").split(separator: " ").map(String.init))
        let flags = relevantFlags.filter(listed.contains)
        guard model != nil || !flags.isEmpty else { return nil }
        return HostCPU(model: model, flags: flags)
    }
}
