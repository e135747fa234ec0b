import Foundation
import SafeTensors
import Testing
import TestSupport

/// `pixelgpt forward` end to end (DESIGN.md numerics contract): the outputs file of a golden case equals
/// the reference, and a bad inputs file gives a one-line error, exit status 1 and no output file.
@Suite struct ForwardCommandTests {
    /// The built tool sits in the products directory beside the test bundle (`swift test` builds it,
    /// since the command-line test target depends on it).
    static let executable: URL = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("pixelgpt").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("pixelgpt")
    }()

    @Test func writesTheContractOutputs() throws {
        let fixture = try #require(try GoldenFixtures.manifest().first { $0.checkpoint == "mha48_cls3" && $0.case == "pair_right_b3" })
        let directory = try TemporaryDirectory()
        let out = directory.file("out.safetensors")
        let result = try runProcess(Self.executable, ["forward", "--model", fixture.directory, "--inputs", fixture.inputsPath, "--out", out, "--hidden-states"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("forward (pair, batch 3"))
        #expect(result.stdout.isEmpty)
        let got = try readTensors(out), expected = try readTensors(fixture.expectedPath)
        #expect(Set(got.keys) == Set(expected.keys))
        for (name, reference) in expected {
            let mine = try #require(got[name])
            #expect(mine.shape == reference.shape)
            if let indices = reference.integers {
                #expect(mine.integers == indices)
            } else {
                #expect(relativeError(mine.floats, reference.floats) < 1e-4, "\(name)")
            }
        }
    }

    @Test func badInputsFailCleanly() throws {
        let directory = try TemporaryDirectory()
        let inputs = directory.file("in.safetensors"), out = directory.file("out.safetensors")
        try SafeTensorsWriter.write([TensorRecord(name: "pixel_values", dtype: .f32, shape: [1, 3, 16, 20], payload: .float32([Float](repeating: 0, count: 960)))], to: inputs)
        let result = try runProcess(Self.executable, ["forward", "--model", GoldenFixtures.root + "/gqa_causal", "--inputs", inputs, "--out", out])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(lines.count == 1 && lines[0].contains("width 20 is not a positive multiple"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
