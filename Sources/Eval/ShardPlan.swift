import Foundation
import Support

/// `--shard K/N`: which of N equal parts of a run's work this process does (K from 0, as Slurm's
/// SLURM_ARRAY_TASK_ID counts).
public struct ShardPosition: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else {
            throw TaskError(task: "eval", key: "--shard", reason: "\(index)/\(count): give K/N with 0 <= K < N")
        }
        self.index = index
        self.count = count
    }

    /// "K/N".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw TaskError(task: "eval", key: "--shard", reason: "\"\(text)\" is not K/N (e.g. 0/4)")
        }
        try self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }
    /// The shard's own folder under OUTPUT/shards.
    public var directoryName: String { "\(index)-of-\(count)" }
}

/// The partition of a run's forward work into shards: every feature request (task × split × rows) cut into
/// units (one row, or one upstream group of 8 rows in pair modality so that pooling sees the original's
/// batches), the units laid end to end in request order, and shard k given the units whose cost before them
/// falls in [k·T/N, (k+1)·T/N) of the total cost T. So each shard holds at most one contiguous row range per
/// request, every unit belongs to exactly one shard, and shards differ in cost by at most one unit.
public struct ShardPlan: Sendable, Equatable {
    /// Per request, per shard: the positions (into the request's rows) that shard computes.
    public let ranges: [[Range<Int>]]

    /// `costs[r][i]`: the cost of row i of request r (≥ 1 is assumed; 0 is counted as 1); `groups[r]`: the
    /// rows a unit of request r holds.
    public init(costs: [[Int]], groups: [Int], shards: Int) {
        precondition(shards >= 1 && costs.count == groups.count)
        var units: [(request: Int, range: Range<Int>, cost: Int)] = []
        for (r, rowCosts) in costs.enumerated() {
            let g = max(1, groups[r])
            for start in stride(from: 0, to: rowCosts.count, by: g) {
                let range = start..<min(rowCosts.count, start + g)
                units.append((r, range, rowCosts[range].reduce(0) { $0 + max(1, $1) }))
            }
        }
        let total = max(1, units.reduce(0) { $0 + $1.cost })
        var ranges = costs.map { _ in [Range<Int>](repeating: 0..<0, count: shards) }
        var before = 0
        for unit in units {
            let shard = min(shards - 1, before * shards / total)
            let current = ranges[unit.request][shard]
            ranges[unit.request][shard] = current.isEmpty ? unit.range : current.lowerBound..<unit.range.upperBound
            before += unit.cost
        }
        // Empty ranges sit where the neighbours meet, so that the ranges of a request tile its rows in order.
        for r in ranges.indices {
            var next = 0
            for k in 0..<shards {
                if ranges[r][k].isEmpty { ranges[r][k] = next..<next } else { next = ranges[r][k].upperBound }
            }
        }
        self.ranges = ranges
    }

    /// Pieces of one shard's range: files of at most `rows` rows (rounded up to whole units), so that a
    /// resumed shard continues after its last complete piece.
    public static func pieces(of range: Range<Int>, group: Int, rows: Int = 64) -> [Range<Int>] {
        let g = max(1, group), step = g * max(1, (rows + g - 1) / g)
        return stride(from: range.lowerBound, to: range.upperBound, by: step).map { $0..<min(range.upperBound, $0 + step) }
    }
}
