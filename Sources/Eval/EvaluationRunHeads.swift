import Checkpoints
import Foundation
import Model
import Render
import SafeTensors
import Support
import Text

/// Where an evaluation gets its features (computed or from the cache, keyed by everything that changes
/// them) and how it fits the linear probe heads, cross-fitted where a task has no train split.
extension EvaluationRun {
    func featureKey(_ task: TaskDefinition, split: TaskDefinition.Split, featurizer: Featurizer, limit: Int?) throws -> FeatureCache.Key {
        FeatureCache.Key(checkpoint: checkpointHash, task: task.task, taskVersion: task.metadata.version, split: split.rawValue,
                         modality: options.modality.rawValue, sequenceLength: featurizer.sequenceLength,
                         renderer: readsRenderedDatasets ? "pre-rendered" : rendererIdentity,
                         tokenizer: tokenizerHash, pooling: "\(options.pooling.rawValue)/\(featurizer.effectiveBatchSize(options.batchSize))",
                         limit: limit, data: try dataFile(task, split).map { try dataHash($0) })
    }

    /// Features of `rows` of `split`, from the cache or computed (and cached).
    func cachedFeatures(_ task: TaskDefinition, split: TaskDefinition.Split, rows: [ExampleRow], featurizer: Featurizer, limit: Int?,
                        images: RenderedImages?) throws -> [Float] {
        let key = try featureKey(task, split: split, featurizer: featurizer, limit: limit)
        if let entry = try cache.load(key), entry.rowIndices == rows.map(\.index) {
            log("\(task.task): \(split.rawValue) features of \(rows.count) rows from the cache")
            return entry.features
        }
        if let featurePlanner { return try featurePlanner.record(request(key, rows: rows, featurizer: featurizer, images: images)) }
        log("\(task.task): computing \(split.rawValue) features of \(rows.count) rows")
        let started = Date()
        let features = try featurizer.features(of: rows, batchSize: options.batchSize, rendered: images) { done in
            progress.update("\(task.task) [\(options.modality.rawValue), \(split.rawValue) features]", done: done, total: rows.count, since: started, newlyDone: done)
        }
        progress.finish()
        try cache.store(.init(rowIndices: rows.map(\.index), features: features, featureSize: featurizer.featureSize), for: key)
        return features
    }

    func makeHead(_ task: TaskDefinition, featurizer: Featurizer, evaluated: [ExampleRow], split: TaskDefinition.Split,
                  images: RenderedImages?) throws -> Head {
        let h = featurizer.featureSize
        switch options.head {
        case .finetune:
            preconditionFailure("fine-tuned heads are made by finetunedHead")
        case .checkpoint:
            guard let score = loaded.model.weights.score else {
                throw TaskError(task: options.modelPath, key: "score.weight", reason: "the checkpoint has no classification head; use --head probe")
            }
            guard score.shape == [task.numLabels, h] else {
                throw TaskError(task: options.modelPath, key: "score.weight", reason: "shape \(score.shape) does not fit \(task.task) (\(task.numLabels) labels, hidden \(h))")
            }
            if let problem = Self.labelOrderProblem(loaded.model.config.id2label, task: task) {
                throw TaskError(task: options.modelPath, key: "id2label", reason: problem)
            }
            let weight = score.withFloat32 { $0.map(Double.init) }
            return Head(info: .init(kind: "checkpoint", trainedOn: nil, trainingRows: nil, l2: nil),
                        source: .probe(LinearProbe(numLabels: task.numLabels, featureSize: h, weight: weight)))
        case .probe:
            if split != .train, let trainFile = dataFile(task, .train) {
                let train = try read(trainFile, task: task, split: .train)
                let rows = Array(train.rows.filter { $0.label != nil }.prefix(options.trainLimit))
                guard !rows.isEmpty else { throw NothingEvaluated(train, task: task.task, what: "labelled train row") }
                let features = try cachedFeatures(task, split: .train, rows: rows, featurizer: featurizer, limit: options.trainLimit,
                                                  images: try renderedImages(trainFile, task: task, featurizer: featurizer))
                return Head(info: .init(kind: "probe", trainedOn: "train (\(trainFile))", trainingRows: rows.count, l2: options.probeL2),
                            source: .probe(fit(task, features: features, rows: rows, featureSize: h)))
            }
            // No train split here (XNLI's translated training data, QNLI train): k-fold cross-fitting over
            // the evaluated rows, each row predicted by a head trained on the other folds only.
            let labeled = evaluated.filter { $0.label != nil }
            guard labeled.count >= 10 else { throw MissingData(reason: "no train split and too few labelled rows to cross-fit a probe") }
            let features = try cachedFeatures(task, split: split, rows: evaluated, featurizer: featurizer, limit: options.limit, images: images)
            // Contiguous folds (see ContiguousFolds for why not interleaved).
            let assignment = ContiguousFolds(count: Self.foldCount, rows: evaluated.count)
            let folds = assignment.count
            if labeled.count < folds * Self.fewRowsPerFold {
                log("warning: \(task.task): the cross-fitted probe trains on \(labeled.count / folds) labelled rows per fold "
                    + "(under \(Self.fewRowsPerFold)); its numbers can fall far below chance, give a larger --limit")
            }
            func fold(_ position: Int) -> Int { assignment.fold(ofPosition: position) }
            var byIndex: [Int: ArraySlice<Float>] = [:]
            var foldOf: [Int: Int] = [:]
            for (i, row) in evaluated.enumerated() {
                byIndex[row.index] = features[(i * h)..<((i + 1) * h)]
                foldOf[row.index] = fold(i)
            }
            var crossFit: [Int: [Double]] = [:]
            for k in 0..<folds {
                let trainRows = labeled.filter { foldOf[$0.index] != k }
                let probe = fit(task, features: trainRows.flatMap { Array(byIndex[$0.index]!) }, rows: trainRows, featureSize: h)
                for row in evaluated where foldOf[row.index] == k {
                    crossFit[row.index] = probe.logits(byIndex[row.index]!)
                }
            }
            return Head(info: .init(kind: "probe-crossfit", trainedOn: "\(folds)-fold cross-fit on the evaluated rows",
                                    trainingRows: labeled.count * (folds - 1) / folds, l2: options.probeL2, folds: folds),
                        source: .logits(crossFit))
        }
    }

    /// Folds of the cross-fit fallback (probe and fine-tuned heads without a train split).
    static let foldCount = 5
    /// Below this many labelled rows per fold a cross-fitted probe is noise (XNLI scored 6 % at --limit 16).
    /// 20 (100 rows in all) keeps `make run`'s 200-row samples, 40 per fold, free of the warning.
    static let fewRowsPerFold = 20

    func fit(_ task: TaskDefinition, features: [Float], rows: [ExampleRow], featureSize: Int) -> LinearProbe {
        switch task.outputType {
        case .regression:
            LinearProbe.ridgeRegression(features: features, targets: rows.map { $0.label!.value }, featureSize: featureSize, l2: options.probeL2)
        case .classification:
            LinearProbe.logisticRegression(features: features, labels: rows.map { Int($0.label!.value) }, featureSize: featureSize,
                                           numLabels: task.numLabels, l2: options.probeL2, maxIterations: 200)
        }
    }
}
