import Foundation
import Support
import Model
import SafeTensors
import Testing
@testable import Checkpoints

@Suite struct RandomCheckpointTests {
    static func temporaryPath() -> String { NSTemporaryDirectory() + "pixelgpt-ckpt-" + UUID().uuidString }

    @Test func writesTheReleasedLayout() throws {
        let dir = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = PixelGPTConfig.preset(.tiny)
        try RandomCheckpoint.write(config: config, seed: 7, to: dir)
        let report = try CheckpointInspection.inspect(dir)
        #expect(report.kind == "directory")
        #expect(report.metadata == ["format": "pt"])
        #expect(report.companionFiles == ["config.json", "generation_config.json"])
        #expect(report.warnings.isEmpty)
        #expect(report.totals.parameters == config.causalLMParameters.reduce(0) { $0 + $1.elementCount })
        #expect(report.config?.expectedParameters == report.totals.parameters)
        #expect(Set(report.tensors.map(\.name)) == Set(config.causalLMParameters.map(\.name)))
        #expect(report.tensors.allSatisfy { $0.dtype == "F32" })

        let weights = try SafeTensorsFile(path: dir + "/model.safetensors")
        #expect(try weights.tensor(named: "model.norm.weight").float32Values().allSatisfy { $0 == 1 })
        #expect(try weights.tensor(named: "model.embed_patches.patch_embeddings.projection.bias").float32Values().allSatisfy { $0 == 0 })
        let matrix = try weights.tensor(named: "model.embed_tokens.weight").float32Values()
        let mean = matrix.reduce(0, +) / Float(matrix.count)
        let std = (matrix.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(matrix.count)).squareRoot()
        #expect(abs(mean) < 1e-3 && abs(std - 0.02) < 5e-4, "mean \(mean) std \(std)")

        let decoded = try PixelGPTConfig.decode(json: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json")))
        #expect(decoded == config)
    }

    /// The same seed gives the same bytes; values do not depend on how the writer chunks them.
    @Test func isDeterministic() throws {
        let config = PixelGPTConfig.preset(.tiny)
        let a = Self.temporaryPath(), b = Self.temporaryPath(), c = Self.temporaryPath()
        defer { for d in [a, b, c] { try? FileManager.default.removeItem(atPath: d) } }
        try RandomCheckpoint.write(config: config, seed: 1, to: a)
        try RandomCheckpoint.write(config: config, seed: 1, to: b)
        try RandomCheckpoint.write(config: config, seed: 2, to: c)
        let bytes = { (d: String) in try Data(contentsOf: URL(fileURLWithPath: d + "/model.safetensors")) }
        #expect(try bytes(a) == bytes(b))
        #expect(try bytes(a) != bytes(c))

        var whole = [Float](repeating: 0, count: 1000)
        var pieces = [Float](repeating: 0, count: 1000)
        whole.withUnsafeMutableBufferPointer { SplitMix64.fillNormal($0, std: 1, seed: 9, firstElement: 0) }
        pieces.withUnsafeMutableBufferPointer { p in
            for start in stride(from: 0, to: 1000, by: 333) {
                let end = min(1000, start + 333)
                SplitMix64.fillNormal(UnsafeMutableBufferPointer(rebasing: p[start..<end]), std: 1, seed: 9, firstElement: start)
            }
        }
        #expect(whole == pieces)
    }

    @Test func refusesANonEmptyDirectory() throws {
        let dir = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/keep.txt"))
        #expect(throws: CheckpointError.self) { try RandomCheckpoint.write(config: .preset(.tiny), seed: 0, to: dir) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["keep.txt"])
    }

    @Test func inspectReportsConfigProblemsWithTheKey() throws {
        let dir = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RandomCheckpoint.write(config: .preset(.tiny), seed: 0, to: dir)
        try Data(#"{"hidden_size": "wide"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        #expect { try CheckpointInspection.inspect(dir) } throws: { error in
            "\(error)".contains("config.json") && "\(error)".contains("hidden_size")
        }
        try FileManager.default.removeItem(atPath: dir + "/model.safetensors")
        #expect { try CheckpointInspection.inspect(dir) } throws: { "\($0)".contains("no weights found") }
    }
}
