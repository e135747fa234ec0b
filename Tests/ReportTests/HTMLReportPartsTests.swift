import Foundation
import Testing
@testable import Report

/// The HTML report's pieces that need no run: escaping, probabilities, the SVG charts.
@Suite struct HTMLReportPartsTests {
    @Test func textIsEscapedForHTML() {
        #expect(HTMLText.escaped("a<b>&\"c\"'d'</script>") == "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;&lt;/script&gt;")
        #expect(HTMLText.escaped("ไทย عربي") == "ไทย عربي")
    }

    @Test func probabilitiesAreTheSoftmaxOfTheLogits() throws {
        let p = RunSamples.softmax([1, 2, 3])
        // numpy: exp(x - 3) / sum(exp(x - 3)) for x in [1, 2, 3]
        let expected = [0.09003057317038046, 0.24472847105479764, 0.6652409557748218]
        for (a, b) in zip(p, expected) { #expect(abs(a - b) < 1e-12) }
        #expect(RunSamples.softmax([Float.nan, 0]).allSatisfy { $0.isNaN })
    }

    /// The chance line sits at its fraction of the axis, and every series has a bar per value and a legend entry.
    @Test func barChartDrawsBarsLegendAndChanceLine() throws {
        let series = [BarChart.Series(label: "a <pixel>", values: [0.5, nil], average: nil),
                      BarChart.Series(label: "b", values: [0.25, 0.35], deviations: [0.05, nil], average: 0.3)]
        let svg = SVGCharts.bars(series: series, columns: ["en", "th"], title: "XNLI", chance: 1.0 / 3)
        #expect(svg.components(separatedBy: "<rect ").count - 1 == 4 + 2)  // 4 bars, 2 legend swatches
        #expect(svg.contains("a &lt;pixel&gt;") && !svg.contains("<pixel>"))
        #expect(svg.contains(">chance 33.3</text>"))
        // The best bar (50%) does not end the axis: 0...60 over 220 px from y = 256, so chance sits at
        // 256 - 220 * 33.33 / 60 = 133.78, in tenths.
        #expect(svg.contains("y1=\"133.8\" y2=\"133.8\" class=\"chance\""))
        #expect(svg.contains("<rect x=\"64\" y=\"164.3\" width=\"13\" height=\"91.7\""))  // b's 25% of 60
        // b's en ±5 points: one whisker from 20% (182.7) to 30% (146.0), centred on the 13-pixel bar.
        #expect(svg.components(separatedBy: "class=\"error-bar\"").count - 1 == 1)
        #expect(svg.contains("d=\"M70.5 182.7V146.0"))
        #expect(svg.contains(">b, en: 25.0±5.0</title>"))
    }
}
