import Foundation
import Support
import Model
import SafeTensors
import Testing
@testable import Checkpoints

/// Converting whole checkpoint directories: formats, precision, sharding, companions, provenance, atomicity.
@Suite struct ConversionTests {
    /// The tiny preset with a 256-token vocabulary and hidden size 32: the released layout in 300 KB, so that
    /// debug-build conversions stay fast.
    static let microConfig: PixelGPTConfig = {
        var config = PixelGPTConfig.preset(.tiny)
        (config.vocabSize, config.hiddenSize, config.intermediateSize) = (256, 32, 64)
        return config
    }()

    static func tinyCheckpoint(in dir: TemporaryDirectory, numLabels: Int? = nil) throws -> String {
        let path = dir.file("tiny")
        var config = microConfig
        if let numLabels { config = config.forSequenceClassification(numLabels: numLabels) }
        try RandomCheckpoint.write(config: config, seed: 5, to: path)
        try Data(#"{"add_bos_token": true}"#.utf8).write(to: URL(fileURLWithPath: path + "/tokenizer_config.json"))
        return path
    }

    /// Issue 18, item 3: a Hugging Face hub snapshot's files are relative symlinks into ../../blobs/; the
    /// converted directory held dangling symlinks for tokenizer.model and generation_config.json.
    @Test func hubSnapshotLinksAreCopiedAsFiles() throws {
        let dir = try TemporaryDirectory()
        let fm = FileManager.default
        let source = try Self.tinyCheckpoint(in: dir)
        try Data(#"{"bos_token_id": 1}"#.utf8).write(to: URL(fileURLWithPath: source + "/generation_config.json"))
        try Data([0x0A, 0x03, 0x61, 0x62, 0x63]).write(to: URL(fileURLWithPath: source + "/tokenizer.model"))
        let hub = dir.file("models--baidu--PixelGPT")
        let snapshot = hub + "/snapshots/0123abcd"
        try fm.createDirectory(atPath: hub + "/blobs", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: source) {
            try fm.moveItem(atPath: source + "/" + name, toPath: hub + "/blobs/blob-" + name)
            try fm.createSymbolicLink(atPath: snapshot + "/" + name, withDestinationPath: "../../blobs/blob-" + name)
        }
        let converted = dir.file("converted")
        _ = try CheckpointConverter.convert(from: snapshot, to: converted, options: .init(toolVersion: "test"))
        for name in ["tokenizer.model", "generation_config.json", "tokenizer_config.json"] {
            let type = try fm.attributesOfItem(atPath: converted + "/" + name)[.type] as? FileAttributeType
            #expect(type == .typeRegular, "\(name) is \(String(describing: type))")
            #expect(fm.contents(atPath: converted + "/" + name) == fm.contents(atPath: hub + "/blobs/blob-" + name), "\(name)")
        }
    }

    @Test(arguments: [CheckpointConverter.Format.safetensors, .hdf5])
    func directoryRoundTripIsLossless(_ format: CheckpointConverter.Format) throws {
        let dir = try TemporaryDirectory()
        let source = try Self.tinyCheckpoint(in: dir)
        let converted = dir.file("converted"), back = dir.file("back")
        let summary = try CheckpointConverter.convert(from: source, to: converted, options: .init(format: format, toolVersion: "test"))
        #expect(summary.files.contains(format == .hdf5 ? "model.h5" : "model.safetensors"))
        #expect(summary.files.contains("config.json") && summary.files.contains("tokenizer_config.json"))
        #expect(FileManager.default.contents(atPath: converted + "/tokenizer_config.json") == FileManager.default.contents(atPath: source + "/tokenizer_config.json"))
        _ = try CheckpointConverter.convert(from: converted, to: back, options: .init(format: .safetensors, toolVersion: "test"))
        let verdict = try CheckpointComparison.compare(source, back)
        #expect(verdict.passed && verdict.tensors.count == 26)
        let inspection = try CheckpointInspection.inspect(converted)
        #expect(inspection.weightsKind == (format == .hdf5 ? "hdf5" : "safetensors"))
        #expect(inspection.loading?.isLoadable == true)
        #expect(inspection.metadata?["pixelgpt.converted_by"] == "pixelgpt-swift test")
        #expect(inspection.metadata?["pixelgpt.source_sha256"]?.hasPrefix("model.safetensors:") == true)
    }

    /// f32 -> bf16 -> f32 stays within bf16 rounding, and verify says so: exact fails, rtol 2^-8 passes.
    @Test func bfloat16RoundTripIsWithinRounding() throws {
        let dir = try TemporaryDirectory()
        let source = try Self.tinyCheckpoint(in: dir)
        let bf16 = dir.file("bf16"), back = dir.file("back")
        _ = try CheckpointConverter.convert(from: source, to: bf16, options: .init(dtype: .bf16, toolVersion: "test"))
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bf16 + "/config.json"))) as? [String: Any])
        #expect(config["torch_dtype"] as? String == "bfloat16")
        #expect(try SafeTensorsFile(path: bf16 + "/model.safetensors").tensorInfos.allSatisfy { $0.dtype == .bf16 })
        _ = try CheckpointConverter.convert(from: bf16, to: back, options: .init(dtype: .f32, toolVersion: "test"))

        let exact = try CheckpointComparison.compare(back, source)
        #expect(!exact.passed)
        let changed = exact.tensors.filter { $0.maxAbsDiff > 0 }
        #expect(!changed.isEmpty && changed.allSatisfy { $0.maxRelDiff <= 0x1p-8 })
        let direct = try CheckpointComparison.compare(bf16, source)
        #expect(direct.tensors.allSatisfy { $0.roundingBound == 0x1p-8 && $0.withinRounding == true })
        #expect(try CheckpointComparison.compare(back, source, tolerance: Tolerance(.elementwise, atol: 0, rtol: 0x1p-8)).passed)
    }

    @Test(arguments: [CheckpointConverter.Format.safetensors, .hdf5])
    func shardedOutputReadsBackWhole(_ format: CheckpointConverter.Format) throws {
        let dir = try TemporaryDirectory()
        let source = try Self.tinyCheckpoint(in: dir)
        let sharded = dir.file("sharded")
        let maxShardBytes = 60_000
        let summary = try CheckpointConverter.convert(from: source, to: sharded, options: .init(format: format, maxShardBytes: maxShardBytes, toolVersion: "test"))
        let ext = format == .hdf5 ? "h5" : "safetensors"
        let shardFiles = summary.files.filter { $0.hasPrefix("model-") }
        #expect(shardFiles.count >= 3)
        #expect(shardFiles.allSatisfy { $0.hasSuffix("-of-0000\(shardFiles.count).\(ext)") })
        #expect(summary.files.contains(format == .hdf5 ? "model.h5.index.json" : "model.safetensors.index.json"))
        let inspection = try CheckpointInspection.inspect(sharded)
        #expect(inspection.weightsKind == "sharded-\(format == .hdf5 ? "hdf5" : "safetensors")")
        #expect(inspection.files == shardFiles)
        // Each shard holds at most maxShardBytes, unless a single tensor is larger (transformers' rule).
        for file in shardFiles {
            let inShard = inspection.tensors.filter { $0.file == file }
            #expect(inShard.count == 1 || inShard.reduce(0) { $0 + $1.bytes } <= maxShardBytes, "\(file)")
        }
        #expect(try CheckpointComparison.compare(sharded, source).passed)
        // A missing shard is named.
        try FileManager.default.removeItem(atPath: sharded + "/" + shardFiles[1])
        #expect { try CheckpointInspection.inspect(sharded) } throws: { "\($0)".contains(shardFiles[1]) && "\($0)".contains("missing") }
    }

    @Test func refusesBadSourcesAndDestinationsLeavingNothing() throws {
        let dir = try TemporaryDirectory()
        let source = try Self.tinyCheckpoint(in: dir)
        // Destination exists.
        #expect { try CheckpointConverter.convert(from: source, to: source, options: .init(toolVersion: "t")) } throws: { "\($0)".contains("destination exists") }
        // config.json that disagrees with the tensors: the names are listed.
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source + "/config.json"))) as! [String: Any]
        config["intermediate_size"] = 100
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: source + "/config.json"))
        #expect { try CheckpointConverter.convert(from: source, to: dir.file("out"), options: .init(toolVersion: "t")) } throws: {
            let text = "\($0)"
            return text.contains("mis-shaped") && text.contains("model.layers.0.mlp.gate_proj.weight is [64, 32], config says [100, 32]")
        }
        // Destination inside a missing directory.
        #expect(throws: (any Error).self) {
            try CheckpointConverter.convert(from: source + "/model.safetensors", to: dir.file("no/such/dir/x.safetensors"), options: .init(toolVersion: "t"))
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(left == ["tiny"], "left behind: \(left)")
    }

    /// A destination without room fails before writing, names the numbers, and leaves nothing, on a
    /// 128 KiB tmpfs (mounting needs root, as in CI; StagedOutputTests checks the rule without one).
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"), arguments: [CheckpointConverter.Format.safetensors, .hdf5])
    func fullDiskFailsCleanly(_ format: CheckpointConverter.Format) throws {
        let dir = try TemporaryDirectory()
        let source = try Self.tinyCheckpoint(in: dir)
        let small = dir.file("small")
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=128k", "tmpfs", small]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount -t tmpfs failed")
        defer {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = [small]
            try? unmount.run()
            unmount.waitUntilExit()
        }
        for destination in [small + "/out", small + "/out.file"] {
            #expect {
                try CheckpointConverter.convert(from: source, to: destination, options: .init(format: format, toolVersion: "t"))
            } throws: { error in
                let text = "\(error)"
                return text.contains("free") && !text.contains("\n")
            }
        }
        #expect {
            try CheckpointConverter.convert(from: source + "/model.safetensors", to: small + "/single", options: .init(format: format, toolVersion: "t"))
        } throws: { "\($0)".contains("free") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: small).isEmpty)
    }

    @Test func parsesShardSizes() {
        #expect(CheckpointConverter.parseSize("5GB") == 5_000_000_000)
        #expect(CheckpointConverter.parseSize("2GiB") == 2 << 30)
        #expect(CheckpointConverter.parseSize("500MB") == 500_000_000)
        #expect(CheckpointConverter.parseSize("1234") == 1234)
        #expect(CheckpointConverter.parseSize("lots") == nil)
        #expect(CheckpointConverter.parseSize("-1MB") == nil)
    }
}

