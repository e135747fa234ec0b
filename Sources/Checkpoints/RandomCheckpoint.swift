import Foundation
import Model
import SafeTensors
import Support

/// Random-weight checkpoints in exactly the released layout (SPEC 2.1, 10): config.json,
/// generation_config.json and an F32 model.safetensors with `{"format": "pt"}` metadata. Weights follow
/// the upstream initialisation (N(0, initializer_range^2) for matrices, ones for norm gains, zeros for
/// biases) from a seeded generator, so the same preset and seed give the same bytes on every machine.
public enum RandomCheckpoint {
    /// Writes a checkpoint directory at `directory`, which must not exist or be empty. Everything is
    /// written into a temporary directory beside it and renamed into place at the end.
    @discardableResult
    public static func write(config: PixelGPTConfig, seed: UInt64, to directory: String) throws -> [String] {
        try config.validate()
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CheckpointError(path: directory, "exists and is not a directory") }
            guard (try fm.contentsOfDirectory(atPath: directory)).isEmpty else {
                throw CheckpointError(path: directory, "directory exists and is not empty")
            }
            try fm.removeItem(atPath: directory)
        }
        try fm.createDirectory(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try StagedOutput.commit(directory) { staging in
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: false)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(config).write(to: URL(fileURLWithPath: staging + "/config.json"))
            let generation = #"{"_from_model_config": true, "bos_token_id": \#(config.bosTokenId), "eos_token_id": \#(config.eosTokenId), "transformers_version": "4.36.2"}"#
            try Data((generation + "\n").utf8).write(to: URL(fileURLWithPath: staging + "/generation_config.json"))
            try SafeTensorsWriter.write(records(config: config, seed: seed), metadata: ["format": "pt"], to: staging + "/model.safetensors")
        }
        return ["config.json", "generation_config.json", "model.safetensors"].map { directory + "/" + $0 }
    }

    /// The tensors of `config`'s CausalLM state dict as streamed records (no tensor is held in memory).
    public static func records(config: PixelGPTConfig, seed: UInt64) -> [TensorRecord] {
        let std = Float(config.initializerRange)
        return config.stateDictParameters.map { spec in
            let payload: TensorPayload
            switch spec.initialization {
            case .ones: payload = .generated { _, chunk in chunk.update(repeating: 1) }
            case .zeros: payload = .generated { _, chunk in chunk.update(repeating: 0) }
            case .normal:
                let tensorSeed = seed ^ SplitMix64.seed(named: spec.name)
                payload = .generated { first, chunk in
                    SplitMix64.fillNormal(chunk, std: std, seed: tensorSeed, firstElement: first)
                }
            }
            return TensorRecord(name: spec.name, dtype: .f32, shape: spec.shape, payload: payload)
        }
    }
}
