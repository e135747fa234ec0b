import Eval
import Foundation
import Render
import TestSupport
import Testing
@testable import Report

/// A synthetic results.json: only the keys the report reads, plus one it must ignore.
private func results(model: String, hash: String = "ab", modality: String = "pixel", version: Int = 2,
                     tasks: [[String: Any]], commandLine: [String]? = nil, limit: Int? = nil, pooling: String? = nil) -> [String: Any] {
    var object: [String: Any] = ["schema": "pixelgpt.results", "version": version, "tool_version": "test",
                                 "model": ["path": model, "weights_sha256": ["model.safetensors:" + String(repeating: hash, count: 32)]],
                                 "modality": modality, "tasks": tasks]
    if let commandLine { object["command_line"] = commandLine }
    if let limit { object["limit"] = limit }
    if let pooling { object["pooling"] = pooling }
    return object
}

private func task(_ name: String, _ metrics: [String: Double], std: [String: Double]? = nil, seeds: [Int]? = nil,
                  head: String = "probe", setting: String? = nil) -> [String: Any] {
    var head: [String: Any] = ["kind": head]
    if let setting { head["xnli_setting"] = setting }
    var entry: [String: Any] = ["task": name, "metrics": metrics, "head": head]
    if let std { entry["metrics_std"] = std }
    if let seeds { entry["seeds"] = seeds }
    return entry
}

private func summary(_ object: [String: Any], file: String) throws -> RunSummary {
    try RunSummary(data: JSONSerialization.data(withJSONObject: object), file: file)
}

private func write(_ object: [String: Any], to directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: directory + "/results.json"))
}

private func xnliTasks(_ accuracy: (Int) -> Double, head: String = "probe", setting: String? = nil) -> [[String: Any]] {
    ProjectTables.xnliOrder.enumerated().map { task("xnli_\($1)", ["acc": accuracy($0)], head: head, setting: setting) }
}

@Suite struct RunReportTests {
    @Test func mergesAGLUERunAndAnXNLIRunOfOneCheckpointIntoOneRow() throws {
        let glue = try summary(results(model: "/m/tiny-a", version: 1, tasks: [task("sst2", ["acc": 0.6]), task("cola", ["mcc": 0.1], head: "probe-crossfit"),
                                                                              task("ax", ["mcc": 0.2])]), file: "glue/results.json")
        let xnli = try summary(results(model: "/elsewhere/tiny-a", tasks: xnliTasks { 0.3 + 0.01 * Double($0) }), file: "xnli/results.json")
        let other = try summary(results(model: "/m/tiny-b", hash: "cd", modality: "text", tasks: [task("sst2", ["acc": 0.7])]), file: "b/results.json")
        let report = try RunReport(runs: [glue, xnli, other], reference: nil, groups: try ProjectTables.groups())
        #expect(report.rows.map(\.table.label) == ["tiny-a (pixel)", "tiny-b (text)"])
        let merged = report.rows[0]
        #expect(merged.files == ["glue/results.json", "xnli/results.json"])
        #expect(merged.table.cells["sst2"] == .init(mean: 0.6))
        #expect(merged.table.cells["cola"] == .init(mean: 0.1))
        #expect(merged.table.cells["xnli_zh"] == .init(mean: 0.3 + 0.01 * 14))
        #expect(merged.table.cells["ax"] == nil)
        #expect(report.notes.contains { $0.contains("glue/results.json") && $0.contains("ignored ax") })
        // The same model under two modalities is two rows.
        let pair = try summary(results(model: "/m/tiny-a", modality: "pair", tasks: [task("sst2", ["acc": 0.65])]), file: "pair/results.json")
        #expect(try RunReport(runs: [glue, pair], reference: nil, groups: try ProjectTables.groups()).rows.map(\.table.label) == ["tiny-a (pixel)", "tiny-a (pair)"])
    }

