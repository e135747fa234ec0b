import Foundation
import Support
import Render
import SafeTensors
import Yams

/// The tasks under tasks/ (one YAML file each, in any subfolder), read at run time: adding a task is
/// adding a file. Tags (glue, xnli) name groups.
public struct TaskRegistry: Sendable {
    public static let environmentVariable = "PIXELGPT_TASKS"

    public let directory: String
    /// Tasks sorted by name.
    public let tasks: [TaskDefinition]
    /// The file each task came from.
    public let files: [String: String]

    public init(directory: String) throws {
        self.directory = directory
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw TaskError(task: directory, key: "tasks", reason: "not a readable directory")
        }
        var tasks: [TaskDefinition] = []
        var files: [String: String] = [:]
        for case let relative as String in enumerator where relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") {
            let path = (directory as NSString).appendingPathComponent(relative)
            do { try RegularFile.require(path) } catch { throw TaskError(task: path, key: "file", reason: error.reason) }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw TaskError(task: path, key: "file", reason: "unreadable or not UTF-8")
            }
            let task: TaskDefinition
            do {
                task = try YAMLDecoder().decode(TaskDefinition.self, from: text)
            } catch let error as DecodingError {
                let key = Self.key(of: error)
                throw TaskError(task: path, key: key.isEmpty ? "yaml" : key, reason: Self.oneLine(Self.reason(of: error)))
            } catch {
                throw TaskError(task: path, key: "yaml", reason: Self.oneLine("\(error)"))
            }
            do {
                try task.validate()
            } catch {
                throw TaskError(task: path, key: error.key, reason: error.reason)
            }
            if let other = files[task.task] { throw TaskError(task: path, key: "task", reason: "\"\(task.task)\" is also defined in \(other)") }
            files[task.task] = path
            tasks.append(task)
        }
        guard !tasks.isEmpty else { throw TaskError(task: directory, key: "tasks", reason: "no task files (*.yaml) found") }
        self.tasks = tasks.sorted { $0.task < $1.task }
        self.files = files
    }

    /// The project's tasks/ (see `ProjectResource`), or $PIXELGPT_TASKS.
    public static func defaultDirectory() throws -> String {
        guard let directory = ProjectResource.locate("tasks", containing: "glue/cola.yaml", environmentVariable: environmentVariable) else {
            throw TaskError(task: "tasks", key: "directory", reason: "the project's tasks/ was not found; give --tasks-dir or set \(environmentVariable)")
        }
        return directory
    }

    public var groups: [String: [String]] {
        var groups: [String: [String]] = [:]
        for task in tasks { for tag in task.tag { groups[tag, default: []].append(task.task) } }
        return groups
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
