import Foundation

extension EvaluationRun {
    /// A re-used --output-dir must not keep samples_TASK.jsonl of tasks this run does not evaluate: they would
    /// sit beside a results.json that no longer lists them (issue 18, item 4). They are removed, each with a
    /// note on stderr, with or without --resume. Only plain task names are touched (no dot: files that other
    /// tools name samples_TASK.SOMETHING.jsonl are left alone).
    func removeStaleSamples() throws {
        let directory = options.outputDirectory
        let current = Set(options.tasks.map(\.task))
        var removed = false
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        where name.hasPrefix("samples_") && name.hasSuffix(".jsonl") {
            let task = String(name.dropFirst("samples_".count).dropLast(".jsonl".count))
            guard !task.isEmpty, !task.contains("."), !current.contains(task) else { continue }
            let path = (directory as NSString).appendingPathComponent(name)
            try FileManager.default.removeItem(atPath: path)
            provenance.tasks[task] = nil
            removed = true
            log("note: removed \(path): \(task) is not a task of this run")
        }
        if removed { try provenance.write(to: directory) }
    }
}
