import Foundation
import TestSupport
import Testing
@testable import Eval

@Suite struct TaskRegistryTests {
    static let tasksDirectory = PythonReference.repositoryRoot + "/tasks"
    static let xnliLanguages = ["ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"]

    @Test func listsEveryGLUETaskAndAllXNLILanguages() throws {
        let registry = try TaskRegistry(directory: Self.tasksDirectory)
        #expect(Set(registry.groups["glue"] ?? []) == ["ax", "cola", "mnli", "mnli_mismatched", "mrpc", "qnli", "qqp", "rte", "sst2", "stsb", "wnli"])
        #expect(Set(registry.groups["xnli"] ?? []) == Set(Self.xnliLanguages.map { "xnli_\($0)" }))
        #expect(registry.tasks.count == 26)
        let stsb = try #require(registry.tasks.first { $0.task == "stsb" })
        #expect(stsb.outputType == .regression && stsb.numLabels == 1)
        // Pair is the pixels-then-tokens mode, run for every GLUE task including the single-sentence ones
        // (SPEC 8: cola_pair, sst2_pair); XNLI runs all three (SPEC 7.2).
        for task in registry.tasks {
            #expect(task.pixelgpt.modalities == [.text, .pixel, .pair], "\(task.task)")
        }
        #expect(try registry.resolve("rte,glue,xnli_en").count == 12)
        #expect(throws: TaskError.self) { try registry.resolve("nope") }
    }

    @Test func refusesBadTaskFilesNamingTheFileAndKey() throws {
        let dir = try TemporaryDirectory()
        let good = try String(contentsOfFile: Self.tasksDirectory + "/glue/rte.yaml", encoding: .utf8)
        for (text, key) in [
            (good.replacingOccurrences(of: "label_list: [entailment, not_entailment]", with: "label_list: [entailment]"), "label_list"),
            (good.replacingOccurrences(of: "  - metric: acc", with: "  - metric: bleu"), "metric_list"),
            (good.replacingOccurrences(of: "task: rte\n", with: ""), "task"),
            (good.replacingOccurrences(of: "  - metric: acc", with: "  - metric: pearson"), "metric_list"),
            (good + "\n  : : [", "yaml"),
        ] {
            try Self.expectRefusal(text, in: dir) { $0.hasPrefix(key) }
        }
    }

    /// A task name becomes samples_TASK.jsonl under --output-dir: `x/../../victimdir/victim` truncated a file
    /// outside it. Names must be plain file names, refused where the registry loads them.
    @Test func refusesTaskNamesThatAreNotPlainFileNames() throws {
        let dir = try TemporaryDirectory()
        let good = try String(contentsOfFile: Self.tasksDirectory + "/glue/rte.yaml", encoding: .utf8)
        for name in ["x/../../../../victimdir/victim", "a/escaped", #"a\\b"#, "..", ".hidden", "\"\"", #""a\0b""#, #""a\nb""#] {
            try Self.expectRefusal(good.replacingOccurrences(of: "task: rte\n", with: "task: \(name)\n"), in: dir) { $0 == "task" }
        }
    }

    /// A column index the reader would use as an array index (or add one to): -1 and Int.max trapped in
    /// DatasetReader while `pixelgpt tasks` accepted the file.
    @Test func refusesColumnIndicesOutOfRange() throws {
        let dir = try TemporaryDirectory()
        let cola = try String(contentsOfFile: Self.tasksDirectory + "/glue/cola.yaml", encoding: .utf8)
        for (text, key) in [
            (cola.replacingOccurrences(of: "  text_a: 3\n", with: "  text_a: -1\n"), "format.text_a"),
            (cola.replacingOccurrences(of: "  label: 1\n", with: "  label: 9223372036854775807\n"), "format.label"),
            (cola.replacingOccurrences(of: "  test: {header: true, text_a: sentence}", with: "  test: {header: false, text_a: 3, text_b: -5}"), "split_formats.test.text_b"),
        ] {
            #expect(text != cola)
            try Self.expectRefusal(text, in: dir) { $0 == key }
        }
    }

    /// Writes `text` as the directory's task file and expects the registry to refuse it in one line (no
    /// newline, no NUL echoed) naming that file and a key `key` accepts.
    static func expectRefusal(_ text: String, in dir: TemporaryDirectory, key: (String) -> Bool) throws {
        let path = dir.file("bad.yaml")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try TaskRegistry(directory: dir.path) } throws: { error in
            guard let e = error as? TaskError else { return false }
            return e.task == path && key(e.key) && !e.description.contains("\n") && !e.description.contains("\0")
        }
    }
}
