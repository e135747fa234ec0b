import Eval
import Foundation
import Render
import Support

/// `pixelgpt report RUN_DIR... --html DIR`: a static page over the runs that works from the file system
/// (no network): the leaderboard with its chart as inline SVG, per run and task the metrics, confusion matrix
/// or scatter and label distribution, and a sample browser per task whose pixel and pair rows show the strip
/// exactly as the model read it, re-rendered with the run's renderer after checking it against the
/// renderer environment results.json recorded. Layout of DIR: index.html, report.js, data/KEY.js (one per
/// task: the browser's rows), strips/KEY/INDEX.png.
public struct HTMLReport {
    public static let indexFile = "index.html", scriptFile = "report.js", marker = ".pixelgpt-html-report"

    let report: RunReport
    let tasks: [RunSamples]
    /// Per run: why its strips are not shown, when they are not.
    let stripNotes: [Int: String]
    /// Per pixel or pair run: its recorded renderer, checked; strips are rendered while the page is written.
    let renderers: [Int: TextRenderer]
    let runFiles: [String]
    let registry: TaskRegistry
    public let notes: [String]

    /// Reads every run's results.json, samples and data rows, and loads and checks the renderer of pixel and
    /// pair runs.
    public init(report: RunReport, runPaths: [String], registry: TaskRegistry) throws(ReportError) {
        self.report = report
        self.registry = registry
        var tasks: [RunSamples] = [], stripNotes: [Int: String] = [:], renderers: [Int: TextRenderer] = [:], files: [String] = [], notes: [String] = []
        let tasksByName = Dictionary(registry.tasks.map { ($0.task, $0) }, uniquingKeysWith: { first, _ in first })
        for (runIndex, path) in runPaths.enumerated() {
            let summary = try RunSummary(path: path)
            files.append(summary.file)
            let runDirectory = (summary.file as NSString).deletingLastPathComponent
            let results: EvaluationResults
            do {
                results = try JSONDecoder().decode(EvaluationResults.self, from: Data(contentsOf: URL(fileURLWithPath: summary.file)))
            } catch let error as DecodingError {
                throw ReportError(file: summary.file, decoding: error)
            } catch {
                throw ReportError(file: summary.file, reason: "unreadable (\(error.localizedDescription))")
            }
            if results.modality != "text" && RunSamples.readPreRenderedImages(runDirectory: runDirectory) {
                let why = "the run read the original's pre-rendered images (--rendered), which this report does not re-draw"
                stripNotes[runIndex] = why
                notes.append("\(summary.file): strips not shown: \(why)")
            } else if results.modality != "text" {
                switch Self.recordedRenderer(results) {
                case .success(let checked): renderers[runIndex] = checked
                case .failure(let why):
                    stripNotes[runIndex] = why.description
                    notes.append("\(summary.file): strips not shown: \(why)")
                }
            }
            for result in results.tasks {
                guard let task = tasksByName[result.task] else {
                    notes.append("\(summary.file): \(result.task) is not in the tasks directory; its samples are not shown")
                    continue
                }
                tasks.append(try RunSamples(runIndex: runIndex, results: results, result: result, task: task, runDirectory: runDirectory))
            }
        }
        self.tasks = tasks
        self.stripNotes = stripNotes
        self.renderers = renderers
        runFiles = files
        self.notes = notes
    }

    /// The run's renderer when it is the one results.json recorded (same libraries, settings and font files),
    /// else why not: a strip from another renderer would not be what the model saw.
    static func recordedRenderer(_ results: EvaluationResults) -> Result<TextRenderer, RendererMismatch> {
        guard let recorded = results.renderer else {
            return .failure(RendererMismatch(description: "the run recorded no renderer (pre-rendered data)"))
        }
        let renderer: TextRenderer, current: RenderEnvironment
        do {
            renderer = try TextRenderer(directory: recorded.rendererDirectory)
            current = try renderer.environment(fallbackFonts: max(1, recorded.fonts.count))
        } catch {
            return .failure(RendererMismatch(description: "cannot load the recorded renderer \(recorded.rendererDirectory): \(error)"))
        }
        guard current == recorded else {
            return .failure(RendererMismatch(description: "this machine's renderer differs from the recorded one in \(differingFields(recorded, current).joined(separator: ", "))"))
        }
        return .success(renderer)
    }

    struct RendererMismatch: Error, CustomStringConvertible { let description: String }

