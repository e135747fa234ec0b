import Render

/// A report's bar chart (xnli.png: XNLI accuracy per language): a group of bars per table column (in the
/// table's order) and one for the average, one bar colour per report row, an error bar of ±1 sample std
/// where several seeds trained the row's heads, and a dashed chance line; drawn on Render's `ChartCanvas`,
/// because people compare 15 bars faster than 15 numbers.
public enum BarChart {
    /// One row of the report: its values as fractions, one per column, nil where absent.
    public struct Series: Sendable, Equatable {
        public let label: String
        public let values: [Double?]
        /// Sample standard deviation over seeds per column (fractions), nil where there is none; empty
        /// when the row has none at all.
        public let deviations: [Double?]
        public let average: Double?

        public init(label: String, values: [Double?], deviations: [Double?] = [], average: Double?) {
            self.label = label
            self.values = values
            self.deviations = deviations
            self.average = average
        }

        /// The std of column `index`, when there is one.
        func deviation(_ index: Int) -> Double? { index < deviations.count ? deviations[index] : nil }
    }

    /// Where the value axis ends, in percent: a multiple of 10 at least 2 points above the highest bar, error
    /// bar or chance line, so that the best bar never touches the frame (at most 100).
    static func axisTop(_ series: [Series], chance: Double?) -> Int {
        let highest = series.flatMap { row in
            row.values.indices.compactMap { i in row.values[i].map { $0 + (row.deviation(i) ?? 0) } } + [row.average].compactMap { $0 }
        }.filter(\.isFinite).max() ?? 0
        let top = max(highest, chance ?? 0) * 100 + 2
        return min(100, max(10, Int((top / 10).rounded(.up)) * 10))
    }

    public struct Colour: Sendable, Equatable {
        public let red: UInt8, green: UInt8, blue: UInt8
    }

    /// Colour-blind-safe bar colours (Okabe–Ito without black, then three more), used in turn. None is grey,
    /// so no text, axis or grid pixel (all grey) can pass for a bar.
    public static let palette: [Colour] = [
        Colour(red: 0, green: 114, blue: 178), Colour(red: 230, green: 159, blue: 0), Colour(red: 0, green: 158, blue: 115),
        Colour(red: 213, green: 94, blue: 0), Colour(red: 204, green: 121, blue: 167), Colour(red: 86, green: 180, blue: 233),
        Colour(red: 240, green: 228, blue: 66), Colour(red: 117, green: 112, blue: 179), Colour(red: 166, green: 86, blue: 40),
        Colour(red: 102, green: 166, blue: 30),
    ]

    /// The colour of the `index`-th series.
    public static func colour(_ index: Int) -> Colour { palette[index % palette.count] }

    /// Geometry in pixels; bars are whole pixels so that their colours stay exact (no antialiased edges).
    static let plotLeft = 64, plotTop = 64, plotHeight = 360, groupGap = 14, averageGap = 16, legendRow = 22

    /// The chart as PNG bytes (8-bit RGB): bar groups labelled `columns` then "Avg", a dashed line at `chance`
    /// (a fraction) when given; `file` names the chart in errors.
    public static func png(series: [Series], columns: [String], title: String, chance: Double? = nil, file: String) throws(ReportError) -> [UInt8] {
        do {
            return try draw(series: series, columns: columns, title: title, chance: chance)
        } catch {
            throw ReportError(file: file, reason: error.message)
        }
    }