    @Test func refusesConflictingDuplicatesAndShowsEqualOnesOnce() throws {
        let first = try summary(results(model: "/m/a", tasks: [task("rte", ["acc": 0.5])]), file: "one/results.json")
        let same = try summary(results(model: "/m/a", tasks: [task("rte", ["acc": 0.5])]), file: "again/results.json")
        let report = try RunReport(runs: [first, same], reference: nil, groups: try ProjectTables.groups())
        #expect(report.rows.count == 1)
        #expect(report.notes.contains { $0.contains("again/results.json") && $0.contains("shown once") })
        let conflicting = try summary(results(model: "/m/a", tasks: [task("rte", ["acc": 0.55])]), file: "two/results.json")
        #expect { try RunReport(runs: [first, conflicting], reference: nil, groups: try ProjectTables.groups()) } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("two/results.json: tasks[0]:") && text.contains("rte") && text.contains("one/results.json") && !text.contains("\n")
        }
    }

    @Test func labelsSayWhatTellsRowsApart() throws {
        // Two checkpoints named alike: a short weight hash. Heads differ: the head kind.
        let a = try summary(results(model: "/x/model", hash: "12", tasks: [task("rte", ["acc": 0.5])]), file: "a")
        let b = try summary(results(model: "/y/model", hash: "34", tasks: [task("rte", ["acc": 0.6], head: "finetune")]), file: "b")
        #expect(try RunReport(runs: [a, b], reference: nil, groups: try ProjectTables.groups()).rows.map(\.table.label) == ["model @12121212 (pixel, probe head)", "model @34343434 (pixel, finetune head)"])

        // A fine-tuned GLUE run joins the only XNLI setting of its checkpoint; with two settings it stays apart.
        let glue = try summary(results(model: "/m/c", tasks: [task("sst2", ["acc": 0.9], head: "finetune")]), file: "glue")
        let all = try summary(results(model: "/m/c", tasks: xnliTasks({ _ in 0.5 }, head: "finetune", setting: "train-all")), file: "all")
        let one = try RunReport(runs: [glue, all], reference: nil, groups: try ProjectTables.groups())
        #expect(one.rows.map(\.table.label) == ["c (pixel)"])
        #expect(one.rows[0].table.cells["sst2"] != nil && one.rows[0].xnliSetting == "train-all")
        let en = try summary(results(model: "/m/c", tasks: xnliTasks({ _ in 0.4 }, head: "finetune", setting: "train-en")), file: "en")
        #expect(try RunReport(runs: [glue, all, en], reference: nil, groups: try ProjectTables.groups()).rows.map(\.table.label) == ["c (pixel)", "c (pixel, train-all)", "c (pixel, train-en)"])
    }

    @Test func seededCellsReadMeanPlusMinusStd() throws {
        let run = try summary(results(model: "/m/s", tasks: [task("sst2", ["acc": 0.8125], std: ["acc": 0.0125], seeds: [3, 1]),
                                                            task("rte", ["acc": 0.625], seeds: [2])]), file: "s")
        let report = try RunReport(runs: [run], reference: nil, groups: try ProjectTables.groups())
        #expect(report.rows[0].seeds == [1, 2, 3])
        // 81.25 and 1.25 are exact in binary: half-to-even gives 81.2 and 1.2, as Python's round does.
        #expect(report.markdown.contains("| s (pixel) | 81.2±1.2 | 62.5 | 71.9 |"))
        let lines = report.csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = lines[0], row = lines[1]
        #expect(row[header.firstIndex(of: "sst2_acc")!] == "81.25")
        #expect(row[header.firstIndex(of: "sst2_acc_std")!] == "1.25")
        #expect(row[header.firstIndex(of: "rte_acc_std")!] == "")
        #expect(row[header.firstIndex(of: "glue_avg")!] == "71.875")
        #expect(row[header.firstIndex(of: "seeds")!] == "1 2 3")
    }

    @Test func averagesNeedEveryColumnAndUseUnroundedValues() throws {
        // 8 x 30.049 and 7 x 30.149: rounded first they would average 30.0, unrounded they average 30.1.
        let accuracies = (0 ..< 15).map { $0 < 8 ? 0.30049 : 0.30149 }
        let full = try summary(results(model: "/m/full", tasks: xnliTasks { accuracies[$0] } + [task("rte", ["acc": 0.5]), task("sst2", ["acc": 0.7])]), file: "f")
        let partial = try summary(results(model: "/m/part", hash: "cd", tasks: Array(xnliTasks { accuracies[$0] }.prefix(14)) + [task("rte", ["acc": 0.5])]), file: "p")
        let report = try RunReport(runs: [full, partial], reference: nil, groups: try ProjectTables.groups())
        let roundedFirst = accuracies.map { ($0 * 1000).rounded() / 10 }.reduce(0, +) / 15
        let unrounded = accuracies.reduce(0, +) / 15 * 100
        #expect(String(format: "%.1f", roundedFirst) != String(format: "%.1f", unrounded))
        #expect(report.table.average(report.rows[0].table, report.table.sections[1], shown: []) == accuracies.reduce(0, +) / 15)
        #expect(report.markdown.contains(" | \(String(format: "%.1f", unrounded)) |\n| part (pixel) |"))
        #expect(report.table.average(report.rows[1].table, report.table.sections[1], shown: []) == nil)
        // GLUE: SST-2 and RTE are shown; the partial row lacks SST-2 and gets no average.
        #expect(report.markdown.contains("| full (pixel) | 70.0 | 50.0 | 60.0 |"))
        #expect(report.markdown.contains("| part (pixel) | – | 50.0 | – |"))
    }

    @Test func referenceRowsComeFirstWithTheirGivenAverages() throws {
        let yaml = """
            rows:
              - label: Synthetic, "quoted" row
                modality: pair
                source: test fixture
                scores:
                  sst2: 12.5
                  cola: {mean: 3.5, std: 0.5}
                  xnli_en: 33.5
                  xnli_avg: 44.5
            """
        let reference = try ReferenceNumbers(yaml: yaml, file: "ref.yaml", table: try ProjectTables.table())
        let run = try summary(results(model: "/m/r", tasks: [task("sst2", ["acc": 0.25])]), file: "r")
        let report = try RunReport(runs: [run], reference: reference, groups: try ProjectTables.groups())
        #expect(report.rows.map(\.isReference) == [true, false])
        #expect(report.markdown.contains("| *Synthetic, \"quoted\" row* | 12.5 | 3.5±0.5 | 8.0 |"))
        #expect(report.markdown.contains("| *Synthetic, \"quoted\" row* | 33.5 | 44.5 |\n| r (pixel) | – | – |\n"))
        #expect(report.markdown.contains("`ref.yaml`"))
        let csv = report.csv.split(separator: "\n")
        #expect(csv[1].hasPrefix("\"Synthetic, \"\"quoted\"\" row\",reference,,,pair,"))
        #expect(csv[1].hasSuffix(",44.5"))
        #expect(report.chartSeries(report.table.sections[1]).map(\.label) == ["Synthetic, \"quoted\" row (reference)"])
        #expect(report.chartSeries(report.table.sections[1])[0].average == 0.445)
    }

    @Test func badRunsAreRefusedNamingTheFile() throws {
        let groups = try ProjectTables.groups()
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("empty"), withIntermediateDirectories: true)
        var wrongSchema = results(model: "/m/a", tasks: [])
        wrongSchema["schema"] = "pixelgpt.inspect"
        try write(wrongSchema, to: dir.file("schema"))
        try write(results(model: "/m/a", version: 4, tasks: []), to: dir.file("version"))
        var missing = results(model: "/m/a", tasks: [["task": "sst2", "head": ["kind": "probe"]]])
        missing["tool_version"] = nil
        try write(missing, to: dir.file("metrics"))
        try "{not json".write(toFile: dir.file("broken.json"), atomically: true, encoding: .utf8)
        for (path, needles) in [
            (dir.file("nowhere"), ["nowhere", "no such run directory"]),
            (dir.file("empty"), ["empty", "no results.json"]),
            (dir.file("schema"), ["schema/results.json: schema:", "pixelgpt.inspect"]),
            (dir.file("version"), ["version/results.json: version:", "version 4"]),
            (dir.file("metrics"), ["metrics/results.json: tasks[0].metrics: missing"]),
            (dir.file("broken.json"), ["broken.json: not JSON"]),
        ] {
            #expect { try RunReport(runPaths: [path], referenceFile: nil, groups: groups) } throws: { error in
                let text = "\(error)"
                return needles.allSatisfy(text.contains) && !text.contains("\n")
            }
        }
    }

    @Test func badReferenceFilesAreRefusedNamingTheKey() throws {
        let table = try ProjectTables.table()
        for (yaml, needle) in [
            ("rows: [label: x", "ref.yaml: yaml:"),
            ("rows:\n  - label: a\n    scores: {sst22: 1}\n", "ref.yaml: rows[0].scores.sst22: not a report column"),
            ("rows:\n  - label: a\n    scores: {sst2: high}\n", "ref.yaml: rows[0].scores.sst2: expected a percentage"),
            ("rows:\n  - label: a\n    scores: {sst2: 150}\n", "ref.yaml: rows[0].scores.sst2: 150.0 is not a percentage"),
            ("rows:\n  - label: a\n    scores: {sst2: {mean: 1, std: -1}}\n", "rows[0].scores.sst2.std"),
            ("rows:\n  - label: a\n    modality: audio\n    scores: {sst2: 1}\n", "rows[0].modality"),
            ("rows:\n  - label: a\n    scores: {sst2: 1}\n  - label: a\n    scores: {rte: 1}\n", "rows[1].label"),
            ("rows:\n  - scores: {sst2: 1}\n", "ref.yaml: rows[0].label: missing"),
            ("rows: []\n", "ref.yaml: rows: empty"),
        ] {
            #expect(throws: ReportError.self) { try ReferenceNumbers(yaml: yaml, file: "ref.yaml", table: table) }
            #expect { try ReferenceNumbers(yaml: yaml, file: "ref.yaml", table: table) } throws: { error in
                "\(error)".contains(needle) && !"\(error)".contains("\n")
            }
        }
        #expect { try ReferenceNumbers(file: "/nonexistent/ref.yaml", table: table) } throws: { "\($0)".hasPrefix("/nonexistent/ref.yaml: ") }
    }

    @Test func writesAllOutputsAndSkipsTheChartWithoutXNLI() throws {
        let dir = try TemporaryDirectory()
        let withXNLI = try summary(results(model: "/m/x", tasks: xnliTasks { _ in 0.4 }), file: "x")
        let (written, notes) = try RunReport(runs: [withXNLI], reference: nil, groups: try ProjectTables.groups()).write(to: dir.file("out/nested"))
        #expect(written.map { ($0 as NSString).lastPathComponent } == ["report.md", "report.csv", "xnli.png"])
        #expect(notes.isEmpty)
        let glueOnly = try RunReport(runs: [try summary(results(model: "/m/g", tasks: [task("rte", ["acc": 0.5])]), file: "g")], reference: nil, groups: try ProjectTables.groups())
        let second = try glueOnly.write(to: dir.file("out/nested"))
        #expect(second.written.count == 2)
        #expect(second.notes.contains { $0.contains("not drawn") })
        // The chart of the earlier report would show rows this one does not have.
        #expect(!FileManager.default.fileExists(atPath: dir.file("out/nested/xnli.png")))
        #expect(try String(contentsOfFile: dir.file("out/nested/report.md"), encoding: .utf8) == glueOnly.markdown)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.file("out/nested")).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }
}

