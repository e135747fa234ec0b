import Foundation
import Support
import Yams

/// One YAML file of tasks/ as a mapping, its `include:` resolved as lm-evaluation-harness resolves it
/// (lm_eval/utils.py, load_yaml_config): `include` names a file or a list of files, relative to the
/// including file's folder; their top-level keys are merged, an earlier-listed file winning over a later
/// one, and the including file's own keys win over all of them. The merge is shallow: a block such as
/// `pixelgpt:` given in the including file replaces the included one whole. Included files may include
/// others; a cycle is refused. (lm-eval also tries the path relative to the current directory first; here
/// a task directory means the same wherever the tool runs.)
enum TaskFile {
    static func load(_ path: String) throws(TaskError) -> Node.Mapping {
        try load(path, chain: [])
    }

    private static func load(_ path: String, chain: [String]) throws(TaskError) -> Node.Mapping {
        func fail(_ key: String, _ reason: String) -> TaskError { TaskError(task: path, key: key, reason: reason) }
        do { try RegularFile.require(path) } catch { throw fail("file", error.reason) }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw fail("file", "unreadable or not UTF-8")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw fail("yaml", TaskRegistry.oneLine("\(error)")) }
        guard let root else { throw fail("yaml", "empty file") }
        guard var mapping = root.mapping else { throw fail("yaml", "not a mapping of keys to values") }
        guard let include = mapping["include"] else { return mapping }
        mapping["include"] = nil

        let names: [String]
        if let name = include.string {
            names = [name]
        } else if let list = include.sequence, case let strings = list.compactMap(\.string), strings.count == list.count, !strings.isEmpty {
            names = strings
        } else {
            throw fail("include", "give a file name or a list of file names")
        }
        let folder = (path as NSString).deletingLastPathComponent
        var merged = Node.Mapping([])
        for name in names.reversed() {
            let included = name.hasPrefix("/") ? name : (folder as NSString).appendingPathComponent(name)
            let standardized = (included as NSString).standardizingPath
            if chain.contains(standardized) || standardized == (path as NSString).standardizingPath {
                throw fail("include", "\(name) includes this file again (a cycle)")
            }
            for (key, value) in try load(included, chain: chain + [(path as NSString).standardizingPath]) { merged[key] = value }
        }
        for (key, value) in mapping { merged[key] = value }
        return merged
    }
}
