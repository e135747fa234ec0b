import ArgumentParser
import Checkpoints
import Foundation
import Model

extension PixelGPTConfig.Preset: ExpressibleByArgument {}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a random-weight checkpoint directory in the released PixelGPT layout.",
        discussion: "base is the released size (350,277,632 F32 parameters, 1.4 GB); small and tiny keep the layout and vocabulary."
    )

    @Option(help: "Model size: \(PixelGPTConfig.Preset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: PixelGPTConfig.Preset = .tiny

    @Option(help: "Seed of the weight generator; the same seed gives the same bytes.")
    var seed: UInt64 = 0

    @Option(help: "Write an ErniePixelForSequenceClassification with a score head of this many labels (1 = regression).")
    var numLabels: Int?

    @Argument(help: "Directory to create (must not exist or be empty).")
    var directory: String

    func validate() throws {
        if let numLabels, numLabels < 1 { throw ValidationError("--num-labels must be at least 1") }
    }

    func run() throws {
        var config = PixelGPTConfig.preset(preset)
        if let numLabels { config = config.forSequenceClassification(numLabels: numLabels) }
        let started = Date()
        let files = try reportingErrors { try RandomCheckpoint.write(config: config, seed: seed, to: directory) }
        log("wrote \(preset.rawValue) checkpoint (\(config.stateDictParameters.reduce(0) { $0 + $1.elementCount }) parameters) to \(directory) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        for file in files { print(file) }
    }
}
