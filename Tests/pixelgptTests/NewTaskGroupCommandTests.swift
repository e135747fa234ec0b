import Foundation
import TestSupport
import Testing

/// Tasks are data: a new group of two new tasks, written as YAML beside a copy of the project's tasks with a
/// tiny TSV each, is listed, evaluated, and laid out in table.md and the report (its own table, average,
/// CSV columns and chart) by the built tool, with no code for it anywhere.
@Suite struct NewTaskGroupCommandTests {
    /// What the two tasks share, included by each (lm-evaluation-harness's `include:`).
    static let base = """
        output_type: classification
        dataset_kind: tsv
        format: {header: true, text_a: sentence, label: label}
        label_list: [negative, positive]
        metric_list:
          - metric: acc
        metadata: {version: 1}
        pixelgpt:
          reported_split: validation
          selection_metric: acc
          modalities: [pixel]
          sequence_length: {pixel: 16}

        """

    static func task(_ name: String) -> String {
        "include: _polarity_yaml\ntask: \(name)\ndata_files:\n  train: polarity/\(name)-train.tsv\n  validation: polarity/\(name)-dev.tsv\n"
    }

    /// Columns in another order than the members', with an average over both and a chart.
    static let group = """
        group: polarity
        group_alias: Polarity
        task: [polarity_one, polarity_two]
        pixelgpt:
          table:
            columns:
              - {task: polarity_two, header: Two, metric: acc}
              - {task: polarity_one, header: One, metric: acc}
            average: {key: polarity_avg, over: all}
            chart: {file: polarity.png, title: "Polarity accuracy (%)"}

        """

    /// Rows labelled by their word; the first `flipped` get the other label, so that the two tasks score
    /// differently and the columns' order shows.
    static func rows(_ count: Int, offset: Int, flipped: Int = 0) -> String {
        let words = ["good", "fine", "great", "bad", "poor", "awful", "nice", "sad"]
        return "sentence\tlabel\n" + (0 ..< count).map { i in
            let word = words[(i + offset) % words.count]
            let negative = ["bad", "poor", "awful", "sad"].contains(word) != (i < flipped)
            return "\(word) day \(i)\t\(negative ? "negative" : "positive")"
        }.joined(separator: "\n") + "\n"
    }

    @Test func aNewGroupIsListedEvaluatedAndReportedFromYAMLAlone() throws {
        let dir = try TemporaryDirectory()
        let tasks = dir.file("tasks"), data = dir.file("data")
        try FileManager.default.copyItem(atPath: PythonReference.repositoryRoot + "/tasks", toPath: tasks)
        try FileManager.default.createDirectory(atPath: tasks + "/polarity", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: data + "/polarity", withIntermediateDirectories: true)
        try Self.base.write(toFile: tasks + "/polarity/_polarity_yaml", atomically: true, encoding: .utf8)
        try Self.group.write(toFile: tasks + "/polarity/polarity.yaml", atomically: true, encoding: .utf8)
        for (i, name) in ["polarity_one", "polarity_two"].enumerated() {
            try Self.task(name).write(toFile: tasks + "/polarity/\(name).yaml", atomically: true, encoding: .utf8)
            try Self.rows(16, offset: i).write(toFile: data + "/polarity/\(name)-train.tsv", atomically: true, encoding: .utf8)
            try Self.rows(8, offset: 3 + i, flipped: 3 * i).write(toFile: data + "/polarity/\(name)-dev.tsv", atomically: true, encoding: .utf8)
        }

        let listed = try CommandLineTests.run(["tasks", "--tasks-dir", tasks])
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("polarity_one      polarity ") } && lines.contains { $0.hasPrefix("polarity_two      polarity ") })
        #expect(lines.last == "28 tasks; groups: glue (11), polarity (2), xnli (15)")

        let model = dir.file("model")
        let created = try CommandLineTests.run(["init", "--preset", "tiny", "--seed", "5", model])
        #expect(created.status == 0, "\(created.stderr)")
        let output = dir.file("run")
        let evaluated = try CommandLineTests.run(["eval", "--model", model, "--tasks", "polarity", "--modality", "pixel", "--data-dir", data,
                                                  "--tasks-dir", tasks, "--output-dir", output])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/results.json"))) as? [String: Any])
        let taskResults = try #require(results["tasks"] as? [[String: Any]])
        #expect(taskResults.map { $0["task"] as? String } == ["polarity_one", "polarity_two"])
        let accuracy = try taskResults.map { try #require(($0["metrics"] as? [String: Double])?["acc"]) }
        #expect(taskResults.allSatisfy { $0["rows"] as? Int == 8 } && accuracy[0] != accuracy[1])
        func percent(_ value: Double) -> String { String(format: "%.1f", value * 100) }
        let row = "| model (pixel, probe head) | \(percent(accuracy[1])) | \(percent(accuracy[0])) | \(percent((accuracy[1] + accuracy[0]) / 2)) |"
        let table = try String(contentsOfFile: output + "/table.md", encoding: .utf8)
        #expect(table == "| model | Two | One | Avg |\n|---|---|---|---|\n" + row + "\n\n")
        #expect(evaluated.stdout == table)

        let reported = try CommandLineTests.run(["report", output, "--tasks-dir", tasks, "--output-dir", dir.file("report")])
        #expect(reported.status == 0, "\(reported.stderr)")
        let markdown = try String(contentsOfFile: dir.file("report/report.md"), encoding: .utf8)
        // One head kind among the rows: the report's label leaves it out.
        #expect(markdown.contains("| model | Two | One | Avg |\n|---|---|---|---|\n" + row.replacingOccurrences(of: "(pixel, probe head)", with: "(pixel)") + "\n"))
        #expect(markdown.contains("Polarity Avg: mean of the 2 unrounded accuracies, only for rows that have all 2."))
        let csv = try String(contentsOfFile: dir.file("report/report.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv[0].hasSuffix(",polarity_two_acc,polarity_two_acc_std,polarity_one_acc,polarity_one_acc_std,polarity_avg,"
                                 + ProjectXNLIColumns.csvHeader))
        let png = try Data(contentsOf: URL(fileURLWithPath: dir.file("report/polarity.png")))
        #expect(png.starts(with: [137, 80, 78, 71, 13, 10, 26, 10]))
        // No row has XNLI numbers: its chart is not drawn.
        #expect(!FileManager.default.fileExists(atPath: dir.file("report/xnli.png")))
        #expect(reported.stderr.contains("xnli.png not drawn"))
    }
}

/// The XNLI columns of report.csv, in cmp_result_xnli.py's order (SPEC 7.3).
enum ProjectXNLIColumns {
    static let csvHeader = ["en", "ar", "bg", "de", "el", "fr", "hi", "ru", "es", "sw", "th", "tr", "ur", "vi", "zh"]
        .map { "xnli_\($0)_acc,xnli_\($0)_acc_std" }.joined(separator: ",") + ",xnli_avg"
}
