import Foundation
import Support
import Render
import SafeTensors
import Yams

/// The tasks under tasks/ (one YAML file each, in any subfolder), read at run time: adding a task is
/// adding a file. Group files (a `group:` key, lm-evaluation-harness's) name groups of tasks and say how
/// reports lay them out (`TaskGroup`). Files not ending in .yaml or .yml are only read when included
/// (`TaskFile`).
public struct TaskRegistry: Sendable {
    public static let environmentVariable = "PIXELGPT_TASKS"

    public let directory: String
    /// Tasks sorted by name.
    public let tasks: [TaskDefinition]
    /// Groups sorted by name.
    public let taskGroups: [TaskGroup]
    /// The file each task and group came from, by name.
    public let files: [String: String]

    public init(directory: String) throws {
        self.directory = directory
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw TaskError(task: directory, key: "tasks", reason: "not a readable directory")
        }
        var tasks: [TaskDefinition] = []
        var groups: [TaskGroup] = []
        var files: [String: String] = [:]
        let paths = enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
        for path in paths {
            let mapping = try TaskFile.load(path)
            let isGroup = mapping["group"] != nil
            // lm-evaluation-harness's tags would be silently ignored here: groups are files of their own.
            if !isGroup, mapping["tag"] != nil {
                throw TaskError(task: path, key: "tag", reason: "tags are not read; list the task in a group file's `task:` (docs/tasks.md)")
            }
            let name: String
            do {
                if isGroup {
                    let group = try YAMLDecoder().decode(TaskGroup.self, from: Node.mapping(mapping))
                    groups.append(group)
                    name = group.group
                } else {
                    let task = try YAMLDecoder().decode(TaskDefinition.self, from: Node.mapping(mapping))
                    do { try task.validate() } catch { throw TaskError(task: path, key: error.key, reason: error.reason) }
                    tasks.append(task)
                    name = task.task
                }
            } catch let error as DecodingError {
                let key = Self.key(of: error)
                throw TaskError(task: path, key: key.isEmpty ? "yaml" : key, reason: Self.oneLine(Self.reason(of: error)))
            } catch let error as TaskError {
                throw error
            } catch {
                throw TaskError(task: path, key: "yaml", reason: Self.oneLine("\(error)"))
            }
            // Task and group names share one namespace: `--tasks` takes either.
            if let other = files[name] {
                throw TaskError(task: path, key: isGroup ? "group" : "task", reason: "\"\(name)\" is also defined in \(other)")
            }
            files[name] = path
        }
        guard !tasks.isEmpty else { throw TaskError(task: directory, key: "tasks", reason: "no task files (*.yaml) found") }
        tasks.sort { $0.task < $1.task }
        groups.sort { $0.group < $1.group }
        try Self.check(groups, tasks: tasks, files: files)
        // Members of a shared-head group learn which, so that heads are grouped without a registry at hand.
        for group in groups {
            guard let shared = group.sharedHead else { continue }
            for i in tasks.indices where group.task.contains(tasks[i].task) {
                if let other = tasks[i].sharedHead {
                    throw TaskError(task: files[group.group]!, key: "pixelgpt.shared_head",
                                    reason: "\(tasks[i].task) shares a head in group \(other.group) already; a task shares one head at most")
                }
                tasks[i].sharedHead = .init(group: group.group, sourceTask: shared.sourceTask)
            }
        }
        self.tasks = tasks
        self.taskGroups = groups
        self.files = files
    }

    /// What one group file cannot check alone: its members exist and report the metric of their column, and
    /// the report's columns, average keys and chart files do not collide across groups.
    static func check(_ groups: [TaskGroup], tasks: [TaskDefinition], files: [String: String]) throws(TaskError) {
        let byName = Dictionary(uniqueKeysWithValues: tasks.map { ($0.task, $0) })
        var columnOwner: [String: String] = [:], averageOwner: [String: String] = [:], chartOwner: [String: String] = [:]
        for group in groups {
            let file = files[group.group]!
            do { try group.validate(tasks: Set(byName.keys)) } catch { throw TaskError(task: file, key: error.key, reason: error.reason) }
            guard let table = group.table else { continue }
            for (i, column) in table.columns.enumerated() {
                let key = "pixelgpt.table.columns[\(i)]"
                guard byName[column.task]!.metricList.contains(where: { $0.metric == column.metric }) else {
                    throw TaskError(task: file, key: key + ".metric", reason: "\(column.task) does not report \(column.metric.rawValue) (see its metric_list)")
                }
                if let other = columnOwner.updateValue(group.group, forKey: column.task) {
                    throw TaskError(task: file, key: key + ".task", reason: "\(column.task) has a column in group \(other) already")
                }
            }
            let average = table.average.key
            if byName[average] != nil || averageOwner[average] != nil {
                throw TaskError(task: file, key: "pixelgpt.table.average.key", reason: "\"\(average)\" is also the name of a task or another average")
            }
            averageOwner[average] = group.group
            if let chart = table.chart?.file, let other = chartOwner.updateValue(group.group, forKey: chart) {
                throw TaskError(task: file, key: "pixelgpt.table.chart.file", reason: "\(chart) is the chart of group \(other) already")
            }
        }
    }

    /// The project's tasks/ (see `ProjectResource`), or $PIXELGPT_TASKS.
    public static func defaultDirectory() throws -> String {
        guard let directory = ProjectResource.locate("tasks", containing: "glue/cola.yaml", environmentVariable: environmentVariable) else {
            throw TaskError(task: "tasks", key: "directory", reason: "the project's tasks/ was not found; give --tasks-dir or set \(environmentVariable)")
        }
        return directory
    }

    /// Group names and the tasks each expands to, in registry order.
    public var groups: [String: [String]] {
        Dictionary(uniqueKeysWithValues: taskGroups.map { group in (group.group, tasks.map(\.task).filter(group.task.contains)) })
    }

    /// Task names and group names, comma-separated ("glue,xnli_en"), expanded in registry order, each once.
    public func resolve(_ list: String) throws -> [TaskDefinition] {
        var result: [TaskDefinition] = []
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            let members: [String]
            if let group = groups[name] {
                members = group
            } else if tasks.contains(where: { $0.task == name }) {
                members = [name]
            } else {
                throw TaskError(task: name, key: "tasks", reason: "no such task or group (see `pixelgpt tasks`)")
            }
            for member in members where !result.contains(where: { $0.task == member }) {
                result.append(tasks.first { $0.task == member }!)
            }
        }
        return result
    }

    static func key(of error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context): (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            context.codingPath.map(\.stringValue).joined(separator: ".")
        @unknown default: "?"
        }
    }

    static func reason(of error: DecodingError) -> String {
        switch error {
        case .keyNotFound: "missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            context.underlyingError.map { "\(context.debugDescription) \($0)" } ?? context.debugDescription
        @unknown default: "\(error)"
        }
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
