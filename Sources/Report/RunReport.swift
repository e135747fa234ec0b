import Eval
import Foundation
import Support
import SafeTensors

/// `pixelgpt report`: one leaderboard over several `pixelgpt eval` runs (docs/report.md). Rows are checkpoint
/// x modality (x head kind and XNLI setting where the runs differ by them); runs of the same row, such as a
/// GLUE run and an XNLI run of one checkpoint, merge into one row. Optional reference rows carry published
/// numbers from a YAML file. Output: markdown, CSV and a bar chart per table whose group file asks for one
/// (xnli.png: XNLI accuracy per language). Tables, columns and charts come from the group files.
public struct RunReport: Sendable {
    /// One row of the leaderboard and where its numbers came from.
    public struct Row: Sendable, Equatable {
        public var table: LeaderboardTable.Row
        public let isReference: Bool
        /// The model directory's name; empty for reference rows.
        public let checkpoint: String
        /// The first 8 hex digits of the first weight file's SHA-256.
        public let weights: String
        public let modality: String
        public let head: String
        public let xnliSetting: String
        /// Every seed behind the row's numbers, sorted.
        public let seeds: [Int]
        /// The eval options behind its numbers (`NumbersOptions`), as `--name value`.
        public let options: [String]
        /// A fine-tuned head of the row chose its best step on the reported rows: optimistic numbers.
        public let selectedOnReportedSplit: Bool
        /// The results.json files read, or the reference file.
        public let files: [String]
        /// Where published numbers were copied from (reference rows).
        public let source: String
    }

    public static let markdownFile = "report.md", csvFile = "report.csv"

    /// The tables' layout, from the group files.
    public let table: LeaderboardTable
    /// Reference rows first, then measured rows in the order their first run was given.
    public let rows: [Row]
    public let referenceFile: String?
    /// Things worth saying on stderr: ignored tasks, missing metrics, duplicates shown once.
    public let notes: [String]

    /// Reads every run (a directory written by `pixelgpt eval` or its results.json) and the reference file;
    /// `groups` are the task registry's (`TaskRegistry.taskGroups`).
    /// `tasks` (the registry's) give the charts their chance line.
    public init(runPaths: [String], referenceFile: String?, groups: [TaskGroup], tasks: [TaskDefinition] = []) throws(ReportError) {
        guard !runPaths.isEmpty else { throw ReportError(file: "report", reason: "no run directory given; name at least one directory written by `pixelgpt eval`") }
        var runs: [RunSummary] = []
        for path in runPaths { runs.append(try RunSummary(path: path)) }
        let table = LeaderboardTable(groups: groups)
        try self.init(runs: runs, reference: try referenceFile.map { (file) throws(ReportError) in try ReferenceNumbers(file: file, table: table) },
                      groups: groups, tasks: tasks)
    }

    public init(runs: [RunSummary], reference: ReferenceNumbers?, groups: [TaskGroup], tasks: [TaskDefinition] = []) throws(ReportError) {
        var notes: [String] = []
        table = LeaderboardTable(groups: groups, tasks: tasks)
        let sharedHeadTasks = Set(groups.filter { $0.sharedHead != nil }.flatMap(\.task))
        let merged = try Self.merge(runs, columns: table.columns, sharedHeadTasks: sharedHeadTasks, notes: &notes)
        let measured = Self.label(merged)
        let references = (reference?.rows ?? []).map { row in
            Row(table: LeaderboardTable.Row(label: row.label, cells: row.cells, givenAverages: row.averages),
                isReference: true, checkpoint: "", weights: "", modality: row.modality ?? "", head: "", xnliSetting: "", seeds: [],
                options: [], selectedOnReportedSplit: false, files: [reference!.file], source: row.source ?? "")
        }
        rows = references + measured
        referenceFile = reference?.file
        self.notes = notes
    }

    // MARK: Merging runs into rows

    /// What makes two tasks' numbers belong to one row.
    struct RowKey: Hashable {
        let checkpoint: String
        let modality: String
        /// The head kind without "-crossfit": a run falls back to cross-fitting for the tasks without a train
        /// split, and those are still the same row.
        let head: String?
        /// Only tasks of a shared-head group have one (fine-tuned heads).
        let xnliSetting: String?
        /// `eval --label`: runs labelled differently are different rows.
        var label: String? = nil
        /// Runs made with other numbers-changing options are different rows.
        var options: [String] = []
    }

