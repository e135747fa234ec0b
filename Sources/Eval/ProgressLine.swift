import Foundation

/// One progress line on stderr: rows, rate and ETA, redrawn at most five times a second.
final class ProgressLine: @unchecked Sendable {
    private let output: (String) -> Void
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(output: @escaping (String) -> Void) { self.output = output }

    func update(_ label: String, done: Int, total: Int, since: Date, newlyDone: Int) {
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.2 || done == total else { return }
        lastDraw = now
        let elapsed = max(1e-3, now.timeIntervalSince(since))
        let rate = Double(newlyDone) / elapsed
        let eta = rate > 0 ? Double(total - done) / rate : 0
        output(String(format: "\r%@ %d/%d rows, %.1f rows/s, ETA %.0f s   ", label, done, total, rate, eta))
        drawn = true
    }

    func finish() {
        if drawn { output("\n") }
        drawn = false
    }
}
