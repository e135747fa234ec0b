import Foundation
import TestSupport
import Testing

/// `pixelgpt report RUN_DIR... [--reference FILE] [--output-dir DIR]` end to end, over run directories the
/// test writes (only the results.json keys the report reads).
@Suite struct ReportCommandTests {
    static let languages = ["en", "ar", "bg", "de", "el", "fr", "hi", "ru", "es", "sw", "th", "tr", "ur", "vi", "zh"]

    static func writeRun(_ directory: String, model: String, hash: String, version: Int = 2, tasks: [[String: Any]]) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let object: [String: Any] = ["schema": "pixelgpt.results", "version": version,
                                     "model": ["path": model, "weights_sha256": ["model.safetensors:" + String(repeating: hash, count: 32)]],
                                     "modality": "pixel", "tasks": tasks]
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: directory + "/results.json"))
    }

    static func xnli(_ accuracy: (Int) -> Double) -> [[String: Any]] {
        languages.enumerated().map { ["task": "xnli_\($1)", "metrics": ["acc": accuracy($0)], "head": ["kind": "probe"]] }
    }

    /// Width and height from the IHDR chunk, after checking the PNG signature.
    static func pngSize(_ path: String) throws -> (width: Int, height: Int)? {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard bytes.count > 24, bytes[0 ..< 8] == [137, 80, 78, 71, 13, 10, 26, 10], bytes[12 ..< 16] == Array("IHDR".utf8)[...] else { return nil }
        func u32(_ at: Int) -> Int { bytes[at ..< at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (u32(16), u32(20))
    }

    @Test func combinesTwoRunsIntoOneTableAndWritesTheChart() throws {
        let dir = try TemporaryDirectory()
        try Self.writeRun(dir.file("runs/a"), model: "/models/alpha", hash: "aa", version: 1,
                          tasks: [["task": "rte", "metrics": ["acc": 0.625], "head": ["kind": "probe"]]] + Self.xnli { 0.3 + 0.01 * Double($0) })
        try Self.writeRun(dir.file("runs/b"), model: "/models/beta", hash: "bb",
                          tasks: [["task": "rte", "metrics": ["acc": 0.5], "metrics_std": ["acc": 0.025], "seeds": [1, 2], "head": ["kind": "probe"]]])
        let result = try CommandLineTests.run(["report", dir.file("runs/a"), dir.file("runs/b") + "/results.json", "--output-dir", dir.file("out")])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("| model | RTE | Avg |"))
        #expect(lines.contains("| alpha (pixel) | 62.5 | 62.5 |"))
        #expect(lines.contains("| beta (pixel) | 50.0±2.5 | 50.0 |"))
        #expect(lines.contains { $0.hasPrefix("| alpha (pixel) | 30.0 | 31.0 |") })
        #expect(lines.contains("| beta (pixel) | " + Array(repeating: "–", count: 16).joined(separator: " | ") + " |"))
        #expect(try String(contentsOfFile: dir.file("out/report.md"), encoding: .utf8) == result.stdout)
        let csv = try String(contentsOfFile: dir.file("out/report.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 3)
        #expect(csv[1].hasPrefix("alpha (pixel),run,alpha,aaaaaaaa,pixel,probe,"))
        let size = try #require(try Self.pngSize(dir.file("out/xnli.png")))
        #expect(size.width > size.height && size.height > 100)
        #expect(result.stderr.contains("wrote") && !result.stderr.contains("error"))
    }

    @Test func badInputExitsNonZeroWithoutWritingAnything() throws {
        let dir = try TemporaryDirectory()
        try Self.writeRun(dir.file("good"), model: "/models/alpha", hash: "aa", tasks: Self.xnli { _ in 0.4 })
        try Self.writeRun(dir.file("future"), model: "/models/alpha", hash: "aa", version: 9, tasks: [])
        try "rows:\n  - label: x\n    scores: {xnli_xx: 1}\n".write(toFile: dir.file("ref.yaml"), atomically: true, encoding: .utf8)
        for (arguments, needle) in [
            ([dir.file("good"), dir.file("missing")], "missing: no such run directory"),
            ([dir.file("good"), dir.file("future")], "future/results.json: version:"),
            ([dir.file("good"), "--reference", dir.file("ref.yaml")], "ref.yaml: rows[0].scores.xnli_xx"),
            ([String](), "no run directory given"),
        ] {
            let result = try CommandLineTests.run(["report"] + arguments + ["--output-dir", dir.file("out")])
            #expect(result.status != 0)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stderr.contains(needle), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("out")))
        }
    }
}