@Suite struct RunReportOptionTests {
    @Test func runsThatDifferByAnOptionBehindTheNumbersAreRowsOfTheirOwnLabelledByIt() throws {
        let eval = ["/usr/bin/pixelgpt", "eval", "--model", "/m/tiny", "--modality", "pixel"]
        // Options that move no number (where things go, threads, batch, an explicit default pooling) keep one row.
        let full = try summary(results(model: "/m/tiny", tasks: [task("rte", ["acc": 0.5])],
                                       commandLine: eval + ["--tasks", "rte", "--threads", "4", "--output-dir", "a", "--batch-size", "8"],
                                       pooling: "upstream"), file: "full")
        let xnli = try summary(results(model: "/m/tiny", tasks: xnliTasks { _ in 0.4 },
                                       commandLine: eval + ["--tasks=xnli", "--pooling", "upstream", "--output-dir=b", "--resume"],
                                       pooling: "upstream"), file: "xnli")
        let merged = try RunReport(runs: [full, xnli], reference: nil, groups: try ProjectTables.groups())
        #expect(merged.rows.map(\.table.label) == ["tiny (pixel)"])
        #expect(merged.rows[0].options.isEmpty)
        // --limit (from its field), --train-limit and a renderer keep runs apart, and their labels say which.
        let limited = try summary(results(model: "/m/tiny", tasks: [task("rte", ["acc": 0.75])],
                                          commandLine: eval + ["--tasks", "rte", "--limit", "16", "--train-limit", "64"], limit: 16), file: "limited")
        let rendered = try summary(results(model: "/m/tiny", tasks: [task("rte", ["acc": 0.625])],
                                           commandLine: eval + ["--tasks", "rte", "--rendered", "--renderer", "r2"], pooling: "last-real-token"), file: "rendered")
        let report = try RunReport(runs: [full, xnli, limited, rendered], reference: nil, groups: try ProjectTables.groups())
        #expect(report.rows.map(\.table.label) == ["tiny (pixel)", "tiny (pixel, --limit 16, --train-limit 64)",
                                                   "tiny (pixel, --pooling last-real-token, --rendered, --renderer r2)"])
        #expect(report.rows.map(\.table.cells["rte"]?.mean) == [0.5, 0.75, 0.625])
        #expect(report.markdown.contains("tiny (pixel, --limit 16, --train-limit 64): `--limit 16` `--train-limit 64`"))
        #expect(report.csv.split(separator: "\n")[2].contains(",--limit 16 --train-limit 64,"))
        // An option every row shares tells none apart and stays out of the labels.
        let limitedToo = try summary(results(model: "/m/other", hash: "cd", tasks: [task("rte", ["acc": 0.5])],
                                             commandLine: eval + ["--limit", "16", "--train-limit", "64"], limit: 16), file: "other")
        #expect(try RunReport(runs: [limited, limitedToo], reference: nil, groups: try ProjectTables.groups()).rows.map(\.table.label)
                == ["tiny (pixel)", "other (pixel)"])
    }

    /// The list of options that move no number names real `eval` options: a renamed option would otherwise
    /// start splitting rows (the safe direction), or a new neutral one be missed without anybody noticing.
    @Test func theOptionsThatMoveNoNumberAreEvalOptions() throws {
        let help = try BuiltTool.run(["eval", "--help"])
        #expect(help.status == 0)
        for option in NumbersOptions.neutral.sorted() {
            #expect(help.stdoutText.contains(option + " ") || help.stdoutText.contains(option + "\n"), "\(option) is not an eval option")
        }
    }

    @Test func aHeadSelectedOnTheReportedRowsIsMarkedAndExplained() throws {
        var selected = task("rte", ["acc": 0.7], seeds: [1], head: "finetune")
        selected["selection"] = ["split": "validation", "reported_split": "validation", "on_reported_split": true, "metric": "acc", "runs": []]
        var heldOut = task("rte", ["acc": 0.6], seeds: [1], head: "finetune")
        heldOut["selection"] = ["split": "train (held-out last 10%)", "reported_split": "validation", "on_reported_split": false, "metric": "acc", "runs": []]
        let a = try summary(results(model: "/m/f", tasks: [selected], commandLine: ["pixelgpt", "eval", "--select-on", "reported"]), file: "a")
        let b = try summary(results(model: "/m/f", tasks: [heldOut], commandLine: ["pixelgpt", "eval"]), file: "b")
        let report = try RunReport(runs: [a, b], reference: nil, groups: try ProjectTables.groups())
        #expect(report.rows.map(\.table.label) == ["f (pixel, --select-on reported) †", "f (pixel)"])
        #expect(report.rows.map(\.selectedOnReportedSplit) == [true, false])
        #expect(report.markdown.contains("† Fine-tuned heads chose their best step on the reported rows themselves"))
        let alone = try RunReport(runs: [b], reference: nil, groups: try ProjectTables.groups())
        #expect(!alone.markdown.contains("†"))
    }

    @Test func rowsAreNamedByWhatTheCheckpointIsNotHowItWasStored() {
        #expect(CheckpointName.of(path: "/runs/pixelgpt-tiny") == "pixelgpt-tiny")
        #expect(CheckpointName.of(path: "/runs/pixelgpt-tiny/") == "pixelgpt-tiny")
        #expect(CheckpointName.of(path: "/hf/hub/models--baidu--PixelGPT/snapshots/0123abcd4567") == "baidu/PixelGPT")
        #expect(CheckpointName.of(path: ".run/heads/rte/seed-1") == "heads/rte/seed-1")
        #expect(CheckpointName.of(path: "out/heads/xnli/seed-42/fold-3") == "heads/xnli/seed-42/fold-3")
        #expect(CheckpointName.of(path: "/m/dual/model.safetensors") == "dual")
        #expect(CheckpointName.of(path: "/m/dual/mono-350m.safetensors") == "mono-350m")
        #expect(CheckpointName.of(path: "/m/seed-bank") == "seed-bank")
    }
}