    struct Group {
        var key: RowKey
        let name: String
        let shortHash: String?
        var cells: [String: LeaderboardTable.Cell] = [:]
        /// The file each cell came from.
        var origins: [String: String] = [:]
        var seeds: Set<Int> = []
        var files: [String] = []
        var selectedOnReportedSplit = false

        var description: String {
            "checkpoint \(name), modality \(key.modality)" + (key.head.map { ", \($0) head" } ?? "") + (key.xnliSetting.map { ", \($0)" } ?? "")
                + key.options.map { ", \($0)" }.joined()
        }

        /// Adds one task's cell; the same task twice is refused unless its numbers agree.
        mutating func add(task: String, cell: LeaderboardTable.Cell, seeds: [Int], file: String, key: String, notes: inout [String]) throws(ReportError) {
            if !files.contains(file) { files.append(file) }
            self.seeds.formUnion(seeds)
            if let existing = cells[task] {
                guard existing == cell else {
                    throw ReportError(file: file, key: key,
                                      reason: "the row (\(description)) already has \(task) from \(origins[task]!) with other numbers; give only one of these runs")
                }
                notes.append("\(file): \(task) repeats \(origins[task]!) with the same numbers; shown once")
                return
            }
            cells[task] = cell
            origins[task] = file
        }
    }

    static func merge(_ runs: [RunSummary], columns: [LeaderboardTable.Column], sharedHeadTasks: Set<String>,
                      notes: inout [String]) throws(ReportError) -> [Group] {
        let columns = Dictionary(columns.map { ($0.task, $0) }, uniquingKeysWith: { first, _ in first })
        var groups: [Group] = []
        var ignored: [String: [String]] = [:]
        for run in runs {
            for (index, task) in run.tasks.enumerated() {
                guard let column = columns[task.task] else {
                    ignored[run.file, default: []].append(task.task)
                    continue
                }
                guard let mean = task.metrics[column.metric.rawValue] else {
                    notes.append("\(run.file): tasks[\(index)] (\(task.task)) has no \(column.metric.rawValue), which its column shows; the cell stays empty")
                    continue
                }
                let key = RowKey(checkpoint: run.checkpointIdentity, modality: run.modality,
                                 head: task.headKind.map { $0.hasSuffix("-crossfit") ? String($0.dropLast("-crossfit".count)) : $0 },
                                 xnliSetting: sharedHeadTasks.contains(task.task) ? task.xnliSetting : nil, label: run.label,
                                 options: run.numbersOptions)
                if !groups.contains(where: { $0.key == key }) {
                    groups.append(Group(key: key, name: run.label ?? run.checkpointName, shortHash: run.label == nil ? run.shortHash : nil))
                }
                let at = groups.firstIndex { $0.key == key }!
                try groups[at].add(task: task.task, cell: LeaderboardTable.Cell(mean: mean, std: task.metricsStd[column.metric.rawValue]),
                                   seeds: task.seeds, file: run.file, key: "tasks[\(index)]", notes: &notes)
                if task.selectedOnReportedSplit { groups[at].selectedOnReportedSplit = true }
            }
        }
        for (file, tasks) in ignored.sorted(by: { $0.key < $1.key }) {
            notes.append("\(file): ignored \(tasks.joined(separator: ", ")) (not a leaderboard column)")
        }
        // A row without shared-head tasks (GLUE) joins the row of the same checkpoint, modality and head that
        // has an XNLI setting when there is exactly one (one setting): such runs have no setting to match on.
        var partnerOf: [Int: Int] = [:]
        for (i, group) in groups.enumerated() where group.key.xnliSetting == nil && !group.cells.keys.contains(where: sharedHeadTasks.contains) {
            let partners = groups.indices.filter { j in
                let other = groups[j].key
                return other.xnliSetting != nil && other.checkpoint == group.key.checkpoint && other.modality == group.key.modality
                    && other.head == group.key.head && other.label == group.key.label && other.options == group.key.options
            }
            if partners.count == 1 { partnerOf[i] = partners[0] }
        }
        var merged = groups
        for (i, partner) in partnerOf.sorted(by: { $0.key < $1.key }) {
            for (task, cell) in groups[i].cells.sorted(by: { $0.key < $1.key }) {
                try merged[partner].add(task: task, cell: cell, seeds: Array(groups[i].seeds), file: groups[i].origins[task]!,
                                        key: "task \(task)", notes: &notes)
            }
            if groups[i].selectedOnReportedSplit { merged[partner].selectedOnReportedSplit = true }
        }
        return merged.indices.filter { partnerOf[$0] == nil }.map { merged[$0] }
    }