@Suite struct LoadingReportTests {
    /// Bare ErniePixelModel names and a Llama lm_head map onto the canonical names through the table.
    @Test func mapsOtherArchitecturesNames() throws {
        let dir = try TemporaryDirectory()
        let source = try ConversionTests.tinyCheckpoint(in: dir)
        let file = try SafeTensorsFile(path: source + "/model.safetensors")
        let renamed = try file.tensorNames.map { name -> TensorRecord in
            let newName = name == "lm_token_head.weight" ? "lm_head.weight" : (name.hasPrefix("model.") ? String(name.dropFirst(6)) : name)
            return TensorRecord(copying: try file.tensor(named: name), name: newName)
        }
        try SafeTensorsWriter.write(renamed, to: dir.file("renamed.safetensors"))
        let report = LoadingReport.check(SafeTensorsWeights(try SafeTensorsFile(path: dir.file("renamed.safetensors"))), config: ConversionTests.microConfig)
        #expect(report.isLoadable)
        #expect(report.renamed.count == 25)  // the 24 model.* tensors and lm_head
        #expect(report.renamed.contains(.init(stored: "lm_head.weight", canonical: "lm_token_head.weight")))
        #expect(report.unexpected.isEmpty)
        // verify maps names too: the renamed file equals the original.
        #expect(try CheckpointComparison.compare(dir.file("renamed.safetensors"), source).passed)
    }

