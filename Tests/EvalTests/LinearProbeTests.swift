import Foundation
import Testing
@testable import Eval

/// Probe heads equal the ones scikit-learn fits to the same features (Fixtures/probes.json).
@Suite struct LinearProbeTests {
    static func cases() throws -> [[String: Any]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/probes.json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        return try #require(object["cases"] as? [[String: Any]])
    }

    @Test func matchesScikitLearn() throws {
        let cases = try Self.cases()
        #expect(cases.count == 3)
        for c in cases {
            let features = (c["features"] as! [NSNumber]).map(\.floatValue)
            let d = c["d"] as! Int, l2 = (c["l2"] as! NSNumber).doubleValue
            let expected = (c["weight"] as! [NSNumber]).map(\.doubleValue)
            let probe: LinearProbe
            if c["kind"] as? String == "logistic" {
                let labels = c["labels"] as! [Int], k = c["k"] as! Int
                // scikit-learn's binary model penalises one vector w = w1 - w0 by l2/2 |w|^2; the two-row
                // softmax head penalises both rows, and at its optimum w0 = -w1, i.e. (l2'/4)|w|^2: l2' = 2 l2.
                probe = LinearProbe.logisticRegression(features: features, labels: labels, featureSize: d, numLabels: k,
                                                       l2: k == 2 ? 2 * l2 : l2)
            } else {
                probe = LinearProbe.ridgeRegression(features: features, targets: (c["targets"] as! [NSNumber]).map(\.doubleValue),
                                                    featureSize: d, l2: l2)
            }
            let scale = expected.map(abs).max()!
            let error = zip(probe.weight, expected).map { abs($0 - $1) }.max()!
            #expect(error / scale < 1e-5, "\(c["kind"]!) d=\(d): max error \(error)")
        }
    }

    @Test func choleskySolvesASmallSystem() {
        // [[4, 2], [2, 3]] x = [2, 1]  ->  x = [0.5, 0]
        #expect(CholeskySolver.solve([4, 2, 2, 3], [2, 1], size: 2) == [0.5, 0])
    }
}
