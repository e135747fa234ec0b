import Dispatch

/// The one parallel loop of the project: `0 ..< items` split into at most `threads` contiguous ranges of at
/// least `minimumPerWorker` items, run concurrently, each with its worker number. Small jobs run inline.
/// Callers compute each item independently of the others, so the split never changes a result (kernels,
/// tokenization, rendering with one renderer per worker).
public enum ParallelRanges {
    public static func run(_ items: Int, threads: Int, minimumPerWorker: Int = 1, _ body: (_ worker: Int, _ range: Range<Int>) -> Void) {
        let workers = min(threads, max(1, items / max(1, minimumPerWorker)))
        guard workers > 1 else {
            if items > 0 { body(0, 0..<items) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = SharedBody(body: body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let range = (items * w / workers)..<(items * (w + 1) / workers)
                if !range.isEmpty { shared.body(w, range) }
            }
        }
    }

    /// The loop body handed to the workers. @unchecked: callers give each range its own disjoint part of
    /// the output and only read shared inputs, and every worker ends before `run` returns, so the pointers
    /// they capture stay valid and unshared for writing.
    private struct SharedBody: @unchecked Sendable {
        let body: (Int, Range<Int>) -> Void
    }
}
