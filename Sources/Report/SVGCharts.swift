import Foundation

/// The HTML report's charts as inline SVG (crisp at any zoom, text a screen reader can read): the bar chart
/// of a table section (xnli.png's content, with a chance line) and the prediction-vs-gold scatter of a
/// regression task.
enum SVGCharts {
    /// Bars per column and for the average, one colour per series (BarChart's palette), a dashed line at
    /// `chance` (a fraction) when given.
    static func bars(series: [BarChart.Series], columns: [String], title: String, chance: Double?) -> String {
        let groups = columns + ["Avg"]
        let barWidth = series.count <= 2 ? 14 : series.count <= 4 ? 10 : 6
        let groupWidth = series.count * barWidth + 12
        let left = 44, top = 36, plotHeight = 220
        let plotWidth = groups.count * groupWidth + 12
        let legendTop = top + plotHeight + 40
        let height = legendTop + series.count * 20 + 8
        // Room on the right for the chance line's label, beside the bars rather than over them.
        let width = max(left + plotWidth + 84, 360)
        let axisTop = BarChart.axisTop(series, chance: chance)
        // Tenths of a pixel: finer is invisible, and keeps binary noise (109.33333333333337) out of the markup.
        func tenths(_ v: Double) -> Double { (v * 10).rounded() / 10 }
        func y(_ fraction: Double) -> Double { tenths(Double(top + plotHeight) - fraction * 100 / Double(axisTop) * Double(plotHeight)) }

        var out = "<svg class=\"chart\" role=\"img\" aria-labelledby=\"chart-title\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" xmlns=\"http://www.w3.org/2000/svg\">"
        out += "<title id=\"chart-title\">\(HTMLText.escaped(title))</title>"
        out += "<text x=\"\(left)\" y=\"20\" class=\"chart-title\">\(HTMLText.escaped(title))</text>"
        let tick = axisTop <= 30 ? 5 : 10
        for value in stride(from: 0, through: axisTop, by: tick) {
            let at = y(Double(value) / 100)
            out += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(at)\" y2=\"\(at)\" class=\"\(value == 0 ? "axis" : "grid")\"/>"
            out += "<text x=\"\(left - 6)\" y=\"\(tenths(at + 4))\" text-anchor=\"end\">\(value)</text>"
        }
        for (g, group) in groups.enumerated() {
            let x0 = left + 6 + g * groupWidth
            for (i, row) in series.enumerated() {
                guard let value = g < columns.count ? row.values[g] : row.average, value.isFinite else { continue }
                let colour = BarChart.colour(i)
                let barTop = y(max(0, value))
                out += "<rect x=\"\(x0 + i * barWidth)\" y=\"\(barTop)\" width=\"\(barWidth - 1)\" height=\"\(tenths(Double(top + plotHeight) - barTop))\" fill=\"rgb(\(colour.red),\(colour.green),\(colour.blue))\">"
                let deviation = g < columns.count ? row.deviation(g) : nil
                let spread = deviation.map { "±" + LeaderboardTable.format($0) } ?? ""
                out += "<title>\(HTMLText.escaped(row.label)), \(HTMLText.escaped(group)): \(LeaderboardTable.format(value))\(spread)</title></rect>"
                // ±1 sample std over seeds.
                if let deviation, deviation > 0, deviation.isFinite {
                    let centre = Double(x0 + i * barWidth) + Double(barWidth - 1) / 2, cap = Double(barWidth - 1) / 3
                    let low = y(max(0, value - deviation)), high = y(min(1, value + deviation))
                    out += "<path class=\"error-bar\" d=\"M\(tenths(centre)) \(low)V\(high)M\(tenths(centre - cap)) \(high)H\(tenths(centre + cap))M\(tenths(centre - cap)) \(low)H\(tenths(centre + cap))\"/>"
                }
            }
            out += "<text x=\(quoted(Double(x0) + Double(series.count * barWidth) / 2)) y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\">\(HTMLText.escaped(group))</text>"
        }
        if let chance {
            let at = y(chance)
            out += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(at)\" y2=\"\(at)\" class=\"chance\"/>"
            out += "<text x=\"\(left + plotWidth + 4)\" y=\"\(tenths(at + 4))\" class=\"chance-label\">chance \(LeaderboardTable.format(chance))</text>"
        }
        out += "<text x=\"\(left - 6)\" y=\"\(top - 8)\" text-anchor=\"end\">%</text>"
        for (i, row) in series.enumerated() {
            let colour = BarChart.colour(i)
            let rowY = legendTop + i * 20
            out += "<rect x=\"\(left)\" y=\"\(rowY)\" width=\"12\" height=\"12\" fill=\"rgb(\(colour.red),\(colour.green),\(colour.blue))\"/>"
            out += "<text x=\"\(left + 18)\" y=\"\(rowY + 11)\">\(HTMLText.escaped(row.label))</text>"
        }
        return out + "</svg>"
    }

    /// Prediction (y) against gold score (x) for a regression task, with the diagonal of perfect predictions.
    static func scatter(gold: [Double], predicted: [Double], title: String) -> String {
        let size = 240, margin = 36
        let all = (gold + predicted).filter(\.isFinite)
        let low = min(0, all.min() ?? 0), high = max(all.max() ?? 1, low + 1)
        func scale(_ v: Double) -> Double { (v - low) / (high - low) * Double(size) }
        var out = "<svg class=\"scatter\" role=\"img\" aria-label=\"\(HTMLText.escaped(title))\" viewBox=\"0 0 \(size + 2 * margin) \(size + 2 * margin)\" width=\"\(size + 2 * margin)\" height=\"\(size + 2 * margin)\" xmlns=\"http://www.w3.org/2000/svg\">"
        out += "<title>\(HTMLText.escaped(title))</title>"
        out += "<rect x=\"\(margin)\" y=\"\(margin)\" width=\"\(size)\" height=\"\(size)\" class=\"frame\"/>"
        out += "<line x1=\"\(margin)\" y1=\"\(margin + size)\" x2=\"\(margin + size)\" y2=\"\(margin)\" class=\"chance\"/>"
        for (g, p) in zip(gold, predicted) where g.isFinite && p.isFinite {
            out += "<circle cx=\(quoted(Double(margin) + scale(g))) cy=\(quoted(Double(margin + size) - scale(p))) r=\"2.5\"/>"
        }
        out += "<text x=\"\(margin + size / 2)\" y=\"\(size + 2 * margin - 6)\" text-anchor=\"middle\">gold score (\(String(format: "%.1f", low))–\(String(format: "%.1f", high)))</text>"
        out += "<text transform=\"translate(12 \(margin + size / 2)) rotate(-90)\" text-anchor=\"middle\">prediction</text>"
        return out + "</svg>"
    }

    static func quoted(_ value: Double) -> String { "\"" + String(format: "%.1f", value) + "\"" }
}

/// Text put into HTML.
enum HTMLText {
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
