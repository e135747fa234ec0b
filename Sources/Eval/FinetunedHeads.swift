import Checkpoints
import Foundation
import Model
import Training

/// What `--head finetune` gives one task: per seed, the logits of every evaluated row.
struct FinetunedTask {
    let seeds: [Int]
    /// Per seed (in `seeds` order), logits by row index.
    let logitsBySeed: [[Int: [Double]]]
    let info: EvaluationResults.HeadInfo
    let selection: EvaluationResults.SelectionInfo
}

/// One trained head: the score alone on cached features (K = 0), or a tail of K decoder layers, the final
/// norm and the score (`--train-layers K`), which predicts from the rows' tail examples.
enum TrainedHead {
    case score(LinearProbe)
    case tail(TrainableTail)
}

/// Heads trained once per group (a task, or the one head a shared-head group's members share: XNLI's
/// languages, SPEC 7.2) and applied to each member's evaluated rows.
struct TrainedGroup {
    let name: String
    /// Per seed: one head, or one per fold in the cross-fit fallback.
    let heads: [[TrainedHead]]
    /// Set in the cross-fit fallback: head k predicts the rows of fold k.
    let folds: Int?
    let info: EvaluationResults.HeadInfo
    let selection: EvaluationResults.SelectionInfo
    /// The data files training and selection read: every member's result depends on them.
    var dataFiles: Set<String> = []
}

extension EvaluationRun {
    /// The settings for `task`: defaults, then its `pixelgpt.head` block, then the command line.
    func headSettings(_ task: TaskDefinition) throws -> HeadTrainingSettings {
        var settings = HeadTrainingSettings().applying(task.pixelgpt.head).applying(options.headOverrides)
        settings.trainLayers = options.trainLayers
        if let problem = settings.problems.first {
            throw TaskError(task: task.task, key: "head", reason: "\(problem) (from pixelgpt.head in its YAML or the --head-* options)")
        }
        return settings
    }

    /// The group `task`'s head belongs to and the tasks whose data train and select it: the task alone, or
    /// its shared-head group (named "<group>-<setting>", e.g. xnli-train-all) trained on every member here,
    /// or on the group's source task alone (train-en).
    func group(of task: TaskDefinition) throws -> (name: String, members: [TaskDefinition], xnli: XNLISetting?) {
        guard let shared = task.sharedHead else { return (task.task, [task], nil) }
        let pool = (options.trainingPool.isEmpty ? options.tasks : options.trainingPool)
            .filter { $0.sharedHead?.group == shared.group && $0.pixelgpt.modalities.contains(options.modality) }
        let name = "\(shared.group)-\(options.xnliSetting.rawValue)"
        switch options.xnliSetting {
        case .trainAll:
            return (name, pool.isEmpty ? [task] : pool, .trainAll)
        case .trainEn:
            guard let source = pool.first(where: { $0.task == shared.sourceTask }) ?? (task.task == shared.sourceTask ? task : nil) else {
                throw TaskError(task: task.task, key: "xnli-setting", reason: "train-en needs the group's source task (\(shared.sourceTask)) in the registry")
            }
            return (name, [source], .trainEn)
        }
    }