    @Test func classificationCheckpointsExpectAScoreHead() throws {
        let dir = try TemporaryDirectory()
        let source = try ConversionTests.tinyCheckpoint(in: dir, numLabels: 3)
        let inspection = try CheckpointInspection.inspect(source)
        let loading = try #require(inspection.loading)
        #expect(loading.architecture == "ErniePixelForSequenceClassification")
        #expect(loading.isLoadable && loading.unexpected.isEmpty)
        #expect(inspection.tensors.first { $0.name == "score.weight" }?.shape == [3, 32])
        #expect(!inspection.tensors.contains { $0.name.hasPrefix("lm_") })
        let config = try PixelGPTConfig.decode(json: Data(contentsOf: URL(fileURLWithPath: source + "/config.json")))
        #expect(config.numLabels == 3 && config.padTokenId == 2 && config.id2label?["2"] == "LABEL_2")
        // A released CausalLM file loaded for classification: lm heads unexpected, score missing.
        let other = try TemporaryDirectory()
        let causal = try SafeTensorsWeights(SafeTensorsFile(path: try ConversionTests.tinyCheckpoint(in: other) + "/model.safetensors"))
        let report = LoadingReport.check(causal, config: config)
        #expect(report.missing == ["score.weight"])
        #expect(report.unexpected == ["lm_pixel_head.weight", "lm_token_head.weight"])
    }
}

