import Foundation
import TestSupport
import Testing

/// `pixelgpt report RUN_DIR... --html DIR` over a `make run`-style evaluation of samples/ (a tiny random
/// checkpoint, pixel and pair modality, a few rows), checked in headless Chromium by
/// scripts/check_html_report.py, plus the command's refusals.
@Suite struct HTMLReportCommandTests {
    /// Debian's chromium and chromium-driver with selenium and Pillow (scripts/setup.sh installs them).
    static var hasBrowser: Bool {
        PythonReference.isRequired
            || (FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
                && PythonReference.isAvailable("selenium, PIL"))
    }

    /// Two evaluation runs (pixel, pair) of one tiny checkpoint, written once for the suite (immutable once
    /// made; the directory is removed when the test process exits, as a static is never released).
    final class Runs: @unchecked Sendable {
        nonisolated(unsafe) static var madePath: String?
        let directory: TemporaryDirectory
        let pixel: String, pair: String
        let failure: String?

        init() {
            let directory = try! TemporaryDirectory()
            self.directory = directory
            Self.madePath = directory.path
            atexit { if let path = Runs.madePath { try? FileManager.default.removeItem(atPath: path) } }
            pixel = directory.file("eval-pixel")
            pair = directory.file("eval-pair")
            var failure: String?
            do {
                let model = directory.file("model")
                let made = try BuiltTool.run(["init", "--preset", "tiny", model])
                if made.status != 0 { failure = "init: " + made.stderr }
                for (modality, output) in [("pixel", pixel), ("pair", pair)] where failure == nil {
                    let run = try BuiltTool.run(["eval", "--model", model, "--tasks", "rte,stsb,xnli_en,xnli_th", "--modality", modality,
                                                 "--data-dir", "samples", "--output-dir", output, "--limit", "12", "--train-limit", "24",
                                                 "--tokenizer", TestData.llamaTokenizer, "--renderer", TestData.repositoryRoot + "/renderers/noto"],
                                                currentDirectory: TestData.repositoryRoot)
                    if run.status != 0 { failure = "eval \(modality): " + run.stderr }
                }
            } catch {
                failure = "\(error)"
            }
            self.failure = failure
        }
    }

    static let runs = Runs()

    /// The suite's runs, or the test fails saying why they could not be made.
    static func madeRuns() throws -> Runs {
        try #require(runs.failure == nil, "\(runs.failure ?? "")")
        return runs
    }