    func finetunedHead(_ task: TaskDefinition, evaluated: EvaluatedData, featurizer: Featurizer, images: RenderedImages?) throws -> FinetunedTask {
        let (name, members, xnli) = try group(of: task)
        var group: TrainedGroup
        if let trained = trainedGroups[name] {
            group = trained
        } else {
            let readBefore = taskDataFiles
            taskDataFiles = []
            group = try train(name: name, template: task, members: members, xnli: xnli)
            group.dataFiles = taskDataFiles
            taskDataFiles.formUnion(readBefore)
            trainedGroups[name] = group
        }
        taskDataFiles.formUnion(group.dataFiles)
        let rows = evaluated.rows
        let assignment = group.folds.map { ContiguousFolds(count: $0, rows: rows.count) }
        var logitsBySeed = [[Int: [Double]]](repeating: [:], count: group.heads.count)
        if options.trainLayers == 0 {
            let features = try cachedFeatures(task, split: evaluated.split, rows: rows, featurizer: featurizer, limit: options.limit, images: images)
            let h = featurizer.featureSize
            for (seed, heads) in group.heads.enumerated() {
                for (position, row) in rows.enumerated() {
                    guard case .score(let probe) = heads[assignment?.fold(ofPosition: position) ?? 0] else { preconditionFailure("K = 0 trains score heads") }
                    logitsBySeed[seed][row.index] = probe.logits(features[(position * h)..<((position + 1) * h)])
                }
            }
        } else {
            // Tail examples are recomputed group by group (no cache) and dropped once predicted; fold k's
            // rows go through fold k's tail.
            try forEachTailGroup(task, split: evaluated.split, rows: rows, featurizer: featurizer, images: images) { start, examples in
                for (seed, heads) in group.heads.enumerated() {
                    let byHead = Dictionary(grouping: examples.indices) { assignment?.fold(ofPosition: start + $0) ?? 0 }
                    for (head, members) in byHead {
                        guard case .tail(let tail) = heads[head] else { preconditionFailure("K ≥ 1 trains tails") }
                        let logits = tail.logits(members.map { examples[$0] }), n = tail.numLabels
                        for (i, member) in members.enumerated() {
                            logitsBySeed[seed][rows[start + member].index] = logits[(i * n)..<((i + 1) * n)].map(Double.init)
                        }
                    }
                }
            }
        }
        return FinetunedTask(seeds: options.seeds, logitsBySeed: logitsBySeed, info: group.info, selection: group.selection)
    }

    /// What a head reads for each row of a block: pooled features (K = 0) or tail examples (K ≥ 1).
    private enum BlockExamples {
        case features([Float])
        case tail([TailExample])
    }

    /// Rows of one member and what a head reads for each of them, in row order.
    private struct Block {
        let task: TaskDefinition
        let rows: [ExampleRow]
        let examples: BlockExamples
    }

    /// The tail examples (`PixelGPTModel.tailExamples`) of `rows`, computed in the consecutive groups the
    /// features use (`Featurizer.effectiveBatchSize`: pair-mode upstream pooling depends on the group of 8,
    /// SPEC 4), handed to `body` with the position of the group's first row.
    func forEachTailGroup(_ task: TaskDefinition, split: TaskDefinition.Split, rows: [ExampleRow], featurizer: Featurizer, images: RenderedImages?,
                          _ body: (_ start: Int, _ examples: [TailExample]) throws -> Void) throws {
        let group = featurizer.effectiveBatchSize(options.batchSize)
        let started = Date()
        for start in stride(from: 0, to: rows.count, by: group) {
            let inputs = try featurizer.inputs(for: Array(rows[start..<min(rows.count, start + group)]), rendered: images)
            try body(start, try loaded.model.tailExamples(inputs, trainLayers: options.trainLayers, pooling: options.pooling))
            let done = min(rows.count, start + group)
            progress.update("\(task.task) [\(options.modality.rawValue), \(split.rawValue) tail examples]", done: done, total: rows.count, since: started, newlyDone: done)
        }
        progress.finish()
    }