    /// Labels: the run's --label, else the model's name (with a short weight hash when two checkpoints share it) and the
    /// modality, plus the head kind, XNLI setting and numbers-changing options when rows differ by them, and
    /// a dagger on rows whose fine-tuned heads selected on the reported rows.
    static func label(_ groups: [Group]) -> [Row] {
        let showHead = Set(groups.map(\.key.head)).count > 1
        let showSetting = Set(groups.map(\.key.xnliSetting)).count > 1
        // An option every row was run with tells no row apart.
        let commonOptions = groups.dropFirst().reduce(Set(groups.first?.key.options ?? [])) { $0.intersection($1.key.options) }
        var labels: [String] = []
        var rows: [Row] = []
        for group in groups {
            let sameName = Set(groups.filter { $0.name == group.name }.map(\.key.checkpoint)).count > 1
            var name = group.name
            if sameName, let hash = group.shortHash { name += " @" + hash }
            var details = [group.key.modality]
            if showHead { details.append((group.key.head ?? "unknown") + " head") }
            if showSetting, let setting = group.key.xnliSetting { details.append(setting) }
            details += group.key.options.filter { !commonOptions.contains($0) }
            var label = "\(name) (\(details.joined(separator: ", ")))"
            if group.selectedOnReportedSplit { label += " " + Self.selectedOnReportedMark }
            // Rows that still read alike (same name, no hash recorded) are numbered rather than confused.
            if labels.contains(label) {
                var n = 2
                while labels.contains("\(label) #\(n)") { n += 1 }
                label += " #\(n)"
            }
            labels.append(label)
            rows.append(Row(table: LeaderboardTable.Row(label: label, cells: group.cells), isReference: false, checkpoint: group.name,
                            weights: group.shortHash ?? "", modality: group.key.modality, head: group.key.head ?? "",
                            xnliSetting: group.key.xnliSetting ?? "", seeds: group.seeds.sorted(), options: group.key.options,
                            selectedOnReportedSplit: group.selectedOnReportedSplit, files: group.files, source: ""))
        }
        return rows
    }

    // MARK: Outputs

    /// The tables, then how to read them and where each row came from.
    public var markdown: String {
        var tableRows = rows.map(\.table)
        for i in rows.indices where rows[i].isReference { tableRows[i].label = "*\(tableRows[i].label)*" }
        var out = "# pixelgpt report\n\n" + table.markdown(tableRows)
        if !out.hasSuffix("\n\n") { out += "\n" }
        out += (["Percent with one decimal; mean±std (sample std) over seeds where a run trained several heads."]
            + table.sections.map(Self.averageNote)).joined(separator: " ") + "\n"
        if let referenceFile {
            out += "Rows in italics: published numbers from `\(referenceFile)` (their averages as given when given).\n"
        }
        if rows.contains(where: \.selectedOnReportedSplit) {
            out += "\(Self.selectedOnReportedMark) Fine-tuned heads chose their best step on the reported rows themselves (`--select-on reported`, "
                + "as the paper did for GLUE): these numbers are optimistic and not comparable with held-out selection.\n"
        }
        let allOptions = Set(rows.flatMap(\.options))
        if !allOptions.isEmpty {
            out += "Options behind the numbers (from each run's command line): "
                + rows.filter { !$0.isReference }.map { row in
                    "\(row.table.label): " + (row.options.isEmpty ? "defaults" : row.options.map { "`\($0)`" }.joined(separator: " "))
                }.joined(separator: "; ") + ".\n"
        }
        out += "\nSources:\n"
        for row in rows {
            out += "- \(row.table.label): " + row.files.map { "`\($0)`" }.joined(separator: ", ")
            if !row.source.isEmpty { out += " (\(row.source))" }
            out += "\n"
        }
        return out
    }

