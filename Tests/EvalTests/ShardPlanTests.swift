import Foundation
import Render
import TestSupport
import Testing
@testable import Eval

/// The partition of `--shard K/N`: every unit in exactly one shard, in order, balanced by cost, whole groups.
@Suite struct ShardPlanTests {
    /// Seeded row costs (lengths 1...60) for a few requests.
    static func costs(seed: UInt64, requests: [Int]) -> [[Int]] {
        var state = seed
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % 60) + 1
        }
        return requests.map { n in (0..<n).map { _ in next() } }
    }

    @Test(arguments: [1, 2, 3, 4, 7, 16])
    func shardsTileEveryRequestInOrderWithNearEqualCost(shards: Int) throws {
        let costs = Self.costs(seed: 11, requests: [40, 3, 0, 125, 24])
        let groups = [1, 8, 1, 8, 1]
        let plan = ShardPlan(costs: costs, groups: groups, shards: shards)
        #expect(plan == ShardPlan(costs: costs, groups: groups, shards: shards))
        var shardCost = [Int](repeating: 0, count: shards)
        for (r, ranges) in plan.ranges.enumerated() {
            #expect(ranges.count == shards)
            var next = 0
            for (k, range) in ranges.enumerated() {
                #expect(range.lowerBound == next)
                // Pair modality's batches of 8 stay whole: boundaries on multiples of the group.
                #expect(range.isEmpty || range.lowerBound % groups[r] == 0)
                next = range.upperBound
                shardCost[k] += costs[r][range].reduce(0, +)
            }
            #expect(next == costs[r].count)
        }
        // Shards differ by at most the largest unit (8 rows of at most 60).
        let total = costs.joined().reduce(0, +)
        for cost in shardCost { #expect(abs(cost - total / shards) <= 8 * 60) }
    }

    @Test func costNotRowsDecides() {
        // Ten long rows then ninety short ones: two shards split the cost, not the rows.
        let plan = ShardPlan(costs: [[Int](repeating: 90, count: 10) + [Int](repeating: 10, count: 90)], groups: [1], shards: 2)
        #expect(plan.ranges[0] == [0..<10, 10..<100])
    }

    @Test func piecesAreWholeGroupsOfAtMost64Rows() {
        #expect(ShardPlan.pieces(of: 16..<150, group: 8) == [16..<80, 80..<144, 144..<150])
        #expect(ShardPlan.pieces(of: 5..<70, group: 1) == [5..<69, 69..<70])
        #expect(ShardPlan.pieces(of: 3..<3, group: 1).isEmpty)
    }

    /// The pixel cost of a row (sharding's `estimatedCost`) is the attended patch count of its rendered strip,
    /// measured without drawing: single texts and pairs, left-to-right and right-to-left (Arabic pairs take the
    /// RTL branch), scripts Pango shapes (Thai, Hindi), texts past the strip's end, empty ones, long mark runs.
    @Test func pixelCostIsTheRenderedStripsAttendedPatches() throws {
        let renderer = try TextRenderer(directory: PythonReference.repositoryRoot + "/renderers/noto")
        var rows: [(String, String?)] = [("", nil), ("", ""), ("a" + String(repeating: "\u{301}", count: 300), "b"),
                                         (String(repeating: "a long sentence ", count: 400), nil), ("short", String(repeating: "long words ", count: 500))]
        for language in ["en", "ar", "th", "hi", "zh", "de"] {
            let path = PythonReference.repositoryRoot + "/samples/xnli/dev-\(language).tsv"
            for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").prefix(4) {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                rows += [(fields[0], fields[1]), (fields[1], nil)]
            }
        }
        var sawRTL = false, sawCapped = false
        for (a, b) in rows {
            for length in [529, 24] {
                let strip = try b.map { try renderer.render(a, pair: $0, maxSeqLength: length, mode: .rgb) } ?? renderer.render(a, maxSeqLength: length, mode: .rgb)
                let attended = strip.attentionMask().reduce(0) { $0 + Int($1) }
                #expect(renderer.attendedPatches(a, pair: b, maxSeqLength: length) == attended, "\(a.prefix(40)) | \(b?.prefix(40) ?? "-") at \(length)")
                sawRTL = sawRTL || strip.rightToLeft
                sawCapped = sawCapped || attended == length
            }
        }
        #expect(sawRTL && sawCapped)
    }

    @Test func shardPositionsParse() throws {
        #expect(try ShardPosition(parsing: "3/4") == ShardPosition(index: 3, count: 4))
        for bad in ["4/4", "-1/4", "1", "a/b", "0/0", "1/2/3"] {
            #expect(throws: TaskError.self) { try ShardPosition(parsing: bad) }
        }
    }
}
