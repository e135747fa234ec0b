import ArgumentParser
import Checkpoints
import Foundation
import Model

extension Model.Modality: ExpressibleByArgument {}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the forward pass and hold it against OpenBLAS sgemm on the model's own matrix shapes.",
        discussion: """
            Writes a random checkpoint of the preset to a temporary directory (or uses --model), opens it, runs \
            one warm-up and --repeats timed forward passes on random inputs, and measures sgemm on every \
            projection shape in the same run. FLOPs: 2·(B·L)·(in·out) per projection and layer, plus causal \
            attention 2·B·L²·H per layer; heads are not applied.
            """
    )

    @Option(help: "tiny, small or base (the released size).")
    var preset: PixelGPTConfig.Preset = .small

    @Option(help: "A checkpoint directory to time instead of a random preset.")
    var model: String?

    @Option(help: "text, pixel or pair (pair: --seq patches and --seq tokens).")
    var modality: Model.Modality = .pixel

    @Option(help: "Rows per forward pass.")
    var batch: Int = 8

    @Option(help: "Sequence length: tokens (text) or patches (pixel, pair).")
    var seq: Int = 256

    @Option(help: "OpenBLAS threads.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Timed forward passes (the median is reported).")
    var repeats: Int = 3

    @Flag(help: "Print the measurements as JSON (schema pixelgpt.bench, version 1).")
    var json = false

    struct Report: Encodable {
        let schema = "pixelgpt.bench"
        let version = 1
        let model: String
        let modality: String
        let batch: Int
        let sequenceLength: Int
        let threads: Int
        let openSeconds: Double
        let forwardSecondsMedian: Double
        let forwardSecondsAll: [Double]
        let tokensPerSecond: Double
        let gflop: Double
        let gflopPerSecond: Double
        let sgemmGflopPerSecond: Double
        let ratioToSGEMM: Double
        let peakResidentMB: Double
        let openblasCore: String
        /// Seconds per kernel in one extra, profiled forward pass; "other" is the rest (embeddings, copies).
        let kernelSeconds: [String: Double]

        enum CodingKeys: String, CodingKey {
            case schema, version, model, modality, batch, threads, gflop
            case sequenceLength = "sequence_length", openSeconds = "open_seconds"
            case forwardSecondsMedian = "forward_seconds_median", forwardSecondsAll = "forward_seconds_all"
            case tokensPerSecond = "tokens_per_second", gflopPerSecond = "gflop_per_second"
            case sgemmGflopPerSecond = "sgemm_gflop_per_second", ratioToSGEMM = "ratio_to_sgemm"
            case peakResidentMB = "peak_resident_mb", openblasCore = "openblas_core", kernelSeconds = "kernel_seconds"
        }
    }

    func run() throws {
        let report = try reportingErrors { () throws -> Report in
            guard batch > 0, seq > 0, repeats > 0 else { throw ValidationError("--batch, --seq and --repeats must be positive") }
            BLASRuntime.setThreads(threads)
            var temporary: String?
            defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
            let path: String
            if let model {
                path = model
            } else {
                let directory = NSTemporaryDirectory() + "pixelgpt-bench-" + UUID().uuidString
                log("writing a random \(preset.rawValue) checkpoint to \(directory)")
                try RandomCheckpoint.write(config: .preset(preset), seed: 0, to: directory)
                temporary = directory
                path = directory
            }
            let opened = Date()
            let loaded = try PixelGPTModel.load(path: path)
            let openSeconds = Date().timeIntervalSince(opened)
            let config = loaded.model.config
            let inputs = try randomInputs(config)
            var times: [Double] = []
            for run in 0...repeats {
                let start = Date()
                _ = try loaded.model.forward(inputs, options: ForwardOptions(hiddenStates: false, lmHeads: false))
                let seconds = Date().timeIntervalSince(start)
                if run > 0 { times.append(seconds) }
                log(run == 0 ? "warm-up: \(String(format: "%.3f", seconds)) s" : "forward \(run): \(String(format: "%.3f", seconds)) s")
            }
            let median = times.sorted()[times.count / 2]
            let profile = KernelProfile()
            let profiledStart = Date()
            _ = try KernelProfile.$current.withValue(profile) {
                try loaded.model.forward(inputs, options: ForwardOptions(hiddenStates: false, lmHeads: false))
            }
            var kernelSeconds = profile.seconds
            kernelSeconds["other"] = max(0, Date().timeIntervalSince(profiledStart) - kernelSeconds.values.reduce(0, +))
            let patches = modality == .text ? 0 : seq
            let cost = ForwardCost(config: config, batch: batch, length: inputs.sequenceLength, patches: patches)
            let sgemm = cost.measureSGEMM()
            let sgemmRate = cost.productFlops / sgemm.seconds / 1e9
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return Report(model: model ?? "random \(preset.rawValue)", modality: modality.rawValue, batch: batch,
                          sequenceLength: inputs.sequenceLength, threads: threads, openSeconds: openSeconds,
                          forwardSecondsMedian: median, forwardSecondsAll: times,
                          tokensPerSecond: Double(batch * inputs.sequenceLength) / median, gflop: cost.totalFlops / 1e9,
                          gflopPerSecond: cost.totalFlops / median / 1e9, sgemmGflopPerSecond: sgemmRate,
                          ratioToSGEMM: cost.totalFlops / median / 1e9 / sgemmRate,
                          peakResidentMB: Double(usage.ru_maxrss) / 1024, openblasCore: BLASRuntime.coreName,
                          kernelSeconds: kernelSeconds)
        }
        if json {
            try printJSON(report)
            return
        }
        print(String(format: "%@, %@, batch %d x %d positions, %d threads (OpenBLAS %@)", report.model, report.modality,
                     report.batch, report.sequenceLength, report.threads, report.openblasCore))
        print(String(format: "open %.3f s; forward median %.3f s; %.0f tokens/s; %.1f GFLOP at %.1f GFLOP/s", report.openSeconds,
                     report.forwardSecondsMedian, report.tokensPerSecond, report.gflop, report.gflopPerSecond))
        print(String(format: "sgemm on the same shapes: %.1f GFLOP/s; forward / sgemm = %.2f; peak resident %.0f MB",
                     report.sgemmGflopPerSecond, report.ratioToSGEMM, report.peakResidentMB))
        let profiled = report.kernelSeconds.values.reduce(0, +)
        print("time per kernel (one profiled pass): " + report.kernelSeconds.sorted { $0.value > $1.value }
            .map { String(format: "%@ %.1f%%", $0.key, 100 * $0.value / max(profiled, 1e-9)) }.joined(separator: ", "))
    }

    /// Random inputs of the requested shape, every position attended (the worst case for the kernels).
    func randomInputs(_ config: PixelGPTConfig) throws -> ForwardInputs {
        var generator = SystemRandomNumberGenerator()
        let ids = InputArray(shape: [batch, seq], values: (0..<(batch * seq)).map { _ in Int.random(in: 3..<config.vocabSize, using: &generator) })
        let pixels = InputArray(shape: [batch, 3, 16, 16 * seq], values: (0..<(batch * 3 * 16 * 16 * seq)).map { _ in Float.random(in: 0...1, using: &generator) })
        switch modality {
        case .text: return try ForwardInputs(inputIds: ids)
        case .pixel: return try ForwardInputs(pixelValues: pixels)
        case .pair: return try ForwardInputs(inputIds: ids, pixelValues: pixels, patchAttentionMask: InputArray(shape: [batch, seq], values: [Float](repeating: 1, count: batch * seq)))
        }
    }
}