    static func draw(series: [Series], columns: [String], title: String, chance: Double?) throws(ChartCanvas.Failure) -> [UInt8] {
        precondition(!series.isEmpty, "a chart needs at least one series")
        precondition(series.allSatisfy { $0.values.count == columns.count }, "one value slot per column")
        let groups = columns + ["Avg"]
        let barWidth = series.count <= 2 ? 18 : series.count <= 4 ? 12 : series.count <= 8 ? 8 : 5
        let groupWidth = series.count * barWidth + groupGap
        let plotWidth = groups.count * groupWidth + averageGap
        // The axis runs from 0: bars of honest length.
        let top = axisTop(series, chance: chance)
        let tick = top <= 30 ? 5 : 10

        let fonts = try ChartFonts()
        let labels = series.map { $0.label }
        let chanceLabel = chance.map { "chance " + LeaderboardTable.format($0) }
        let legendX = plotLeft + plotWidth + 28 + (chanceLabel.map { fonts.size($0, font: .small).width + 8 } ?? 0)
        let legendWidth = 20 + (labels.map { fonts.size($0, font: .body).width }.max() ?? 0)
        let width = legendX + legendWidth + 24
        let height = max(plotTop + plotHeight + 52, plotTop + series.count * legendRow + 24)

        let canvas = try ChartCanvas(width: width, height: height, fonts: fonts)
        func fill(_ grey: Double) { canvas.setColour(grey: grey) }
        func fill(_ colour: Colour) { canvas.setColour(red: colour.red, green: colour.green, blue: colour.blue) }
        let plotBottom = plotTop + plotHeight

        fill(1)
        canvas.paint()

        // Gridlines and tick labels; lines at half pixels so that a 1-pixel line stays 1 pixel wide.
        canvas.setLineWidth(1)
        for value in stride(from: 0, through: top, by: tick) {
            let y = Double(plotBottom - Int((Double(value) / Double(top) * Double(plotHeight)).rounded())) + 0.5
            fill(value == 0 ? 0.3 : 0.88)
            canvas.line(fromX: Double(plotLeft), y: y, toX: Double(plotLeft + plotWidth), y: y)
            fill(0.2)
            canvas.text("\(value)", font: .small, x: Double(plotLeft - 8), y: y, anchor: .right)
        }
        fill(0.2)
        canvas.text("%", font: .small, x: Double(plotLeft - 8), y: Double(plotTop - 18), anchor: .right)
        func y(_ fraction: Double) -> Double { Double(plotBottom) - (fraction * 100 / Double(top) * Double(plotHeight)).rounded() }

        // The chance line behind the bars (so that their pixels stay exact), labelled beside the plot.
        if let chance, let chanceLabel {
            let at = y(chance) + 0.5
            fill(0.35)
            canvas.setDash([6, 4])
            canvas.line(fromX: Double(plotLeft), y: at, toX: Double(plotLeft + plotWidth), y: at)
            canvas.setDash([])
            canvas.text(chanceLabel, font: .small, x: Double(plotLeft + plotWidth + 6), y: at, anchor: .left)
        }

        // Bars: whole-pixel rectangles, without antialiasing, in each series' exact colour.
        canvas.setAntialiased(false)
        for (g, group) in groups.enumerated() {
            let groupX = plotLeft + g * groupWidth + groupGap / 2 + (g == groups.count - 1 ? averageGap : 0)
            for (i, row) in series.enumerated() {
                let value = g < columns.count ? row.values[g] : row.average
                guard let value, value.isFinite else { continue }
                let barHeight = Int((max(0, value) * 100 / Double(top) * Double(plotHeight)).rounded())
                fill(colour(i))
                // One pixel narrower than the slot: a white seam between neighbouring bars.
                canvas.fillRectangle(x: Double(groupX + i * barWidth), y: Double(plotBottom - barHeight), width: Double(barWidth - 1), height: Double(barHeight))
                // ±1 std over seeds: a whisker with caps, in near-black, centred on the bar.
                if g < columns.count, let deviation = row.deviation(g), deviation > 0, deviation.isFinite {
                    let centre = Double(groupX + i * barWidth + (barWidth - 1) / 2)
                    let low = y(max(0, value - deviation)), high = y(min(1, value + deviation))
                    let cap = Double(max(1, (barWidth - 1) / 2 - 1))
                    fill(0.1)
                    canvas.fillRectangle(x: centre, y: high, width: 1, height: max(1, low - high))
                    canvas.fillRectangle(x: centre - cap, y: high, width: 2 * cap + 1, height: 1)
                    canvas.fillRectangle(x: centre - cap, y: low, width: 2 * cap + 1, height: 1)
                }
            }
            fill(0.2)
            canvas.text(group, font: .body, x: Double(groupX) + Double(series.count * barWidth) / 2, y: Double(plotBottom + 16), anchor: .center)
        }
        canvas.setAntialiased(true)

        // The average stands apart from the columns.
        let separatorX = Double(plotLeft + (groups.count - 1) * groupWidth + averageGap / 2) + 0.5
        fill(0.6)
        canvas.setDash([4, 4])
        canvas.line(fromX: separatorX, y: Double(plotTop), toX: separatorX, y: Double(plotBottom))
        canvas.setDash([])

        fill(0.3)
        canvas.line(fromX: Double(plotLeft) + 0.5, y: Double(plotTop), toX: Double(plotLeft) + 0.5, y: Double(plotBottom) + 0.5)

        fill(0.1)
        canvas.text(title, font: .title, x: Double(plotLeft), y: Double(plotTop) / 2 - 6, anchor: .left)

        for (i, label) in labels.enumerated() {
            let y = plotTop + i * legendRow
            canvas.setAntialiased(false)
            fill(colour(i))
            canvas.fillRectangle(x: Double(legendX), y: Double(y), width: 14, height: 14)
            canvas.setAntialiased(true)
            fill(0.2)
            canvas.text(label, font: .body, x: Double(legendX + 20), y: Double(y) + 7, anchor: .left)
        }
        return try canvas.pngBytes()
    }
}
