import ArgumentParser
import Checkpoints
import Foundation
import Support
import Model

extension Model.Modality: ExpressibleByArgument {}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the forward pass and hold it against OpenBLAS sgemm on the model's own matrix shapes.",
        discussion: """
            Writes a random checkpoint of the preset to a temporary directory (or uses --model), opens it, runs \
            one warm-up and --repeats timed forward passes on random inputs, and after each pass runs sgemm on \
            every projection shape as many times as the pass does, so that both last about as long and see the \
            same load on a shared machine; ratio_to_sgemm is the median of the per-pass ratios. FLOPs: 2·(B·L)·(in·out) per projection and layer, plus causal \
            attention 2·B·L²·H per layer; heads are not applied. With --real-patches N (pixel), every row \
            attends N+1 of the --seq patches and the timed pass is the evaluation's pooled path, which runs \
            only the positions the pooled states need; FLOPs then count those positions.
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

    @Option(help: "Threads: OpenBLAS's in the large GEMMs, Swift workers in the kernels that split themselves.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Timed forward passes (the median is reported).")
    var repeats: Int = 3

    @Option(help: "Pixel only: real patches per row (the mask attends N+1, the end patch included); times the pooled evaluation path.")
    var realPatches: Int?

    @Flag(help: "Print the measurements as JSON (schema pixelgpt.bench, version 3).")
    var json = false

    struct Report: Encodable {
        let schema = "pixelgpt.bench"
        let version = 3
        let model: String
        let modality: String
        let batch: Int
        let sequenceLength: Int
        /// "forward" (every position, the numerics contract's pass) or "pooled" (--real-patches).
        let path: String
        let realPatches: Int?
        /// Positions per row the timed pass computed.
        let positionsRun: Int
        let threads: Int
        let openSeconds: Double
        let forwardSecondsMedian: Double
        let forwardSecondsAll: [Double]
        let tokensPerSecond: Double
        let gflop: Double
        let gflopPerSecond: Double
        let sgemmGflopPerSecond: Double
        /// sgemm GFLOP/s per projection shape (median over the passes).
        let sgemmShapes: [String: Double]
        let ratioToSGEMM: Double
        let ratiosAll: [Double]
        let peakResidentMB: Double
        let weightMB: Double
        let activationMB: Double
        let openblasCore: String
        /// The instruction set of the forward pass's own GEMM (the sgemm yardstick is OpenBLAS's).
        let gemmInstructionSet: String
        /// Seconds per kernel in one extra, profiled forward pass; "other" is the rest (embeddings, copies).
        let kernelSeconds: [String: Double]

        enum CodingKeys: String, CodingKey {
            case schema, version, model, modality, batch, path, threads, gflop
            case sequenceLength = "sequence_length", realPatches = "real_patches", positionsRun = "positions_run"
            case openSeconds = "open_seconds"
            case forwardSecondsMedian = "forward_seconds_median", forwardSecondsAll = "forward_seconds_all"
            case tokensPerSecond = "tokens_per_second", gflopPerSecond = "gflop_per_second"
            case sgemmGflopPerSecond = "sgemm_gflop_per_second", sgemmShapes = "sgemm_gflop_per_second_by_shape"
            case ratioToSGEMM = "ratio_to_sgemm", ratiosAll = "ratio_to_sgemm_all"
            case peakResidentMB = "peak_resident_mb", weightMB = "weight_mb", activationMB = "activation_mb"
            case openblasCore = "openblas_core", kernelSeconds = "kernel_seconds", gemmInstructionSet = "gemm_instruction_set"
        }
    }

    func run() throws {
        let report = try reportingErrors { () throws -> Report in
            guard batch > 0, seq > 0, repeats > 0, threads > 0 else { throw ValidationError("--batch, --seq, --repeats and --threads must be positive") }
            if let realPatches {
                guard modality == .pixel else { throw ValidationError("--real-patches needs --modality pixel") }
                guard (0..<seq).contains(realPatches) else { throw ValidationError("--real-patches must be in 0..<--seq (\(seq)): the end patch needs a slot") }
            }
            // Sizes first, before a temporary checkpoint exists: --batch and --seq alone can ask for more
            // memory than any machine has. The random inputs hold pixels in every modality.
            func checkSizes(_ config: PixelGPTConfig) throws {
                do {
                    try ResourceLimits.checkForward(config: config, batch: batch, patches: seq, tokens: modality == .pixel ? 0 : seq,
                                                    hiddenStates: false, lmHeads: false)
                } catch {
                    throw ValidationError("--batch \(batch) --seq \(seq): \(error)")
                }
            }
            if model == nil { try checkSizes(.preset(preset)) }
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
            let model = loaded.model, config = model.config
            try checkSizes(config)
            let inputs = try randomInputs(config)
            // The pass to time: the full forward, or the evaluation's pooled path (SPEC 4 pooling index).
            let pooled = realPatches.map { _ in Pooling.poolingIndex(inputs, padTokenId: model.padTokenId) }
            let pass: () throws -> Void = {
                if let pooled {
                    _ = try model.pooledHiddenStates(inputs, at: pooled)
                } else {
                    _ = try model.forward(inputs, options: ForwardOptions(hiddenStates: false, lmHeads: false))
                }
            }
            let positionsRun = realPatches.map { $0 + 1 } ?? inputs.sequenceLength
            let patches = modality == .text ? 0 : positionsRun
            let cost = ForwardCost(config: config, batch: batch, length: positionsRun, patches: modality == .pair ? seq : patches)
            let warmUpStart = Date()
            try pass()
            log("warm-up: \(String(format: "%.3f", Date().timeIntervalSince(warmUpStart))) s")
            // Peak RSS of the pass itself, read before the sgemm yardstick allocates its own matrices.
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            let yardstick = SGEMMYardstick(cost.products)
            var times: [Double] = [], sgemmTimes: [Double] = [], shapeTimes: [[Double]] = []
            for run in 1...repeats {
                let start = Date()
                try pass()
                let seconds = Date().timeIntervalSince(start)
                times.append(seconds)
                shapeTimes.append(yardstick.timeEachProduct())
                sgemmTimes.append(yardstick.timeForwardProducts())
                log("pass \(run): \(String(format: "%.3f", seconds)) s, sgemm on its shapes \(String(format: "%.3f", sgemmTimes.last!)) s")
            }
            func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
            let profile = KernelProfile()
            let profiledStart = Date()
            try KernelProfile.$current.withValue(profile) { try pass() }
            var kernelSeconds = profile.seconds
            kernelSeconds["other"] = max(0, Date().timeIntervalSince(profiledStart) - kernelSeconds.values.reduce(0, +))
            let forwardMedian = median(times)
            let ratios = zip(times, sgemmTimes).map { forward, sgemm in (cost.totalFlops / forward) / (cost.productFlops / sgemm) }
            var shapes: [String: Double] = [:]
            for (p, product) in cost.products.enumerated() {
                shapes[product.name] = product.flops / Double(product.count) / median(shapeTimes.map { $0[p] }) / 1e9
            }
            let weightBytes = model.weights.allTensors.reduce(0.0) { $0 + 4 * Double($1.elementCount) }
            return Report(model: self.model ?? "random \(preset.rawValue)", modality: modality.rawValue, batch: batch,
                          sequenceLength: inputs.sequenceLength, path: pooled == nil ? "forward" : "pooled", realPatches: realPatches,
                          positionsRun: positionsRun, threads: threads, openSeconds: openSeconds,
                          forwardSecondsMedian: forwardMedian, forwardSecondsAll: times,
                          tokensPerSecond: Double(batch * positionsRun) / forwardMedian, gflop: cost.totalFlops / 1e9,
                          gflopPerSecond: cost.totalFlops / forwardMedian / 1e9,
                          sgemmGflopPerSecond: cost.productFlops / median(sgemmTimes) / 1e9, sgemmShapes: shapes,
                          ratioToSGEMM: median(ratios), ratiosAll: ratios,
                          peakResidentMB: Double(usage.ru_maxrss) / 1024, weightMB: weightBytes / 1_048_576,
                          activationMB: cost.activationBytes / 1_048_576, openblasCore: BLASRuntime.coreName, gemmInstructionSet: BLASRuntime.gemmInstructionSet,
                          kernelSeconds: kernelSeconds)
        }
        if json {
            try printJSON(report)
            return
        }
        print(String(format: "%@, %@, batch %d x %d positions (%@ pass, %d run per row), %d threads (GEMM %@; yardstick OpenBLAS %@)", report.model, report.modality,
                     report.batch, report.sequenceLength, report.path, report.positionsRun, report.threads, report.gemmInstructionSet, report.openblasCore))
        print(String(format: "open %.3f s; forward median %.3f s; %.0f tokens/s; %.1f GFLOP at %.1f GFLOP/s", report.openSeconds,
                     report.forwardSecondsMedian, report.tokensPerSecond, report.gflop, report.gflopPerSecond))
        print(String(format: "sgemm on the same shapes: %.1f GFLOP/s; forward / sgemm = %.2f (per pass: %@)", report.sgemmGflopPerSecond,
                     report.ratioToSGEMM, report.ratiosAll.map { String(format: "%.2f", $0) }.joined(separator: " ")))
        print(String(format: "peak resident %.0f MB; weights %.0f MB + activations %.0f MB", report.peakResidentMB, report.weightMB, report.activationMB))
        let profiled = report.kernelSeconds.values.reduce(0, +)
        print("time per kernel (one profiled pass): " + report.kernelSeconds.sorted { $0.value > $1.value }
            .map { String(format: "%@ %.1f%%", $0.key, 100 * $0.value / max(profiled, 1e-9)) }.joined(separator: ", "))
    }

    /// Random inputs of the requested shape, every position attended (the worst case for the kernels), or
    /// with --real-patches the first N+1 patches of each row (SPEC 5.5 mask).
    func randomInputs(_ config: PixelGPTConfig) throws -> ForwardInputs {
        var generator = SplitMix64(state: 0x5EED)   // the system generator costs a syscall per value
        let ids = InputArray(shape: [batch, seq], values: (0..<(batch * seq)).map { _ in Int.random(in: 3..<config.vocabSize, using: &generator) })
        let pixels = InputArray(shape: [batch, 3, 16, 16 * seq], values: (0..<(batch * 3 * 16 * 16 * seq)).map { _ in Float.random(in: 0...1, using: &generator) })
        switch modality {
        case .text: return try ForwardInputs(inputIds: ids)
        case .pixel:
            let attended = realPatches.map { $0 + 1 } ?? seq
            let mask = (0..<(batch * seq)).map { Float($0 % seq < attended ? 1 : 0) }
            return try ForwardInputs(attentionMask: InputArray(shape: [batch, seq], values: mask), pixelValues: pixels)
        case .pair: return try ForwardInputs(inputIds: ids, pixelValues: pixels, patchAttentionMask: InputArray(shape: [batch, seq], values: [Float](repeating: 1, count: batch * seq)))
        }
    }
}
