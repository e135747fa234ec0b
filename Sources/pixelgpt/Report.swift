import ArgumentParser
import Eval
import Foundation
import Report

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One leaderboard over eval runs: markdown on stdout, report.md, report.csv and xnli.png in --output-dir; with --html, a static page with a sample browser.",
        discussion: "Rows are checkpoint x modality; a GLUE run and an XNLI run of the same row merge. Tables, their columns and charts come from the group files of the tasks directory. See docs/report.md for the reference YAML and the CSV columns."
    )

    @Argument(help: "Run directories written by `pixelgpt eval` (or their results.json files).")
    var runs: [String] = []

    @Option(help: "A YAML file of published numbers, printed as reference rows (format: docs/report.md).")
    var reference: String?

    @Option(help: "Where report.md, report.csv and xnli.png go (created when missing).")
    var outputDir = "report"

    @Option(help: "Also write a static HTML report here (index.html, its data and the strips the model read; replaces an earlier one).")
    var html: String?

    @Option(help: "The tasks directory whose group files lay out the tables (default: the project's tasks/, or $PIXELGPT_TASKS).")
    var tasksDir: String?

    func run() throws {
        try reportingErrors {
            let registry = try TaskRegistry(directory: tasksDir ?? TaskRegistry.defaultDirectory())
            let report = try RunReport(runPaths: runs, referenceFile: reference, groups: registry.taskGroups, tasks: registry.tasks)
            for note in report.notes { log("note: " + note) }
            let (written, notes) = try report.write(to: outputDir)
            for note in notes { log("note: " + note) }
            print(report.markdown, terminator: "")
            log("wrote " + written.joined(separator: ", "))
            if let html {
                let page = try HTMLReport(report: report, runPaths: runs, registry: registry)
                for note in page.notes { log("note: " + note) }
                log("html report: " + (try page.write(to: html)))
            }
        }
    }
}
