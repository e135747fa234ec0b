import Foundation
import Support

/// Parallel batch rendering: one `TextRenderer` per thread (a renderer is not thread-safe, but renderers share
/// no Pango state), each case rendered by exactly one of them. Results come back in input order and are
/// byte-identical to sequential rendering.
public final class RendererPool {
    private let renderers: [TextRenderer]

    public var threads: Int { renderers.count }

    public init(directory: String, threads: Int) throws(RenderError) {
        var renderers: [TextRenderer] = []
        for _ in 0 ..< max(1, threads) { renderers.append(try TextRenderer(directory: directory)) }
        self.renderers = renderers
    }

    /// The first renderer, for things that need only one (the environment record).
    public var first: TextRenderer { renderers[0] }

    /// Renders the requests, worker t taking the t-th contiguous range; the first error (in input order) is thrown.
    public func render(_ requests: ArraySlice<RenderRequest>) throws(RenderError) -> [RenderedStrip] {
        try map(requests) { _, strip in strip }
    }

    /// Renders each request and hands the strip to `transform` on the same worker thread (to write its PNG in
    /// parallel, say), returning the transforms' results in input order. `index` counts from 0 within `requests`.
    public func map<T: Sendable>(
        _ requests: ArraySlice<RenderRequest>, _ transform: @escaping @Sendable (_ index: Int, _ strip: RenderedStrip) throws -> T
    ) throws(RenderError) -> [T] {
        let results = ResultSlots<T>(count: requests.count)
        let base = requests.startIndex, workers = Workers(renderers)
        ParallelRanges.run(requests.count, threads: workers.count) { t, range in
            let renderer = workers.renderer(t)
            for i in range {
                do {
                    let strip = try requests[base + i].render(with: renderer)
                    results.set(i, .success(try transform(i, strip)))
                } catch let error as RenderError {
                    results.set(i, .failure(error))
                } catch {
                    results.set(i, .failure(RenderError(path: "case \(i)", .writeFailed("\(error)"))))
                }
            }
        }
        var values: [T] = []
        values.reserveCapacity(requests.count)
        for i in 0 ..< requests.count {
            switch results.get(i) {
            case .success(let value)?: values.append(value)
            case .failure(let error)?: throw error
            case nil: preconditionFailure("RendererPool: case \(i) was not rendered")
            }
        }
        return values
    }

    /// Hands renderer t to iteration t only: no renderer is ever used by two threads at once, which is what
    /// makes passing the non-Sendable renderers into the concurrent loop safe.
    private final class Workers: @unchecked Sendable {
        private let renderers: [TextRenderer]
        init(_ renderers: [TextRenderer]) { self.renderers = renderers }
        var count: Int { renderers.count }
        func renderer(_ t: Int) -> TextRenderer { renderers[t] }
    }

    /// Slots written by the worker threads, one per case; the lock makes the writes visible to the caller.
    private final class ResultSlots<T: Sendable>: @unchecked Sendable {
        private var slots: [Result<T, RenderError>?]
        private let lock = NSLock()
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ r: Result<T, RenderError>) { lock.withLock { slots[i] = r } }
        func get(_ i: Int) -> Result<T, RenderError>? { lock.withLock { slots[i] } }
    }
}
