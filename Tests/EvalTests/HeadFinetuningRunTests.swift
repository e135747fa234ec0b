import Foundation
import TestSupport
import Testing
@testable import Eval

/// `--head finetune` end to end on a small random checkpoint and the project's samples/: seeds, selection
/// bookkeeping, the XNLI settings and the fold fallback.
@Suite(.serialized) struct HeadFinetuningRunTests {
    static func quick(_ options: inout EvaluationRun.Options) {
        options.head = .finetune
        var overrides = HeadTrainingSettings.Overrides()
        (overrides.maxSteps, overrides.evalEvery, overrides.warmupSteps) = (60, 10, 5)
        options.headOverrides = overrides
    }

    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)"))
    func seedsGiveMeanStdAndPerSeedMetrics() throws {
        let dir = try TemporaryDirectory()
        let model = try EvaluationRunTests.checkpoint(in: dir)
        var options = try EvaluationRunTests.options(model, tasks: "rte,stsb", modality: .text, output: dir.file("out"))
        Self.quick(&options)
        options.seeds = [1, 2, 3]
        let results = try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run()
        #expect(results.version == 3 && results.seed == 1)
        for (result, task) in zip(results.tasks, options.tasks) {
            #expect(result.seeds == [1, 2, 3] && result.head.kind == "finetune")
            let bySeed = try #require(result.metricsBySeed)
            #expect(bySeed.count == 3)
            for (key, value) in result.metrics {
                let summary = Metrics.meanAndSampleStandardDeviation(bySeed.map { $0[key]! })
                #expect(abs(value - summary.mean) < 1e-12)
                #expect(result.metricsStd?[key] == summary.standardDeviation)
            }
            // The samples file holds the first seed's predictions.
            #expect(bySeed[0] == (try EvaluationRunTests.metricsFromSamples(dir.file("out"), task: task)))
            let selection = try #require(result.selection)
            #expect(selection.split.contains("held-out") && selection.reportedSplit == "validation" && !selection.onReportedSplit)
            #expect(selection.runs.map(\.seed) == [1, 2, 3] && selection.runs.allSatisfy { $0.bestStep > 0 && $0.bestStep <= $0.stepsRun })
            #expect(result.head.training?.maxSteps == 60)
        }

        options.selectOn = .reported
        options.seeds = [1]
        options.outputDirectory = dir.file("reported")
        let reported = try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run()
        let selection = try #require(reported.tasks.first?.selection)
        #expect(selection.onReportedSplit && selection.split.contains("reported"))
        #expect(reported.tasks.first?.metricsStd == nil && reported.tasks.first?.metricsBySeed?.count == 1)
    }

    @Test(.enabled(if: TestData.hasData, "needs the Llama tokenizer (PIXELGPT_DATA)"))
    func xnliSettingsAndTheFoldFallback() throws {
        let dir = try TemporaryDirectory()
        let model = try EvaluationRunTests.checkpoint(in: dir)
        var options = try EvaluationRunTests.options(model, tasks: "qnli,xnli_en,xnli_fr", modality: .text, output: dir.file("all"))
        Self.quick(&options)
        options.limit = 30
        options.cacheDirectory = dir.file("features")
        var logs: [String] = []
        let all = try EvaluationRun(options: options, log: { logs.append($0) }, progressOutput: { _ in }).run()
        #expect(all.tasks.map(\.task) == ["qnli", "xnli_en", "xnli_fr"])
        for result in all.tasks {
            #expect(result.head.kind == "finetune-crossfit" && result.head.folds == 5 && result.rows == 30 && result.labeled)
            #expect(result.selection?.runs.map(\.fold) == [0, 1, 2, 3, 4])
            #expect(result.selection?.split.contains("fold k+1") == true)
        }
        #expect(all.tasks[0].head.xnliSetting == nil)
        #expect(all.tasks[1].head.xnliSetting == "train-all" && all.tasks[1].head.trainedOn?.contains("xnli_fr") == true)
        // One shared head for the XNLI languages: trained once.
        #expect(logs.filter { $0.hasPrefix("xnli-train-all: trained") }.count == 1)

        options.xnliSetting = .trainEn
        options.outputDirectory = dir.file("en")
        let en = try EvaluationRun(options: options, log: { _ in }, progressOutput: { _ in }).run()
        #expect(en.tasks[1].head.xnliSetting == "train-en")
        #expect(en.tasks[2].head.trainedOn?.hasSuffix("xnli_en") == true)
        // English alone trains the train-en head, so its English predictions differ from train-all's.
        #expect(en.tasks[0].metrics == all.tasks[0].metrics)
        #expect(try String(contentsOfFile: dir.file("en/samples_xnli_en.jsonl"), encoding: .utf8)
                != String(contentsOfFile: dir.file("all/samples_xnli_en.jsonl"), encoding: .utf8))
    }
}
