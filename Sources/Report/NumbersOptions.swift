/// The `pixelgpt eval` options behind a run's numbers, so that `report` keeps apart runs that differ by any of
/// them (`--limit 16` against a full run, another `--train-layers`, `--select-on`, `--head-lr`, data, renderer
/// or tokenizer) and says so in their labels, instead of refusing them as conflicting duplicates.
///
/// Options are read from results.json's `command_line` (version 3), minus those that cannot move a number.
/// The list is of the options that do *not* change numbers rather than of those that do, so that an option
/// added to `eval` later keeps rows apart until someone decides otherwise. `--limit` and `--pooling` come from
/// their recorded fields instead, which every version has and which hold the value that ran (an explicit
/// `--pooling upstream` is the default, not another run).
public enum NumbersOptions {
    /// Options that leave every number as it is: where things go, how fast, what the row is called; the
    /// checkpoint, modality, head kind and XNLI setting, which rows are keyed by already (by the weights'
    /// hashes, not the path); `--tasks`, since each task is its own column; `--batch-size`, which the numerics
    /// contract makes irrelevant (pair mode runs the original's batches of 8 whatever is asked).
    public static let neutral: Set<String> = [
        "--model", "--tasks", "--modality", "--head", "--xnli-setting", "--batch-size", "--threads", "--output-dir",
        "--cache-dir", "--save-heads", "--label", "--resume", "--shard",
        // Read from their recorded fields (`limit`, `pooling`).
        "--limit", "--pooling",
    ]

    /// `--name value` strings, sorted, for the options of `commandLine` that change numbers, then `--limit N`
    /// and `--pooling P` (when not the default) from the recorded fields. `commandLine` is the whole
    /// `pixelgpt eval ...` argument list; `eval` takes no positional arguments, so a word after an option
    /// that does not start with "--" is its value.
    public static func changing(commandLine: [String]?, limit: Int?, pooling: String?) -> [String] {
        var options: [String] = []
        let words = commandLine.map { Array($0.drop { !$0.hasPrefix("--") }) } ?? []
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            guard word.hasPrefix("--") else { continue }
            var name = word, value: String? = nil
            if let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                value = String(word[word.index(after: equals)...])
            } else if index < words.count, !words[index].hasPrefix("--") {
                value = words[index]
                index += 1
            }
            guard !neutral.contains(name) else { continue }
            options.append(value.map { "\(name) \($0)" } ?? name)
        }
        if let limit { options.append("--limit \(limit)") }
        if let pooling, pooling != "upstream" { options.append("--pooling \(pooling)") }
        return options.sorted()
    }
}