@Suite struct RunReportChartTests {
    /// Columns of the image holding `colour`, grouped into bars (runs of adjacent columns) with the number of
    /// such pixels in each bar's middle column: its height. The 14-pixel legend swatch is left out.
    static func bars(_ rgb: [UInt8], width: Int, height: Int, colour: BarChart.Colour) -> [(x: Int, height: Int)] {
        var counts = [Int](repeating: 0, count: width)
        for y in 0 ..< height {
            for x in 0 ..< width {
                let i = (y * width + x) * 3
                if rgb[i] == colour.red && rgb[i + 1] == colour.green && rgb[i + 2] == colour.blue { counts[x] += 1 }
            }
        }
        var bars: [(x: Int, height: Int)] = []
        var x = 0
        while x < width {
            guard counts[x] > 0 else { x += 1; continue }
            let start = x
            while x < width && counts[x] > 0 { x += 1 }
            let middle = counts[(start + x) / 2]
            if middle > 14 { bars.append((start, middle)) }
        }
        return bars
    }

    @Test func barsHaveEachRowsColourAndHeightsOrderedAsTheAccuracies() throws {
        let rising = (0 ..< 15).map { 0.40 + 0.02 * Double($0) }
        let falling = (0 ..< 15).map { 0.70 - 0.02 * Double($0) }
        let series = [
            BarChart.Series(label: "rising", values: rising, average: rising.reduce(0, +) / 15),
            BarChart.Series(label: "falling", values: falling, average: falling.reduce(0, +) / 15),
            BarChart.Series(label: "five languages", values: (0 ..< 15).map { $0 < 5 ? 0.55 : nil }, average: nil),
        ]
        let png = try BarChart.png(series: series, columns: ProjectTables.xnliOrder, title: "test chart", file: "test.png")
        let image = try PNGImage.decode(png)
        #expect(image.mode == .rgb)
        #expect(image.height >= BarChart.plotHeight && image.width > image.height)
        let rgb = try image.convertedToRGB()
        let found = (0 ..< 3).map { Self.bars(rgb, width: image.width, height: image.height, colour: BarChart.colour($0)) }
        #expect(found.map(\.count) == [16, 16, 5])
        let risingHeights = found[0].map(\.height), fallingHeights = found[1].map(\.height)
        #expect(zip(risingHeights.prefix(15), risingHeights.dropFirst().prefix(14)).allSatisfy { $0 < $1 })
        #expect(zip(fallingHeights.prefix(15), fallingHeights.dropFirst().prefix(14)).allSatisfy { $0 > $1 })
        // Bars start at 0: heights are proportional to the accuracies, to within a pixel's rounding.
        #expect(abs(Double(risingHeights[0]) / Double(fallingHeights[0]) - 0.40 / 0.70) < 0.01)
        #expect(abs(Double(risingHeights[15]) / Double(risingHeights[0]) - (rising.reduce(0, +) / 15) / 0.40) < 0.01)
        // Within the "en" group, left to right: rising (40%), falling (70%), five languages (55%).
        #expect(found[0][0].x < found[1][0].x && found[1][0].x < found[2][0].x)
        #expect(found[0][0].height < found[2][0].height && found[2][0].height < found[1][0].height)
    }

