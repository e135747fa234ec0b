import ArgumentParser
import Eval
import Foundation

struct Tasks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the evaluation tasks and groups read from tasks/ (one YAML file per task or group)."
    )

    @Option(help: "The tasks directory (default: the project's tasks/, or $PIXELGPT_TASKS).")
    var tasksDir: String?

    @Option(help: "Show which splits of each task this data directory holds (data files, unlabeled copies, pre-rendered files).")
    var dataDir: String?

    @Flag(help: "Print the registry as JSON (schema pixelgpt.tasks, version 1; with --data-dir, `data_directory` and per task `data` and `rendered`).")
    var json = false

    struct Listing: Encodable {
        let schema = "pixelgpt.tasks"
        let version = 1
        let directory: String
        let dataDirectory: String?
        let groups: [String: [String]]
        let tasks: [Entry]

        enum CodingKeys: String, CodingKey {
            case schema, version, directory, groups, tasks
            case dataDirectory = "data_directory"
        }
    }

    struct Entry: Encodable {
        let task: String
        /// The groups the task is a member of.
        let tags: [String]
        let language: String?
        let outputType: String
        let labels: [String]?
        let metrics: [String]
        let selectionMetric: String
        let reportedSplit: String
        let modalities: [String]
        let sequenceLength: [String: Int]
        let splits: [String]
        let version: Int
        /// With --data-dir: per split the task defines, "present", "unlabeled" (only the unlabeled copy) or "missing".
        var data: [String: String]?
        /// With --data-dir: per split with a pre-rendered file, "present" or "missing".
        var rendered: [String: String]?

        enum CodingKeys: String, CodingKey {
            case task, tags, language, labels, metrics, modalities, splits, version, data, rendered
            case outputType = "output_type", selectionMetric = "selection_metric", reportedSplit = "reported_split"
            case sequenceLength = "sequence_length"
        }
    }

    func run() throws {
        let registry = try reportingErrors { try TaskRegistry(directory: tasksDir ?? TaskRegistry.defaultDirectory()) }
        if let dataDir {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dataDir, isDirectory: &isDirectory), isDirectory.boolValue else {
                log("error: --data-dir \(dataDir): no such directory")
                throw ExitCode.failure
            }
        }
        let entries = registry.tasks.map { t in
            var entry = Entry(task: t.task, tags: registry.taskGroups.filter { $0.task.contains(t.task) }.map(\.group), language: t.language, outputType: t.outputType.rawValue, labels: t.labelList,
                  metrics: t.metricList.map(\.metric.rawValue), selectionMetric: t.pixelgpt.selectionMetric.rawValue,
                  reportedSplit: t.pixelgpt.reportedSplit.rawValue, modalities: t.pixelgpt.modalities.map(\.rawValue),
                  sequenceLength: Dictionary(uniqueKeysWithValues: t.pixelgpt.sequenceLength.map { ($0.key.rawValue, $0.value) }),
                  splits: TaskDefinition.Split.allCases.filter { t.dataFiles[$0] != nil }.map(\.rawValue), version: t.metadata.version)
            if let dataDir { (entry.data, entry.rendered) = presence(t, in: dataDir) }
            return entry
        }
        if json {
            try printJSON(Listing(directory: registry.directory, dataDirectory: dataDir, groups: registry.groups, tasks: entries))
            return
        }
        if let dataDir {
            printPresence(entries, dataDirectory: dataDir)
            return
        }
        // Group names are the group files' own: the column widens for long ones.
        let groupWidth = max(7, (registry.taskGroups.map(\.group.count).max() ?? 0) + 1)
        print("task              " + "group".padding(toLength: groupWidth, withPad: " ", startingAt: 0) + "labels  metrics           modalities        seq (text/pixel/pair)  reported")
        for e in entries {
            let labels = e.labels.map { String($0.count) } ?? "score"
            print(e.task.padding(toLength: 18, withPad: " ", startingAt: 0) + (e.tags.first ?? "").padding(toLength: groupWidth, withPad: " ", startingAt: 0)
                  + labels.padding(toLength: 8, withPad: " ", startingAt: 0) + e.metrics.joined(separator: ",").padding(toLength: 18, withPad: " ", startingAt: 0)
                  + e.modalities.joined(separator: ",").padding(toLength: 18, withPad: " ", startingAt: 0)
                  + sequenceLengths(e).padding(toLength: 23, withPad: " ", startingAt: 0) + e.reportedSplit)
        }
        print("\(entries.count) tasks; groups: " + registry.groups.keys.sorted().map { "\($0) (\(registry.groups[$0]!.count))" }.joined(separator: ", "))
    }

    /// "768/768/512": the sequence length of each modality, "-" where the task has none.
    func sequenceLengths(_ e: Entry) -> String {
        ["text", "pixel", "pair"].map { e.sequenceLength[$0].map(String.init) ?? "-" }.joined(separator: "/")
    }

    /// Which of `task`'s files `dataDirectory` holds, by split name: the data files (or, failing one, the
    /// unlabeled copy, which predicts but cannot score) and the pre-rendered files `--rendered` reads.
    func presence(_ task: TaskDefinition, in dataDirectory: String) -> (data: [String: String], rendered: [String: String]) {
        func exists(_ relative: String?) -> Bool {
            relative.map { FileManager.default.fileExists(atPath: (dataDirectory as NSString).appendingPathComponent($0)) } ?? false
        }
        var data: [String: String] = [:], rendered: [String: String] = [:]
        for split in TaskDefinition.Split.allCases {
            if task.dataFiles[split] != nil || task.unlabeledFiles?[split] != nil {
                data[split.rawValue] = exists(task.dataFiles[split]) ? "present" : exists(task.unlabeledFiles?[split]) ? "unlabeled" : "missing"
            }
            if let file = task.renderedFiles?[split] { rendered[split.rawValue] = exists(file) ? "present" : "missing" }
        }
        return (data, rendered)
    }

    /// One row per task: each split's state ("-" where the task has no such split), then the pre-rendered splits present.
    func printPresence(_ entries: [Entry], dataDirectory: String) {
        let splits = TaskDefinition.Split.allCases.map(\.rawValue)
        print("data directory: \(dataDirectory)")
        print("task              " + splits.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined() + "rendered")
        for e in entries {
            let states = splits.map { (e.data?[$0] ?? "-").padding(toLength: 12, withPad: " ", startingAt: 0) }.joined()
            let rendered = e.rendered ?? [:]
            let present = splits.filter { rendered[$0] == "present" }
            print(e.task.padding(toLength: 18, withPad: " ", startingAt: 0) + states
                  + (rendered.isEmpty ? "-" : present.isEmpty ? "none" : present.joined(separator: ",")))
        }
        let complete = entries.filter { ($0.data ?? [:]).values.allSatisfy { $0 == "present" } }.count
        print("\(entries.count) tasks; \(complete) with every split's data file present")
    }
}