    /// Trains the group's heads for every seed (docs/heads.md): on the members' train splits with a
    /// held-out selection split, or, when a member has no train split here, over contiguous folds of the
    /// evaluated rows (fold k predicted by a head trained on the folds other than k and k+1, fold k+1
    /// selecting). With `--train-layers K` ≥ 1 the same plans train a `TailTrainable` on tail examples
    /// instead of a `ScoreHead` on features.
    func train(name: String, template: TaskDefinition, members: [TaskDefinition], xnli: XNLISetting?) throws -> TrainedGroup {
        let settings = try headSettings(template)
        let regression = template.outputType == .regression
        let k = options.trainLayers
        let h = loaded.model.config.hiddenSize
        var tailBytes = 0, tailRows = 0, tailSeconds = 0.0
        /// What the head reads for `rows` of `member`'s `split`: cached features, or tail examples computed
        /// now (counted against `tailMemoryLimit`).
        func examples(_ member: TaskDefinition, split: TaskDefinition.Split, file: String, rows: [ExampleRow], limit: Int?) throws -> BlockExamples {
            let featurizer = try makeFeaturizer(member)
            let images = try renderedImages(file, task: member, featurizer: featurizer)
            guard k > 0 else {
                return .features(try cachedFeatures(member, split: split, rows: rows, featurizer: featurizer, limit: limit, images: images))
            }
            let started = Date()
            var table: [TailExample] = []
            table.reserveCapacity(rows.count)
            try forEachTailGroup(member, split: split, rows: rows, featurizer: featurizer, images: images) { _, examples in
                tailBytes += examples.reduce(0) { $0 + TailTrainable.bytes(of: $1) }
                guard tailBytes <= options.tailMemoryLimit else {
                    let limit = Double(options.tailMemoryLimit)
                    throw TaskError(task: name, key: "train-layers", reason: "the tail examples of --train-layers \(k) need more than "
                        + (limit >= 1e9 ? String(format: "%.1f GB", limit / 1e9) : String(format: "%.1f MB", limit / 1e6))
                        + "; use a smaller --train-limit (or --limit) or --train-layers")
                }
                table += examples
            }
            tailRows += rows.count
            tailSeconds += Date().timeIntervalSince(started)
            return .tail(table)
        }

        var evaluatedMembers: [(task: TaskDefinition, data: EvaluatedData)] = []
        var trainFiles: [TaskDefinition.Split: [String]] = [:]
        for member in members {
            do {
                evaluatedMembers.append((member, try evaluatedData(member, quiet: member.task != template.task)))
            } catch let missing as MissingData {
                log("\(name): leaving out \(member.task): \(missing.reason)")
                continue
            }
            if let train = dataFile(member, .train) { trainFiles[.train, default: []].append(train) }
        }
        guard !evaluatedMembers.isEmpty else { throw MissingData(reason: "no data for any of \(members.map(\.task).joined(separator: ", "))") }
        /// A member's evaluated rows as a block (only computed where a plan reads them).
        func evaluatedBlock(_ member: (task: TaskDefinition, data: EvaluatedData)) throws -> Block {
            Block(task: member.task, rows: member.data.rows,
                  examples: try examples(member.task, split: member.data.split, file: member.data.file, rows: member.data.rows, limit: options.limit))
        }
        let usesFolds = trainFiles[.train, default: []].count < evaluatedMembers.count
        let reported = template.pixelgpt.reportedSplit.rawValue

        // One table of examples (features or tail examples) and targets; heads index it.
        var featureTable: [Float] = []
        var tailTable: [TailExample] = []
        var targets: [Double] = []
        func append(_ block: Block, _ rows: some Sequence<(Int, ExampleRow)>) -> [Int] {
            var indices: [Int] = []
            for (position, row) in rows {
                guard let label = row.label else { continue }
                indices.append(targets.count)
                targets.append(label.value)
                switch block.examples {
                case .features(let features): featureTable += features[(position * h)..<((position + 1) * h)]
                case .tail(let examples): tailTable.append(examples[position])
                }
            }
            return indices
        }

        // Per head: (fold, train examples, selection examples).
        var plans: [(fold: Int?, train: [Int], selection: [Int])] = []
        let selectionDescription: String
        var trainingRows = 0
        if usesFolds {
            let folds = Self.foldCount
            var byFold = [[Int]](repeating: [], count: folds)
            for member in evaluatedMembers {
                let block = try evaluatedBlock(member)
                let assignment = ContiguousFolds(count: folds, rows: block.rows.count)
                for fold in 0..<folds {
                    byFold[fold] += append(block, block.rows.enumerated().filter { assignment.fold(ofPosition: $0.offset) == fold })
                }
            }
            guard byFold.allSatisfy({ !$0.isEmpty }) else {
                throw MissingData(reason: "no train split and too few labelled rows for \(folds) folds")
            }
            for fold in 0..<folds {
                let selecting = options.selectOn == .reported ? fold : (fold + 1) % folds
                let train = (0..<folds).filter { $0 != fold && $0 != (fold + 1) % folds }.flatMap { byFold[$0] }
                plans.append((fold, train, byFold[selecting]))
            }
            trainingRows = plans[0].train.count
            selectionDescription = options.selectOn == .reported
                ? "the predicted fold itself (reported rows, \(folds)-fold cross-fit)"
                : "fold k+1 of \(folds) contiguous folds of the evaluated rows (cross-fit; no train split here)"
        } else {
            var train: [Int] = [], selection: [Int] = []
            var description = ""
            for evaluatedMember in evaluatedMembers {
                let member = evaluatedMember.task
                let trainFile = dataFile(member, .train)!
                let trainRows = Array(try read(trainFile, task: member, split: .train).rows.filter { $0.label != nil }.prefix(options.trainLimit))
                guard trainRows.count >= 2 else { throw MissingData(reason: "\(member.task): fewer than 2 labelled train rows") }
                let trainBlock = Block(task: member, rows: trainRows,
                                       examples: try examples(member, split: .train, file: trainFile, rows: trainRows, limit: options.trainLimit))
                let evaluatedSplit = evaluatedMember.data.split
                if options.selectOn == .reported {
                    let block = try evaluatedBlock(evaluatedMember)
                    train += append(trainBlock, trainRows.enumerated().map { ($0.offset, $0.element) })
                    selection += append(block, block.rows.enumerated().map { ($0.offset, $0.element) })
                    description = "\(evaluatedSplit.rawValue) (the reported rows)"
                } else if evaluatedSplit != .validation, let validationFile = dataFile(member, .validation),
                          case let validation = try read(validationFile, task: member, split: .validation), validation.isLabeled {
                    let rows = options.limit.map { Array(validation.rows.prefix($0)) } ?? validation.rows
                    let block = Block(task: member, rows: rows,
                                      examples: try examples(member, split: .validation, file: validationFile, rows: rows, limit: options.limit))
                    train += append(trainBlock, trainRows.enumerated().map { ($0.offset, $0.element) })
                    selection += append(block, rows.enumerated().map { ($0.offset, $0.element) })
                    description = "validation"
                } else {
                    // GLUE reports dev, so selection holds out the last tenth of the train rows used.
                    let held = max(1, Int((Double(trainRows.count) * Self.heldOutFraction).rounded(.up)))
                    let cut = trainRows.count - held
                    train += append(trainBlock, trainRows.enumerated().prefix(cut).map { ($0.offset, $0.element) })
                    selection += append(trainBlock, trainRows.enumerated().dropFirst(cut).map { ($0.offset, $0.element) })
                    description = "train (held-out last \(Int(Self.heldOutFraction * 100))% of the first \(options.trainLimit) train rows)"
                }
            }
            plans = [(nil, train, selection)]
            trainingRows = train.count
            selectionDescription = description
        }
        if k > 0 {
            log(String(format: "%@: tail examples (--train-layers %d) of %d rows: %.1f MB, computed in %.1f s", name, k, tailRows,
                       Double(tailBytes) / 1e6, tailSeconds))
        }

        let metric = template.pixelgpt.selectionMetric
        let started = Date()  // training only: the examples above come from the cache or were logged as computed
        var heads: [[TrainedHead]] = []
        var runs: [EvaluationResults.SelectionInfo.Run] = []
        for seed in options.seeds {
            var seedHeads: [TrainedHead] = []
            for plan in plans {
                guard !plan.train.isEmpty else { throw MissingData(reason: "no labelled training rows") }
                let labels = plan.selection.map { targets[$0] }
                let seedValue = UInt64(bitPattern: Int64(seed))
                func fit(_ model: some Trainable) -> HeadTrainer.Outcome {
                    HeadTrainer(settings: settings).train(model, trainExamples: plan.train, selectionExamples: plan.selection,
                                                          seed: seedValue &+ UInt64(plan.fold ?? 0)) { logits in
                        let n = model.outputCount
                        let predictions = labels.indices.map { i in Self.prediction(logits[(i * n)..<((i + 1) * n)].map(Double.init), regression: regression) }
                        return Metrics.value(metric, predictions: predictions, labels: labels)
                    }
                }
                let outcome: HeadTrainer.Outcome
                if k == 0 {
                    let head = ScoreHead(features: featureTable, featureSize: h, targets: targets, outputCount: template.numLabels,
                                         isRegression: regression, seed: seedValue)
                    outcome = fit(head)
                    seedHeads.append(.score(head.linearProbe))
                } else {
                    let tail = try TailTrainable(model: loaded.model, trainLayers: k, examples: tailTable, targets: targets,
                                                 outputCount: template.numLabels, isRegression: regression, seed: seedValue)
                    outcome = fit(tail)
                    seedHeads.append(.tail(tail.tail))
                }
                runs.append(.init(seed: seed, fold: plan.fold, bestStep: outcome.bestStep, bestValue: outcome.bestValue, stepsRun: outcome.stepsRun,
                                  maxSteps: outcome.maxSteps, stoppedEarly: outcome.stoppedEarly))
            }
            heads.append(seedHeads)
        }
        let trainedOn = (usesFolds ? "\(Self.foldCount)-fold cross-fit on the evaluated rows of " : "train of ")
            + evaluatedMembers.map(\.task.task).joined(separator: ", ")
        var info = EvaluationResults.HeadInfo(kind: usesFolds ? "finetune-crossfit" : "finetune", trainedOn: trainedOn, trainingRows: trainingRows,
                                              l2: nil, xnliSetting: xnli?.rawValue, training: settings, folds: usesFolds ? Self.foldCount : nil)
        if let directory = options.saveHeadsDirectory {
            info.saved = try saveHeads(heads, group: name, template: template, folds: usesFolds, directory: directory)
        }
        let selection = EvaluationResults.SelectionInfo(split: selectionDescription, reportedSplit: reported, onReportedSplit: options.selectOn == .reported,
                                                        metric: metric.rawValue, runs: runs)
        let steps = runs.map { "\($0.bestStep)/\($0.stepsRun)" }.joined(separator: " ")
        let elapsed = Date().timeIntervalSince(started)
        let stepsRun = runs.reduce(0) { $0 + $1.stepsRun }
        log(String(format: "%@: trained %d head(s)%@ on %d rows in %.1f s, %.1f ms/step (best/run steps: %@)", name, runs.count,
                   k > 0 ? " with \(k) layer(s)" : "", trainingRows, elapsed, 1000 * elapsed / Double(max(1, stepsRun)), steps))
        return TrainedGroup(name: name, heads: heads, folds: usesFolds ? Self.foldCount : nil, info: info, selection: selection)
    }

