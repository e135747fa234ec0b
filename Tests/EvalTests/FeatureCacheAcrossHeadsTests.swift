import Foundation
import TestSupport
import Testing
@testable import Eval

/// Issue 18, item 2: "another head costs no forward passes" did not hold: a probe run cached only the train
/// split's features, so a fine-tuned head over the same --cache-dir recomputed every evaluated row. Counted by
/// the run's log lines, which say for each split whether its features came from the cache or were computed.
@Suite struct FeatureCacheAcrossHeadsTests {
    final class Lines: @unchecked Sendable {
        var all: [String] = []
    }

    @Test func aFinetunedHeadAfterAProbeComputesNoEvaluatedFeatures() throws {
        let dir = try TemporaryDirectory()
        let model = try EvaluationRunTests.checkpoint(in: dir)
        var options = try EvaluationRunTests.options(model, tasks: "rte", modality: .pixel, output: dir.file("probe"))
        (options.limit, options.trainLimit, options.cacheDirectory) = (8, 16, dir.file("cache"))
        let probeLog = Lines()
        let probe = try EvaluationRun(options: options, log: { probeLog.all.append($0) }, progressOutput: { _ in }).run()

        var tuned = options
        (tuned.head, tuned.outputDirectory) = (.finetune, dir.file("finetune"))
        tuned.headOverrides = .init()
        (tuned.headOverrides!.maxSteps, tuned.headOverrides!.warmupSteps, tuned.headOverrides!.evalEvery) = (10, 2, 5)
        let tunedLog = Lines()
        _ = try EvaluationRun(options: tuned, log: { tunedLog.all.append($0) }, progressOutput: { _ in }).run()
        #expect(tunedLog.all.contains("rte: validation features of 8 rows from the cache"), "\(tunedLog.all)")
        #expect(!tunedLog.all.contains { $0.contains("computing validation features") }, "\(tunedLog.all)")

        // And back: a probe after the fine-tuned head reads every split from the cache, with the same numbers.
        options.outputDirectory = dir.file("probe-again")
        let againLog = Lines()
        let again = try EvaluationRun(options: options, log: { againLog.all.append($0) }, progressOutput: { _ in }).run()
        #expect(!againLog.all.contains { $0.contains("computing") }, "\(againLog.all)")
        #expect(againLog.all.contains("rte: validation features of 8 rows from the cache"), "\(againLog.all)")
        #expect(again.tasks.map(\.metrics) == probe.tasks.map(\.metrics))
        #expect(try String(contentsOfFile: dir.file("probe-again/samples_rte.jsonl"), encoding: .utf8)
                == String(contentsOfFile: dir.file("probe/samples_rte.jsonl"), encoding: .utf8))
    }
}
