import ArgumentParser
import Eval
import Foundation

struct Tasks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the evaluation tasks and groups read from tasks/ (one YAML file per task or group)."
    )

    @Option(help: "The tasks directory (default: the project's tasks/, or $PIXELGPT_TASKS).")
    var tasksDir: String?

    @Flag(help: "Print the registry as JSON (schema pixelgpt.tasks, version 1).")
    var json = false

    struct Listing: Encodable {
        let schema = "pixelgpt.tasks"
        let version = 1
        let directory: String
        let groups: [String: [String]]
        let tasks: [Entry]
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

        enum CodingKeys: String, CodingKey {
            case task, tags, language, labels, metrics, modalities, splits, version
            case outputType = "output_type", selectionMetric = "selection_metric", reportedSplit = "reported_split"
            case sequenceLength = "sequence_length"
        }
    }

    func run() throws {
        let registry = try reportingErrors { try TaskRegistry(directory: tasksDir ?? TaskRegistry.defaultDirectory()) }
        let entries = registry.tasks.map { t in
            Entry(task: t.task, tags: registry.taskGroups.filter { $0.task.contains(t.task) }.map(\.group), language: t.language, outputType: t.outputType.rawValue, labels: t.labelList,
                  metrics: t.metricList.map(\.metric.rawValue), selectionMetric: t.pixelgpt.selectionMetric.rawValue,
                  reportedSplit: t.pixelgpt.reportedSplit.rawValue, modalities: t.pixelgpt.modalities.map(\.rawValue),
                  sequenceLength: Dictionary(uniqueKeysWithValues: t.pixelgpt.sequenceLength.map { ($0.key.rawValue, $0.value) }),
                  splits: TaskDefinition.Split.allCases.filter { t.dataFiles[$0] != nil }.map(\.rawValue), version: t.metadata.version)
        }
        if json {
            try printJSON(Listing(directory: registry.directory, groups: registry.groups, tasks: entries))
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
}
