import Foundation

/// A fault-injection hook for testing a cluster's recovery (docs/cluster.md): with
/// `PIXELGPT_STALL_AFTER_PIECES=K:P` shard K (with `=P`, every shard) stops after P complete pieces, says so in
/// one stderr line and sleeps until it is killed, as a hung node would, so that a test can cancel it at a known
/// point (some pieces on disk, no shard.json) without racing the shard's end. Never set in real runs.
struct ShardStall: Equatable {
    static let variable = "PIXELGPT_STALL_AFTER_PIECES"
    /// A stalled shard nobody kills gives up after this long, so that no test leaves a sleeper behind.
    static let longest: TimeInterval = 15 * 60

    /// nil: every shard.
    let shard: Int?
    let pieces: Int

    /// The hook set in `environment`, nil when it is not; a malformed value is refused in one line.
    init?(environment: [String: String]) throws {
        guard let value = environment[Self.variable], !value.isEmpty else { return nil }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        switch (parts.count, parts.first ?? nil, parts.last ?? nil) {
        case (1, _, let p?) where p >= 1: (shard, pieces) = (nil, p)
        case (2, let k?, let p?) where k >= 0 && p >= 1: (shard, pieces) = (k, p)
        default: throw TaskError(task: "eval", key: Self.variable, reason: "\"\(value)\" is not P or K:P (shard K stalls after P >= 1 pieces)")
        }
    }

    /// Whether shard `position` stalls now, having just finished its `piecesDone`-th piece.
    func isDue(_ position: ShardPosition, piecesDone: Int) -> Bool {
        piecesDone == pieces && (shard == nil || shard == position.index)
    }

    /// Sleeps until killed; fails after `longest`.
    func stall(_ position: ShardPosition, log: (String) -> Void) throws -> Never {
        log("shard \(position): stalling after \(pieces) pieces (\(Self.variable))")
        let started = Date()
        while Date().timeIntervalSince(started) < Self.longest { Thread.sleep(forTimeInterval: 1) }
        throw TaskError(task: "eval", key: Self.variable, reason: "shard \(position) stalled for \(Int(Self.longest)) s and nobody killed it")
    }
}
