import Foundation
import Support

/// How many threads the kernels of a forward pass may use: one value, fixed for the pass, never switched
/// inside it. A process default (`BLASRuntime.setThreads`, the command line's `--threads`) that a caller
/// can override for its own work with `KernelThreads.$override.withValue(n) { ... }`. The count changes
/// only the speed: every kernel splits its work so that no output element's arithmetic depends on the
/// split (docs/numerics.md), which the invariance tests check for 1, 2 and 4 threads.
package enum KernelThreads {
    private final class Default: @unchecked Sendable {
        // @unchecked: `count` is only touched under `lock`.
        let lock = NSLock()
        var count = KernelThreads.initialCount()
    }
    private static let processDefault = Default()

    /// Bound by a caller for the work it runs (tests run passes with different counts side by side).
    @TaskLocal static var override: Int?

    /// The count in force for the current task.
    package static var current: Int { override ?? processDefault.lock.withLock { processDefault.count } }

    static func setDefault(_ count: Int) { processDefault.lock.withLock { processDefault.count = max(1, count) } }

    /// The cores this process may use, or OPENBLAS_NUM_THREADS / OMP_NUM_THREADS when set (so existing
    /// scripts that pin OpenBLAS keep pinning the whole forward pass).
    private static func initialCount() -> Int {
        let environment = ProcessInfo.processInfo.environment
        for name in ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"] {
            if let value = environment[name].flatMap({ Int($0) }), value > 0 { return value }
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// `ParallelRanges` over `0 ..< items` with `threads` workers.
    static func parallelRanges(_ items: Int, threads: Int, minimumPerWorker: Int = 1, _ body: (Range<Int>) -> Void) {
        ParallelRanges.run(items, threads: threads, minimumPerWorker: minimumPerWorker) { _, range in body(range) }
    }
}
