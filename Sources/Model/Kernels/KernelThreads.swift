import COpenBLAS
import Dispatch
import Foundation

/// One level of parallelism at a time (DESIGN: Kernels). Large GEMMs use OpenBLAS's own threads; kernels
/// made of many small independent pieces (attention per row and KV head, elementwise passes over many
/// rows) split them over Swift threads instead, with OpenBLAS held to one thread meanwhile so that the
/// two never stack. One number (`BLASRuntime.setThreads`) governs both levels.
enum KernelThreads {
    /// The configured count and how many Swift-parallel regions are running (they may nest or overlap when
    /// callers run kernels from their own threads); OpenBLAS goes back to `configured` when the last ends.
    private final class State: @unchecked Sendable {
        // @unchecked: every field is touched only under `lock`.
        let lock = NSLock()
        var configured = Int(openblas_get_num_threads())
        var activeRegions = 0
    }
    private static let state = State()

    static var configured: Int { state.lock.withLock { state.configured } }

    static func configure(_ count: Int) {
        state.lock.withLock {
            state.configured = count
            if state.activeRegions == 0 { openblas_set_num_threads(Int32(count)) }
        }
    }

    /// Runs `body(range)` over `0 ..< items` split into at most `configured` contiguous ranges of at least
    /// `minimumPerWorker` items, concurrently; BLAS calls inside run single-threaded. Small jobs run inline.
    static func parallelRanges(_ items: Int, minimumPerWorker: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = min(configured, max(1, items / max(1, minimumPerWorker)))
        guard workers > 1 else {
            if items > 0 { body(0..<items) }
            return
        }
        state.lock.withLock {
            if state.activeRegions == 0 { openblas_set_num_threads(1) }
            state.activeRegions += 1
        }
        defer {
            state.lock.withLock {
                state.activeRegions -= 1
                if state.activeRegions == 0 { openblas_set_num_threads(Int32(state.configured)) }
            }
        }
        withoutActuallyEscaping(body) { body in
            let shared = SharedBody(body: body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let range = (items * w / workers)..<(items * (w + 1) / workers)
                if !range.isEmpty { shared.body(range) }
            }
        }
    }

    /// The loop body handed to the workers. @unchecked: the kernels give each range its own disjoint
    /// part of the output and only read shared inputs, and every worker ends before `parallelRanges`
    /// returns, so the pointers they capture stay valid and unshared for writing.
    private struct SharedBody: @unchecked Sendable {
        let body: (Range<Int>) -> Void
    }
}