    static func report(_ arguments: [String]) throws -> ProcessResult {
        try BuiltTool.run(["report"] + arguments, currentDirectory: TestData.repositoryRoot)
    }

    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)"),
          .enabled(if: hasBrowser, "needs chromium, chromium-driver, selenium and Pillow (scripts/setup.sh)"))
    func pageShowsTheRunsNumbersFiltersAndStripsInABrowser() throws {
        let runs = try Self.madeRuns()
        let html = runs.directory.file("html")
        let result = try Self.report([runs.pixel, runs.pair, "--output-dir", runs.directory.file("report"), "--html", html])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("html report: " + html + "/index.html"))
        let page = try String(contentsOfFile: html + "/index.html", encoding: .utf8)
        // Nothing from the network: no absolute URL is loaded.
        #expect(!page.contains("http://") || page.components(separatedBy: "http://").dropFirst().allSatisfy { $0.hasPrefix("www.w3.org/2000/svg") })
        #expect(!page.contains("https://"))
        #expect(page.contains("<svg class=\"chart\"") && page.contains("class=\"chance\""))
        #expect(page.contains("<svg class=\"scatter\""))
        #expect(page.contains("<table class=\"confusion\""))

        var arguments = [PythonReference.repositoryRoot + "/scripts/check_html_report.py", "--html", html, "--pixelgpt", BuiltTool.pixelgpt.path]
        // Screenshots for docs/report.md only when asked, so that tests never rewrite the docs.
        if ProcessInfo.processInfo.environment["PIXELGPT_UPDATE_SCREENSHOTS"] == "1" {
            arguments += ["--screenshots", PythonReference.repositoryRoot + "/docs"]
        }
        let checked = String(decoding: try PythonReference.run(arguments + [runs.pixel, runs.pair]), as: UTF8.self)
        #expect(checked.contains("check_html_report: ok"), "\(checked)")
        #expect(checked.contains(" 4 language filters"), "two runs, each with a browser over en and th: \(checked)")
    }

    /// A strip from another renderer would not be what the model saw: the page says so and shows none.
    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)"))
    func anotherRendererThanTheRecordedOneShowsNoStrips() throws {
        let runs = try Self.madeRuns()
        let dir = try TemporaryDirectory()
        let copy = dir.file("eval-pixel")
        try FileManager.default.copyItem(atPath: runs.pixel, toPath: copy)
        let path = copy + "/results.json"
        var results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var renderer = try #require(results["renderer"] as? [String: Any])
        renderer["fonts_conf_sha256"] = String(repeating: "0", count: 64)
        results["renderer"] = renderer
        try JSONSerialization.data(withJSONObject: results).write(to: URL(fileURLWithPath: path))

        let result = try Self.report([copy, "--output-dir", dir.file("report"), "--html", dir.file("html")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("strips not shown: this machine's renderer differs from the recorded one in fonts_conf_sha256"))
        let page = try String(contentsOfFile: dir.file("html/index.html"), encoding: .utf8)
        #expect(page.contains("Strips not shown"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("html/strips")))
        let data = try String(contentsOfFile: dir.file("html/data/r0-rte.js"), encoding: .utf8)
        #expect(!data.contains("\"s\":\"strips/"))
    }

    /// A run that read the original's pre-rendered images (--rendered) shows its rows, read from the rendered
    /// file, but no re-drawn strips: the report cannot know that its renderer drew those images.
    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)"))
    func preRenderedRunShowsRowsButNoStrips() throws {
        let runs = try Self.madeRuns()
        let dir = try TemporaryDirectory()
        // The original's layout: rendered_glue/rte-validation/part-00000.gz, rows {sentence1, sentence2, label, image, num_patches}.
        let tsv = try String(contentsOfFile: TestData.repositoryRoot + "/samples/glue/RTE/dev.tsv", encoding: .utf8)
        var lines: [String] = []
        for line in tsv.split(separator: "\n").dropFirst().prefix(12) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let png = dir.file("strip.png")
            let rendered = try BuiltTool.run(["render", "--text", fields[1], "--pair", fields[2], "--max-seq-length", "768", "--out", png,
                                              "--renderer", TestData.repositoryRoot + "/renderers/noto"])
            try #require(rendered.status == 0, "\(rendered.stderr)")
            let object: [String: Any] = ["sentence1": fields[1], "sentence2": fields[2], "label": fields[3] == "entailment" ? 0 : 1, "num_patches": 1,
                                         "image": try Data(contentsOf: URL(fileURLWithPath: png)).base64EncodedString()]
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        }
        let folder = dir.file("data/rendered_glue/rte-validation")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder + "/part-00000", atomically: true, encoding: .utf8)
        #expect(try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["gzip", "-n", folder + "/part-00000"]).status == 0)
        let model = runs.directory.file("model")
        let eval = try BuiltTool.run(["eval", "--model", model, "--tasks", "rte", "--modality", "pixel", "--data-dir", dir.file("data"),
                                      "--rendered", "--output-dir", dir.file("pre"), "--renderer", TestData.repositoryRoot + "/renderers/noto"])
        try #require(eval.status == 0, "\(eval.stderr)")

        let result = try Self.report([dir.file("pre"), "--output-dir", dir.file("report"), "--html", dir.file("html")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("strips not shown: the run read the original's pre-rendered images"))
        let data = try String(contentsOfFile: dir.file("html/data/r0-rte.js"), encoding: .utf8)
        #expect(data.contains("Dana Reeve, the widow of the actor"))
        #expect(!data.contains("\"s\":\"strips/") && !FileManager.default.fileExists(atPath: dir.file("html/strips")))
    }

    /// An earlier report is replaced whole; any other non-empty directory is refused, untouched.
    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)"))
    func replacesAnEarlierReportButNoOtherDirectory() throws {
        let runs = try Self.madeRuns()
        let dir = try TemporaryDirectory()
        let html = dir.file("html")
        #expect(try Self.report([runs.pair, "--output-dir", dir.file("report"), "--html", html]).status == 0)
        try "left over".write(toFile: html + "/stale.txt", atomically: true, encoding: .utf8)
        let again = try Self.report([runs.pixel, "--output-dir", dir.file("report"), "--html", html])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!FileManager.default.fileExists(atPath: html + "/stale.txt"))
        #expect(try String(contentsOfFile: html + "/index.html", encoding: .utf8).contains("eval-pixel/results.json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.hasPrefix(".") }, "no staging directory left")

        let other = dir.file("other")
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try "mine".write(toFile: other + "/notes.txt", atomically: true, encoding: .utf8)
        let refused = try Self.report([runs.pixel, "--output-dir", dir.file("report"), "--html", other])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("not empty and not an earlier HTML report"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: other) == ["notes.txt"])
    }
}
