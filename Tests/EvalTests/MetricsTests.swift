import Foundation
import Testing
@testable import Eval

/// Metric values equal scikit-learn's and scipy's for fixed inputs (Fixtures/metrics.json, written by
/// scripts/make_metric_fixtures.py).
@Suite struct MetricsTests {
    static func cases() throws -> [[String: Any]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/metrics.json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        return try #require(object["cases"] as? [[String: Any]])
    }

    @Test func matchScikitLearnAndScipy() throws {
        let cases = try Self.cases()
        #expect(cases.count == 8)
        var checked = 0
        for (i, c) in cases.enumerated() {
            let labels = (c["labels"] as! [NSNumber]).map(\.doubleValue)
            let predictions = (c["predictions"] as! [NSNumber]).map(\.doubleValue)
            for metric in MetricName.allCases {
                guard let expected = (c[metric.rawValue] as? NSNumber)?.doubleValue else { continue }
                let ours = Metrics.value(metric, predictions: predictions, labels: labels)
                #expect(abs(ours - expected) <= 1e-12, "case \(i) \(metric.rawValue): \(ours) vs \(expected)")
                checked += 1
            }
        }
        #expect(checked == 5 * 2 + 3 + 1 * 2 + 2 * 2 + 1)  // acc+mcc everywhere, f1 on the binary cases, 2 regression metrics
    }

    @Test func averageRanksShareTies() {
        #expect(Metrics.averageRanks([10, 20, 10, 30, 20, 20]) == [1.5, 4, 1.5, 6, 4, 4])
        #expect(Metrics.combinedScore([0.5, 0.7]) == 0.6)
        #expect(Metrics.combinedScore([0.5]) == nil)
    }
}
