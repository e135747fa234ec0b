import ArgumentParser
import Checkpoints
import Foundation
import SafeTensors

extension CheckpointConverter.Format: ExpressibleByArgument {}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a checkpoint between safetensors and HDF5, optionally to F16 or BF16, optionally sharded.",
        discussion: """
            SRC is a .safetensors or .h5 file, a sharded index, or a checkpoint directory (config.json and tokenizer \
            files are carried, torch_dtype updated). Streams tensor by tensor; writes aside and renames, so an \
            interrupted conversion leaves no DST. Provenance (source SHA-256, tool version, dtype policy) goes into \
            the output's metadata.
            """
    )

    @Argument(help: "Source checkpoint (file, index or directory).")
    var source: String

    @Argument(help: "Destination (must not exist). A directory when SRC is one or when sharding.")
    var destination: String

    @Option(help: "Output format: safetensors or hdf5 (default: from DST's extension, else safetensors).")
    var format: CheckpointConverter.Format?

    @Option(help: "Store floating-point tensors as f32, f16 or bf16 (round to nearest even). Default: unchanged.")
    var dtype: String?

    @Option(help: "Shard the weights into files of at most this size (e.g. 2GB, 500MB, 1GiB).")
    var maxShardSize: String?

    @Option(help: "gzip level 1-9 for HDF5 output (chunked, with shuffle). Default: contiguous, uncompressed.")
    var gzip: Int?

    @Flag(help: "Print a JSON summary on stdout.")
    var json = false

    func run() throws {
        let summary = try reportingErrors { () throws -> CheckpointConverter.Summary in
            var target: DType?
            if let dtype {
                guard let parsed = ["f32": DType.f32, "f16": .f16, "bf16": .bf16][dtype.lowercased()] else {
                    throw ValidationError("--dtype must be f32, f16 or bf16, not \(dtype)")
                }
                target = parsed
            }
            var shardBytes: Int?
            if let maxShardSize {
                guard let bytes = CheckpointConverter.parseSize(maxShardSize) else {
                    throw ValidationError("--max-shard-size: cannot read \"\(maxShardSize)\" as a size from 1 byte to \(Int.max) bytes (e.g. 2GB, 500MB)")
                }
                shardBytes = bytes
            }
            if let gzip, !(1...9).contains(gzip) { throw ValidationError("--gzip must be 1...9") }
            let started = Date()
            let options = CheckpointConverter.Options(format: format, dtype: target, maxShardBytes: shardBytes, gzipLevel: gzip,
                                                      toolVersion: PixelGPT.toolVersion)
            let summary = try CheckpointConverter.convert(from: source, to: destination, options: options)
            log("converted \(summary.tensors) tensors (\(summary.converted) to a new dtype, \(summary.bytes) bytes) to \(destination) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            return summary
        }
        if json {
            try printJSON(summary)
        } else {
            for file in summary.files { print(file) }
        }
    }
}