    @Test func theAxisEndsAboveTheBestBarAndItsErrorBar() {
        func top(_ values: [Double], std: Double? = nil, chance: Double? = nil) -> Int {
            BarChart.axisTop([BarChart.Series(label: "r", values: values, deviations: values.map { _ in std }, average: nil)], chance: chance)
        }
        // A best value on a multiple of 10 no longer ends the axis.
        #expect(top([0.4, 0.3]) == 50)
        #expect(top([0.37]) == 40)
        #expect(top([0.37], std: 0.02) == 50)
        #expect(top([0.05], chance: 0.5) == 60)
        #expect(top([1.0]) == 100)
        #expect(top([]) == 10)
    }

    @Test func seedSpreadIsDrawnAsAnErrorBarAndChanceAsALine() throws {
        let values: [Double?] = [0.5, 0.5]
        let plain = try BarChart.png(series: [BarChart.Series(label: "a", values: values, average: 0.5)], columns: ["x", "y"], title: "t", file: "t.png")
        let spread = try BarChart.png(series: [BarChart.Series(label: "a", values: values, deviations: [0.1, nil], average: 0.5)],
                                      columns: ["x", "y"], title: "t", chance: 1.0 / 3, file: "t.png")
        func image(_ png: [UInt8]) throws -> (rgb: [UInt8], width: Int, height: Int) {
            let decoded = try PNGImage.decode(png)
            return (try decoded.convertedToRGB(), decoded.width, decoded.height)
        }
        let (rgb, width, height) = try image(spread)
        let bar = try #require(Self.bars(rgb, width: width, height: height, colour: BarChart.colour(0)).first)
        // Near-black whisker pixels above the first bar's top (value + std), none above the second's.
        func darkAbove(_ x0: Int, _ x1: Int) -> Int {
            var n = 0
            for y in 0 ..< BarChart.plotTop + BarChart.plotHeight - bar.height - 2 {
                for x in x0 ..< x1 where y > BarChart.plotTop {
                    let i = (y * width + x) * 3
                    if rgb[i] < 40 && rgb[i] == rgb[i + 1] && rgb[i] == rgb[i + 2] { n += 1 }
                }
            }
            return n
        }
        let groupWidth = 18 + BarChart.groupGap
        #expect(darkAbove(bar.x, bar.x + 18) > 10)
        #expect(darkAbove(bar.x + groupWidth, bar.x + groupWidth + 18) == 0)
        // The axis ends at 70 (60% + 2 points of headroom), so the chance line sits at 1/3 of 70 of the plot.
        let chanceY = BarChart.plotTop + BarChart.plotHeight - Int((100.0 / 3 / 70 * Double(BarChart.plotHeight)).rounded())
        let chanceRow = (BarChart.plotLeft + 1 ..< bar.x - 1).filter { x in
            let i = (chanceY * width + x) * 3
            return rgb[i] == rgb[i + 1] && rgb[i] < 120
        }
        #expect(chanceRow.count > 4)
        let (plainRGB, plainWidth, _) = try image(plain)
        #expect(!(BarChart.plotLeft + 1 ..< bar.x - 1).contains { x in let i = (chanceY * plainWidth + x) * 3; return plainRGB[i] < 120 })
    }
}
