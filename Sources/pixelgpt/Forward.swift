import ArgumentParser
import Checkpoints
import Foundation
import Numerics
import Model
import SafeTensors

extension PoolingRule: ExpressibleByArgument {}

/// The numerics contract (docs/numerics.md): inputs and outputs are safetensors files with fixed tensor names, so
/// a PyTorch user can produce and compare them directly.
struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the forward pass on tensors from a safetensors file and write the outputs as safetensors.",
        discussion: """
        Inputs: input_ids (I64/I32 [B,T]), attention_mask ([B,T]; [B,P] in pixel-only mode), pixel_values \
        (F32 [B,3,16,16P] in [0,1]), patch_attention_mask ([B,P], pair mode). Outputs (F32): last_hidden_state \
        [B,L,H]; token_logits [B,T,V] on the text positions and pixel_logits [B,P,768] on the pixel positions \
        when the checkpoint has those heads; pooled_logits [B,K] and pooled_index (I64 [B]) when it has \
        score.weight; hidden_states.0 (embeddings) ... hidden_states.N (last layer, before the final norm) \
        with --hidden-states.
        """
    )

    @Option(help: "Checkpoint directory (or weights file with an embedded config).")
    var model: String

    @Option(help: "Inputs, a .safetensors file.")
    var inputs: String

    @Option(help: "Where to write the outputs (.safetensors); written aside and renamed when complete.")
    var out: String

    @Flag(help: "Also write hidden_states.0 ... hidden_states.N.")
    var hiddenStates = false

    @Option(help: "Pooling for score: upstream (the original's pooling, batch-dependent in pair mode) or last-real-token.")
    var pooling: PoolingRule = .upstream

    @Option(help: "Kernel threads (default: the cores available, or OPENBLAS_NUM_THREADS). Outputs do not depend on it.")
    var threads: Int?

    func run() throws {
        try reportingErrors {
            if let threads {
                guard (1...1024).contains(threads) else { throw ValidationError("--threads \(threads): give 1 to 1024") }
                BLASRuntime.setThreads(threads)
            }
            let modelFiles = try CheckpointLocation.resolve(model).files().map { (role: "a file of --model", path: $0) }
            try refuseOverwriting(out, option: "--out", inputs: [(role: "--inputs", path: inputs)] + modelFiles)
            let loadStart = Date()
            let loaded = try PixelGPTModel.load(path: model)
            log("loaded \(model) in \(String(format: "%.2f", Date().timeIntervalSince(loadStart))) s; \(loaded.memorySummary)")
            let input = try ForwardContract.readInputs(path: inputs)
            let started = Date()
            let output = try loaded.model.forward(input, options: ForwardOptions(hiddenStates: hiddenStates, pooling: pooling))
            let seconds = Date().timeIntervalSince(started)
            log("forward (\(input.modality.rawValue), batch \(input.batchSize), length \(input.sequenceLength)): \(String(format: "%.3f", seconds)) s")
            try SafeTensorsWriter.write(ForwardContract.outputRecords(output, inputs: input), metadata: ["format": "pt"], to: out)
        }
    }
}
