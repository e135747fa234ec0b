import Foundation

/// Seconds spent in each kernel while a profile is bound to the current task
/// (`KernelProfile.$current.withValue(profile) { model.forward(...) }`), for `pixelgpt bench`'s shares.
/// Unbound, measuring costs one task-local read per kernel call.
public final class KernelProfile: @unchecked Sendable {
    // @unchecked: `seconds` is only touched under `lock`.
    @TaskLocal public static var current: KernelProfile?

    private let lock = NSLock()
    private var totals: [String: Double] = [:]

    public init() {}

    /// Seconds per kernel name.
    public var seconds: [String: Double] { lock.withLock { totals } }

    @inline(__always)
    static func measure<R>(_ kernel: String, _ body: () -> R) -> R {
        guard let profile = current else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = body()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        profile.lock.withLock { profile.totals[kernel, default: 0] += elapsed }
        return result
    }
}
