import ArgumentParser

extension Eval {
    /// The options only a fine-tuned head reads, given on the command line: with another head they would be
    /// recorded nowhere and change nothing, so they are refused (issue 18, item 6).
    var finetuneOnlyOptionsGiven: [String] {
        let given: [(String, Bool)] = [
            ("--seeds", seeds != nil), ("--select-on", selectOn != nil), ("--xnli-setting", xnliSetting != nil),
            ("--save-heads", saveHeads != nil), ("--head-lr", headLr != nil), ("--head-batch-size", headBatchSize != nil),
            ("--head-max-steps", headMaxSteps != nil), ("--head-epochs", headEpochs != nil), ("--head-warmup-steps", headWarmupSteps != nil),
            ("--head-eval-every", headEvalEvery != nil), ("--head-patience", headPatience != nil), ("--head-weight-decay", headWeightDecay != nil),
        ]
        return given.filter(\.1).map(\.0)
    }

    func refuseFinetuneOptionsWithoutFinetune() throws {
        guard head != .finetune, let first = finetuneOnlyOptionsGiven.first else { return }
        throw ValidationError("\(first) only applies to --head finetune (this run's head is \(head.rawValue)); leave it out or give --head finetune")
    }
}