/// `verify` compares same-dtype tensors in their own type (the "Hostile inputs" issue, item 9): values that
/// Float32 cannot tell apart still differ.
@Suite struct SameDTypeComparisonTests {
    static func write(_ values: [(String, DType, [UInt8])], to path: String) throws {
        try SafeTensorsWriter.write(values.map { TensorRecord(name: $0.0, dtype: $0.1, shape: [$0.2.count / ($0.1.bitSize / 8)], payload: .bytes($0.2)) },
                                    metadata: ["format": "pt"], to: path)
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    @Test func differencesFloat32CannotHoldAreFound() throws {
        let dir = try TemporaryDirectory()
        let a = dir.file("a.safetensors"), b = dir.file("b.safetensors")
        try Self.write([("i32", .i32, Self.bytes([Int32(16_777_217), Int32.max])), ("i64", .i64, Self.bytes([Int64(1) << 62 + 1])),
                        ("u64", .u64, Self.bytes([UInt64.max])), ("f64", .f64, Self.bytes([1.0, 1e300])),
                        ("same", .i64, Self.bytes([Int64.min]))], to: a)
        try Self.write([("i32", .i32, Self.bytes([Int32(16_777_216), Int32.min])), ("i64", .i64, Self.bytes([Int64(1) << 62])),
                        ("u64", .u64, Self.bytes([UInt64.max - 1])), ("f64", .f64, Self.bytes([1.0 + 1e-12, 2e300])),
                        ("same", .i64, Self.bytes([Int64.min]))], to: b)
        let verdict = try CheckpointComparison.compare(a, b)
        #expect(!verdict.passed)
        let byName = Dictionary(uniqueKeysWithValues: verdict.tensors.map { ($0.name, $0) })
        #expect(byName["i32"]?.mismatches == 2 && byName["i32"]?.maxAbsDiff == 4_294_967_295)
        #expect(byName["i64"]?.mismatches == 1 && byName["i64"]?.maxAbsDiff == 1)
        #expect(byName["u64"]?.mismatches == 1 && byName["u64"]?.maxAbsDiff == 1)
        #expect(byName["f64"]?.mismatches == 2 && byName["f64"]?.maxAbsDiff == 1e300)
        #expect(byName["same"]?.passed == true)
        // A tolerance still applies, in the dtype's own arithmetic.
        #expect(try CheckpointComparison.compare(a, b, tolerance: Tolerance(.elementwise, atol: 5e300, rtol: 0)).tensors.first { $0.name == "f64" }?.passed == true)
    }
}