    /// Share of the train rows held out for selection when the reported split is validation (GLUE).
    static let heldOutFraction = 0.1

    /// Writes each head as DIR/GROUP/seed-S[/fold-K], an ErniePixelForSequenceClassification checkpoint
    /// (docs/heads.md): the score beside a linked backbone, or, for a trained tail, a full copy with the
    /// trained tensors in place. Returns the directories.
    func saveHeads(_ heads: [[TrainedHead]], group: String, template: TaskDefinition, folds: Bool, directory: String) throws -> [String] {
        var written: [String] = []
        for (seed, seedHeads) in zip(options.seeds, heads) {
            for (fold, head) in seedHeads.enumerated() {
                var path = (directory as NSString).appendingPathComponent(group + "/seed-\(seed)")
                if folds { path += "/fold-\(fold)" }
                switch head {
                case .score(let probe):
                    try ClassificationCheckpointWriter.write(source: loaded.location, config: loaded.model.config, labels: template.labelList,
                                                             score: probe.weight.map(Float.init), to: path)
                case .tail(let tail):
                    let trained = tail.tensorLayout.map {
                        ClassificationCheckpointWriter.TrainedTensor(name: $0.name, shape: $0.shape, values: Array(tail.parameters[$0.range]))
                    }
                    try ClassificationCheckpointWriter.writeFullCopy(source: loaded.location, config: loaded.model.config, labels: template.labelList,
                                                                     trained: trained, to: path)
                }
                written.append(path)
            }
        }
        log("\(group): saved \(written.count) head checkpoint(s) under \(directory)/\(group)")
        return written
    }
}
