import Foundation
import Render
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
            (good + "tag: [glue]\n", "tag"),
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

    /// `include:` as lm-evaluation-harness resolves it: relative to the including file, top-level keys
    /// merged shallowly, the including file's winning, and an earlier-listed include over a later one.
    @Test func includesMergeTopLevelKeysWithTheIncludingFileWinning() throws {
        let registry = try TaskRegistry(directory: Self.tasksDirectory)
        let english = try #require(registry.tasks.first { $0.task == "xnli_en" })
        #expect(english.language == "en" && english.dataFiles[.validation] == "xnli/dev-en.tsv")
        #expect(english.labelList == ["entailment", "neutral", "contradiction"] && english.pixelgpt.sequenceLength[.pixel] == 256)
        #expect(english.datasetKind == "xnli_tsv" && english.pixelgpt.renderedGeometry == .bicubic)
        #expect(english.sharedHead == TaskDefinition.SharedHead(group: "xnli", sourceTask: "xnli_en"))
        #expect(registry.tasks.first { $0.task == "rte" }?.sharedHead == nil)

        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("bases"), withIntermediateDirectories: true)
        let rte = try String(contentsOfFile: Self.tasksDirectory + "/glue/rte.yaml", encoding: .utf8)
        // The base is a whole task; the second base and the including file override some of its keys.
        try rte.write(toFile: dir.file("bases/rte_base"), atomically: true, encoding: .utf8)
        try "label_list: [no, yes]\nmetadata: {version: 7}\n".write(toFile: dir.file("bases/second"), atomically: true, encoding: .utf8)
        try "include: [second, rte_base]\n".write(toFile: dir.file("bases/both"), atomically: true, encoding: .utf8)
        try "include: bases/both\ntask: mine\npixelgpt: {reported_split: test, selection_metric: acc, modalities: [text], sequence_length: {text: 8}}\n"
            .write(toFile: dir.file("mine.yaml"), atomically: true, encoding: .utf8)
        let mine = try #require(try TaskRegistry(directory: dir.path).tasks.first)
        #expect(mine.task == "mine" && mine.labelList == ["no", "yes"] && mine.metadata.version == 7)
        #expect(mine.dataFiles[.validation] == "glue/RTE/dev.tsv")
        // Shallow: the pixelgpt block replaced whole, nothing of the base's kept (no head, one modality).
        #expect(mine.pixelgpt.modalities == [.text] && mine.pixelgpt.head == nil && mine.pixelgpt.reportedSplit == .test)

        // mine.yaml -> bases/both -> bases/rte_base -> mine.yaml
        try "include: ../mine.yaml\n".write(toFile: dir.file("bases/rte_base"), atomically: true, encoding: .utf8)
        #expect { try TaskRegistry(directory: dir.path) } throws: { error in
            guard let e = error as? TaskError else { return false }
            return e.key == "include" && e.reason.contains("cycle") && !e.description.contains("\n")
        }
        try "include: nowhere\ntask: mine\n".write(toFile: dir.file("mine.yaml"), atomically: true, encoding: .utf8)
        #expect { try TaskRegistry(directory: dir.path) } throws: { error in
            guard let e = error as? TaskError else { return false }
            return e.task == dir.file("nowhere") && e.key == "file"
        }
    }

    /// Pre-rendered strips get the transform of the original's script for the task (SPEC 5.6): the XNLI
    /// scripts resize, the GLUE scripts crop, image-text scripts neither convert nor resize.
    @Test func renderedStripsGetTheirScriptsTransform() throws {
        let registry = try TaskRegistry(directory: Self.tasksDirectory)
        for task in registry.tasks {
            let xnli = Self.xnliLanguages.map { "xnli_\($0)" }.contains(task.task)
            for modality in [TaskDefinition.Modality.pixel, .pair] {
                #expect(EvaluationRun.renderedTransform(task, modality: modality) == ImageTransform.forScript(xnli: xnli, pair: modality == .pair), "\(task.task)")
            }
        }
    }

    /// `dataset_kind` chooses the row reader; a kind without one is refused where the registry loads it.
    @Test func refusesAnUnknownDatasetKind() throws {
        let dir = try TemporaryDirectory()
        let rte = try String(contentsOfFile: Self.tasksDirectory + "/glue/rte.yaml", encoding: .utf8)
        try Self.expectRefusal(rte.replacingOccurrences(of: "dataset_kind: glue_tsv", with: "dataset_kind: parquet"), in: dir) { $0 == "dataset_kind" }
        try Self.expectRefusal(rte.replacingOccurrences(of: "dataset_kind: glue_tsv", with: "dataset_kind: \"a\\0b\""), in: dir) { $0 == "dataset_kind" }
    }

    /// Group files: members that exist, columns of members with a metric they report, names that collide.
    @Test func refusesBadGroupFilesNamingTheFileAndKey() throws {
        let glue = try String(contentsOfFile: Self.tasksDirectory + "/glue/glue.yaml", encoding: .utf8)
        for (text, key) in [
            (glue.replacingOccurrences(of: "task: [ax, cola,", with: "task: [ax, nope, cola,"), "task[1]"),
            (glue.replacingOccurrences(of: "task: [ax, cola,", with: "task: [ax, ax, cola,"), "task[1]"),
            (glue.replacingOccurrences(of: "task: qqp, header: QQP, metric: f1", with: "task: qqp, header: QQP, metric: mcc"), "pixelgpt.table.columns[2].metric"),
            (glue.replacingOccurrences(of: "task: [ax, cola, mnli,", with: "task: [ax, cola,"), "pixelgpt.table.columns[0].task"),
            (glue.replacingOccurrences(of: "header: QNLI,", with: "header: \"Q|NLI\","), "pixelgpt.table.columns[3].header"),
            (glue.replacingOccurrences(of: "{key: glue_avg, over: shown}", with: "{key: rte, over: shown}"), "pixelgpt.table.average.key"),
            (glue.replacingOccurrences(of: "{key: glue_avg, over: shown}", with: "{key: glue_avg, over: some}"), "pixelgpt.table.average.over"),
            (glue.replacingOccurrences(of: "group: glue", with: "group: ax"), "group"),
            (glue.replacingOccurrences(of: "group: glue", with: "group: a/b"), "group"),
            (glue + "  shared_head: {source_task: xnli_en}\n", "pixelgpt.shared_head.source_task"),
        ] {
            #expect(text != glue)
            let dir = try TemporaryDirectory()
            try FileManager.default.copyItem(atPath: Self.tasksDirectory + "/glue", toPath: dir.file("glue"))
            let path = dir.file("glue/glue.yaml")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect { try TaskRegistry(directory: dir.path) } throws: { error in
                guard let e = error as? TaskError else { return false }
                return e.task == path && e.key == key && !e.description.contains("\n")
            }
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