    /// How a section's Avg is taken, in one sentence.
    static func averageNote(_ section: LeaderboardTable.Section) -> String {
        switch section.average.over {
        case .shown:
            return "\(section.name) Avg: mean over the \(section.name) columns shown, only for rows that have all of them."
        case .all:
            let n = section.columns.count
            let values = section.columns.allSatisfy { $0.metric == .acc } ? "accuracies" : "values"
            return "\(section.name) Avg: mean of the \(n) unrounded \(values), only for rows that have all \(n)."
        }
    }

    /// Marks a row whose numbers were selected on the rows they report.
    public static let selectedOnReportedMark = "†"

    public static let csvLeadingColumns = ["label", "kind", "checkpoint", "weights", "modality", "head", "xnli_setting", "seeds", "options",
                                           "selected_on_reported", "files", "source"]

    /// One line per row: what it is, then every column's value and deviation in percent (LeaderboardTable.csv).
    public var csv: String {
        table.csv(rows.map(\.table), leading: Self.csvLeadingColumns, leadingValues: rows.map { row in
            [row.table.label, row.isReference ? "reference" : "run", row.checkpoint, row.weights, row.modality, row.head, row.xnliSetting,
             row.seeds.map(String.init).joined(separator: " "), row.options.joined(separator: " "), row.selectedOnReportedSplit ? "true" : "",
             row.files.joined(separator: ";"), row.source]
        })
    }

    /// The series of a section's chart: one per row with any of its numbers, in row order.
    public func chartSeries(_ section: LeaderboardTable.Section) -> [BarChart.Series] {
        rows.filter { row in section.columns.contains { row.table.cells[$0.task] != nil } || row.table.givenAverages[section.average.key] != nil }
            .map { row in
                BarChart.Series(label: row.isReference ? row.table.label + " (reference)" : row.table.label,
                                values: section.columns.map { row.table.cells[$0.task]?.mean },
                                deviations: section.columns.map { row.table.cells[$0.task]?.std },
                                average: table.average(row.table, section, shown: table.shownColumns(section, rows.map(\.table))))
            }
    }

    /// Each chart the group files ask for, with its PNG bytes; nil bytes when no row has the section's numbers.
    public func charts() throws(ReportError) -> [(section: LeaderboardTable.Section, chart: TaskGroup.Chart, png: [UInt8]?)] {
        var charts: [(section: LeaderboardTable.Section, chart: TaskGroup.Chart, png: [UInt8]?)] = []
        for section in table.sections {
            guard let chart = section.chart else { continue }
            let series = chartSeries(section)
            charts.append((section, chart, series.isEmpty ? nil
                : try BarChart.png(series: series, columns: section.columns.map(\.header), title: chart.title, chance: section.chance, file: chart.file)))
        }
        return charts
    }

    /// Writes report.md, report.csv and each chart that has rows (xnli.png when a row has XNLI numbers) into
    /// `directory`, each atomically, after everything was computed; returns the paths written and notes for
    /// stderr.
    public func write(to directory: String) throws(ReportError) -> (written: [String], notes: [String]) {
        let charts = try charts()
        var outputs: [(String, [UInt8])] = [(Self.markdownFile, Array(markdown.utf8)), (Self.csvFile, Array(csv.utf8))]
        for chart in charts { if let png = chart.png { outputs.append((chart.chart.file, png)) } }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportError(file: directory, reason: "cannot create the output directory (\(error.localizedDescription)); give another --output-dir")
        }
        var written: [String] = []
        var notes: [String] = []
        for (name, bytes) in outputs {
            let path = (directory as NSString).appendingPathComponent(name)
            do {
                try AtomicFile.write(bytes, to: path)
            } catch {
                throw ReportError(file: path, reason: "cannot write: \(error)")
            }
            written.append(path)
        }
        for chart in charts where chart.png == nil {
            let file = chart.chart.file
            let stale = (directory as NSString).appendingPathComponent(file)
            // An older chart beside this report would show rows it no longer has.
            if FileManager.default.fileExists(atPath: stale) {
                try? FileManager.default.removeItem(atPath: stale)
                notes.append("no row has \(chart.section.name) numbers: \(file) not drawn; removed the older \(stale)")
            } else {
                notes.append("no row has \(chart.section.name) numbers: \(file) not drawn")
            }
        }
        return (written, notes)
    }
}
