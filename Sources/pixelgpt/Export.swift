import ArgumentParser
import Eval
import Foundation
import Support

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an evaluation run's predictions in the files a benchmark server takes.",
        subcommands: [ExportGLUE.self]
    )
}

struct ExportGLUE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glue",
        abstract: "Write a run's test-split predictions as a GLUE benchmark submission (CoLA.tsv ... AX.tsv).",
        discussion: """
            Reads RUN_DIR (an `eval --split test` output directory: results.json, run.json and samples) and writes \
            one file per GLUE task, `index<TAB>prediction` after a header line: the index column of the task's test \
            file; 0/1 for CoLA, SST-2, MRPC, QQP and WNLI, label names for MNLI-m, MNLI-mm, QNLI, RTE and AX (the \
            diagnostic set, predicted with an MNLI head, `--tasks ax`), a score with 3 decimals for STS-B. \
            A run without test predictions for all 11 files, or with fewer rows than a test file has (--limit), is \
            refused, naming what is missing; --allow-partial writes the files there are and lists the rest on \
            stderr. DIR is written whole or not at all.
            """
    )

    @Argument(help: "The evaluation run's --output-dir.")
    var runDir: String

    @Option(help: "The directory to write (must not exist, or be empty).")
    var out: String

    @Option(help: "The tasks directory the run used (default: the project's tasks/, or $PIXELGPT_TASKS).")
    var tasksDir: String?

    @Flag(help: "Write the files there are when tasks or rows are missing (the server refuses an incomplete submission).")
    var allowPartial = false

    func run() throws {
        try reportingErrors {
            let registry = try TaskRegistry(directory: tasksDir ?? TaskRegistry.defaultDirectory())
            let plan = try GLUESubmission.plan(runDirectory: runDir, registry: registry)
            let short = plan.missing + plan.files.compactMap(\.incomplete)
            if !short.isEmpty && !allowPartial {
                throw ValidationError("\(runDir): not a complete GLUE submission: \(short.joined(separator: "; ")); "
                                      + "--allow-partial writes the \(plan.files.count) files there are")
            }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), !(isDirectory.boolValue && StagedOutput.isEmptyDirectory(out)) {
                throw ValidationError("--out \(out) exists and is not an empty directory")
            }
            try StagedOutput.commit(out) { staging in
                try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
                for file in plan.files {
                    try Data(file.text.utf8).write(to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent(file.name)))
                }
            }
            for line in short { log("not complete: \(line)") }
            log("wrote \(plan.files.map { "\($0.name) (\($0.rows) rows)" }.joined(separator: ", ")) to \(out)")
        }
    }
}