    static func differingFields(_ a: RenderEnvironment, _ b: RenderEnvironment) -> [String] {
        func fields(_ environment: RenderEnvironment) -> [String: Data] {
            guard let data = try? JSONEncoder().encode(environment),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
            return object.compactMapValues { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed]) }
        }
        let left = fields(a), right = fields(b)
        let differing = Set(left.keys).union(right.keys).sorted().filter { left[$0] != right[$0] }
        return differing.isEmpty ? ["renderer"] : differing
    }

    // MARK: Writing

    /// Writes DIR as one staged directory renamed into place; an existing DIR is replaced only when it is an
    /// earlier HTML report (it holds the marker file) or empty. Returns the path of index.html.
    public func write(to directory: String) throws(ReportError) -> String {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        var previous: String?
        if fm.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ReportError(file: directory, reason: "exists and is not a directory; give another --html") }
            if !StagedOutput.isEmptyDirectory(directory) {
                guard fm.fileExists(atPath: (directory as NSString).appendingPathComponent(Self.marker)) else {
                    throw ReportError(file: directory, reason: "not empty and not an earlier HTML report; give a new or empty --html directory")
                }
                previous = StagedOutput.temporaryPath(for: directory)
            }
        }
        let parent = (directory as NSString).deletingLastPathComponent
        if !parent.isEmpty {
            do { try fm.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
                throw ReportError(file: parent, reason: "cannot create (\(error.localizedDescription))")
            }
        }
        try StagedOutput.commit(directory, failure: { ReportError(file: directory, reason: $0.reason) }) { (staging: String) throws(ReportError) in
            try writeFiles(into: staging)
            // The earlier report steps aside only once the new one is complete.
            if let previous, rename(directory, previous) != 0 {
                throw ReportError(file: directory, reason: "cannot move the earlier report aside: \(String(cString: strerror(errno)))")
            }
        }
        if let previous { try? fm.removeItem(atPath: previous) }
        return (directory as NSString).appendingPathComponent(Self.indexFile)
    }

    func writeFiles(into root: String) throws(ReportError) {
        func write(_ text: String, _ relative: String) throws(ReportError) {
            let path = (root as NSString).appendingPathComponent(relative)
            do { try AtomicFile.write(Array(text.utf8), to: path) } catch { throw ReportError(file: path, reason: error.reason) }
        }
        func makeDirectory(_ relative: String) throws(ReportError) {
            let path = (root as NSString).appendingPathComponent(relative)
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw ReportError(file: path, reason: "cannot create (\(error.localizedDescription))")
            }
        }
        try makeDirectory("data")
        try write("pixelgpt HTML report\n", Self.marker)
        try write(HTMLReportScript.source, Self.scriptFile)
        for task in tasks {
            // One strip at a time: rendered, written, and only its layout kept.
            var layouts: [RunSamples.StripLayout?] = Array(repeating: nil, count: task.rows.count)
            if let renderer = renderers[task.runIndex], task.sequenceLength != nil {
                try makeDirectory("strips/" + task.key)
                for i in task.rows.indices {
                    guard let strip = try task.strip(i, with: renderer) else { continue }
                    let path = (root as NSString).appendingPathComponent(Self.stripPath(task, task.rows[i]))
                    do { try PNGFile.write(strip, to: path) } catch { throw ReportError(file: path, reason: "\(error)") }
                    layouts[i] = RunSamples.StripLayout(strip)
                }
            }
            try write("pixelgptReportData(" + (try Self.json(pageData(task, layouts: layouts))) + ");\n", "data/\(task.key).js")
        }
        try write(page, Self.indexFile)
    }

    static func stripPath(_ task: RunSamples, _ row: RunSamples.Row) -> String { "strips/\(task.key)/\(row.record.index).png" }

    static func json<T: Encodable>(_ value: T) throws(ReportError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
            throw ReportError(file: "report", reason: "cannot encode the page data (\(error))")
        }
    }

    // MARK: The sample browser's data

    struct PageData: Encodable {
        struct Row: Encodable {
            /// Row index in the data file, text a and b, gold and predicted (class id or score), probabilities.
            let i: Int
            let a: String
            let b: String?
            let g: Double?
            let p: Double
            let pr: [Double]
            /// The strip's file, its text patches (end patch index), separator patch indices, cut.
            let s: String?
            let n: Int?
            let sep: [Int]?
            let cut: Bool?
        }
        let key: String
        let labels: [String]
        let regression: Bool
        let language: String
        let patch: Int
        let patches: Int?
        let rows: [Row]
    }

    func pageData(_ task: RunSamples, layouts: [RunSamples.StripLayout?]) -> PageData {
        PageData(key: task.key, labels: task.task.labelList ?? [], regression: !task.isClassification, language: task.task.language ?? "",
                 patch: 16, patches: task.sequenceLength, rows: zip(task.rows, layouts).map { row, layout in
            PageData.Row(i: row.record.index, a: row.textA, b: row.textB, g: row.record.label, p: row.record.prediction,
                         pr: row.probabilities.map { ($0 * 10000).rounded() / 10000 },
                         s: layout.map { _ in Self.stripPath(task, row) }, n: layout?.numTextPatches, sep: layout?.markedPatches,
                         cut: layout?.fillsStrip)
        })
    }

    // MARK: The page

    var page: String {
        var out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>pixelgpt report</title>
        <style>\(HTMLReportScript.style)</style>
        <script>window.pixelgptReport = {tasks: {}}; function pixelgptReportData(d) { window.pixelgptReport.tasks[d.key] = d; }</script>

        """
        for task in tasks { out += "<script defer src=\"data/\(task.key).js\"></script>\n" }
        out += "<script defer src=\"\(Self.scriptFile)\"></script>\n</head>\n<body>\n<a class=\"skip\" href=\"#runs\">Skip to the runs</a>\n"
        out += "<header><h1>pixelgpt report</h1><p>\(runFiles.count) run(s): " + runFiles.map { "<code>\(HTMLText.escaped($0))</code>" }.joined(separator: ", ") + "</p></header>\n<main>\n"
        out += leaderboard
        out += "<section id=\"runs\"><h2>Runs and tasks</h2>\n<nav aria-label=\"tasks\"><ul class=\"toc\">"
        for task in tasks { out += "<li><a href=\"#\(task.key)\">\(HTMLText.escaped(runLabel(task))): \(HTMLText.escaped(task.result.task))</a></li>" }
        out += "</ul></nav>\n"
        for task in tasks { out += taskSection(task) }
        out += "</section>\n"
        let combined = languageBrowsers
        if !combined.isEmpty {
            out += "<section id=\"languages\"><h2>Samples across languages</h2>\n"
            for browser in combined {
                let name = "\(browser.section) (\(browser.tasks.count) languages), \(runLabel(browser.tasks[0]))"
                out += "<article class=\"task\"><h3>\(HTMLText.escaped(name))</h3>"
                out += "<section class=\"browser\" data-tasks=\"\(browser.tasks.map(\.key).joined(separator: " "))\" aria-label=\"samples of \(HTMLText.escaped(name))\"><h4>Samples</h4></section></article>\n"
            }
            out += "</section>\n"
        }
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    /// Per run and table section, the tasks of one label set in several languages (XNLI): one more browser
    /// over all of them, where the language filter chooses.
    var languageBrowsers: [(section: String, tasks: [RunSamples])] {
        var browsers: [(section: String, tasks: [RunSamples])] = []
        for run in Set(tasks.map(\.runIndex)).sorted() {
            for section in report.table.sections {
                let members = Set(section.columns.map(\.task))
                let chosen = tasks.filter { $0.runIndex == run && members.contains($0.result.task) && $0.task.language != nil }
                guard Set(chosen.compactMap(\.task.language)).count > 1, Set(chosen.map { $0.task.labelList ?? [] }).count == 1 else { continue }
                browsers.append((section.name, chosen))
            }
        }
        return browsers
    }

    func runLabel(_ task: RunSamples) -> String {
        "run \(task.runIndex + 1) (\((task.results.model.path as NSString).lastPathComponent), \(task.results.modality))"
    }

    var leaderboard: String {
        let rows = report.rows
        let tableRows = rows.map(\.table)
        var out = "<section id=\"leaderboard\"><h2>Leaderboard</h2>\n"
        for section in report.table.sections {
            let shown = report.table.shownColumns(section, tableRows)
            guard !shown.isEmpty else { continue }
            out += "<div class=\"scroll\"><table class=\"leaderboard\" data-section=\"\(HTMLText.escaped(section.name))\"><caption>\(HTMLText.escaped(section.name)) (percent; ± sample std over seeds)</caption>\n<thead><tr><th scope=\"col\">model</th>"
            for column in shown { out += "<th scope=\"col\">\(HTMLText.escaped(column.header))</th>" }
            out += "<th scope=\"col\">Avg</th></tr></thead><tbody>\n"
            for row in rows {
                out += "<tr\(row.isReference ? " class=\"reference\"" : "")><th scope=\"row\">\(HTMLText.escaped(row.table.label))</th>"
                for column in shown {
                    if let cell = row.table.cells[column.task] {
                        out += "<td data-task=\"\(HTMLText.escaped(column.task))\" data-metric=\"\(column.metric.rawValue)\" data-value=\"\(cell.mean)\">\(HTMLText.escaped(LeaderboardTable.format(cell: cell)))</td>"
                    } else {
                        out += "<td>–</td>"
                    }
                }
                out += "<td class=\"avg\">\(LeaderboardTable.format(report.table.average(row.table, section, shown: shown)))</td></tr>\n"
            }
            out += "</tbody></table></div>\n"
            if let chart = section.chart {
                let series = report.chartSeries(section)
                if !series.isEmpty {
                    out += "<figure class=\"chart\">" + SVGCharts.bars(series: series, columns: section.columns.map(\.header), title: chart.title,
                                                                     chance: section.chance) + "</figure>\n"
                }
            }
        }
        return out + "</section>\n"
    }

    func taskSection(_ task: RunSamples) -> String {
        let result = task.result
        var out = "<article class=\"task\" id=\"\(task.key)\" aria-labelledby=\"\(task.key)-title\">\n"
        out += "<h3 id=\"\(task.key)-title\">\(HTMLText.escaped(result.task)) <small>\(HTMLText.escaped(runLabel(task)))</small></h3>\n"
        out += "<p class=\"facts\">split <code>\(HTMLText.escaped(result.split))</code> of <code>\(HTMLText.escaped(result.file))</code>; "
        out += "<span data-field=\"rows\">\(result.rows)</span> rows evaluated, <span data-field=\"skipped_rows\">\(result.skippedRows)</span> skipped; \(HTMLText.escaped(result.head.kind)) head</p>\n"
        out += "<table class=\"metrics\"><caption>metrics (percent; ± sample std over seeds where several trained heads)</caption><thead><tr><th scope=\"col\">metric</th><th scope=\"col\">value</th><th scope=\"col\">standard error over rows</th></tr></thead><tbody>"
        for (name, value) in result.metrics.sorted(by: { $0.key < $1.key }) {
            let cell = LeaderboardTable.Cell(mean: value, std: result.metricsStd?[name])
            // Version 3 files: lm-eval's `<metric>_stderr`, with how it was computed (analytic or bootstrap).
            let stderr = result.metricsStderr?[name].map { LeaderboardTable.format($0) + (result.stderrMethod?[name].map { " (\($0))" } ?? "") } ?? "–"
            out += "<tr><th scope=\"row\">\(HTMLText.escaped(name))</th><td data-metric=\"\(HTMLText.escaped(name))\" data-value=\"\(value)\">\(HTMLText.escaped(LeaderboardTable.format(cell: cell)))</td>"
                + "<td class=\"stderr\">\(HTMLText.escaped(stderr))</td></tr>"
        }
        out += "</tbody></table>\n"
        if task.isClassification {
            out += distribution(task)
        } else {
            let labeled = task.rows.filter { $0.record.label != nil }
            out += "<figure>" + SVGCharts.scatter(gold: labeled.map { $0.record.label! }, predicted: labeled.map(\.record.prediction),
                                                  title: "\(result.task): prediction against gold score, \(labeled.count) rows") + "</figure>\n"
        }
        if let why = stripNotes[task.runIndex] { out += "<p class=\"warning\" role=\"note\">Strips not shown: \(HTMLText.escaped(why)).</p>\n" }
        out += "<section class=\"browser\" data-task=\"\(task.key)\" aria-label=\"samples of \(HTMLText.escaped(result.task))\"><h4>Samples</h4><noscript>The sample browser needs JavaScript.</noscript></section>\n"
        return out + "</article>\n"
    }

    /// The confusion matrix (gold rows, predicted columns) and the gold and predicted label counts.
    func distribution(_ task: RunSamples) -> String {
        let names = task.task.labelList ?? []
        let k = names.count
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var predicted = [Int](repeating: 0, count: k), gold = [Int](repeating: 0, count: k)
        for row in task.rows {
            let p = Int(row.record.prediction)
            if (0 ..< k).contains(p) { predicted[p] += 1 }
            guard let label = row.record.label, (0 ..< k).contains(Int(label)) else { continue }
            gold[Int(label)] += 1
            if (0 ..< k).contains(p) { matrix[Int(label)][p] += 1 }
        }
        var out = "<div class=\"scroll\"><table class=\"confusion\"><caption>confusion matrix: gold (rows) by predicted (columns)</caption><thead><tr><th scope=\"col\">gold \\ predicted</th>"
        for name in names { out += "<th scope=\"col\">\(HTMLText.escaped(name))</th>" }
        out += "</tr></thead><tbody>"
        for (g, name) in names.enumerated() {
            out += "<tr><th scope=\"row\">\(HTMLText.escaped(name))</th>"
            for p in 0 ..< k { out += "<td class=\"\(g == p ? "hit" : "")\" data-gold=\"\(g)\" data-predicted=\"\(p)\">\(matrix[g][p])</td>" }
            out += "</tr>"
        }
        out += "</tbody></table></div>\n<table class=\"labels\"><caption>label distribution</caption><thead><tr><th scope=\"col\">label</th><th scope=\"col\">gold</th><th scope=\"col\">predicted</th></tr></thead><tbody>"
        let total = max(1, task.rows.count)
        for (i, name) in names.enumerated() {
            out += "<tr><th scope=\"row\">\(HTMLText.escaped(name))</th>"
            for count in [gold[i], predicted[i]] {
                out += "<td><span class=\"bar\" style=\"width:\(count * 100 / total)%\"></span>\(count)</td>"
            }
            out += "</tr>"
        }
        return out + "</tbody></table>\n"
    }
}
