import Checkpoints
import Foundation
import Numerics
import Model
import SafeTensors
import Testing
import TestSupport

/// `pixelgpt forward` end to end (docs/numerics.md): the outputs file of a golden case equals
/// the reference, and a bad inputs file gives a one-line error, exit status 1 and no output file.
@Suite struct ForwardCommandTests {
    static var executable: URL { BuiltTool.pixelgpt }

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

    /// The same file with OPENBLAS_NUM_THREADS 1 and 2 and --threads 4 gives the same bytes, and a row
    /// of the batch run alone (cut to its own length) gives bit for bit the outputs it had in the batch.
    @Test func outputsDoNotDependOnThreadsOrBatch() throws {
        let fixture = try #require(try GoldenFixtures.manifest().first { $0.checkpoint == "gqa_causal" && $0.case == "text_right_b3" })
        let directory = try TemporaryDirectory()
        func forward(_ inputs: String, _ out: String, environment: [String] = [], threads: [String] = []) throws -> Data {
            let arguments = environment + [Self.executable.path, "forward", "--model", fixture.directory, "--inputs", inputs, "--out", out, "--hidden-states"] + threads
            let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), arguments)
            #expect(result.status == 0, "\(result.stderr)")
            return try Data(contentsOf: URL(fileURLWithPath: out))
        }
        let one = try forward(fixture.inputsPath, directory.file("1.safetensors"), environment: ["OPENBLAS_NUM_THREADS=1"])
        #expect(try forward(fixture.inputsPath, directory.file("2.safetensors"), environment: ["OPENBLAS_NUM_THREADS=2"]) == one)
        #expect(try forward(fixture.inputsPath, directory.file("4.safetensors"), threads: ["--threads", "4"]) == one)

        // Row 1 alone, without its padding.
        let batch = try ForwardContract.readInputs(path: fixture.inputsPath)
        let t = batch.textLength, row = 1
        let length = Int(batch.textMask[(row * t)..<((row + 1) * t)].reduce(0, +))
        let alone = try ForwardInputs(inputIds: InputArray(shape: [1, length], values: Array(batch.inputIds[(row * t)..<(row * t + length)])))
        let aloneInputs = directory.file("row.inputs.safetensors")
        try SafeTensorsWriter.write(NumericsProbe.inputRecords(.init(name: "", inputs: alone)), metadata: ["format": "pt"], to: aloneInputs)
        _ = try forward(aloneInputs, directory.file("row.safetensors"), environment: ["OPENBLAS_NUM_THREADS=2"])
        let inBatch = try readTensors(directory.file("1.safetensors")), single = try readTensors(directory.file("row.safetensors"))
        for name in single.keys where name.hasPrefix("hidden_states.") || name == "last_hidden_state" || name == "token_logits" {
            let a = try #require(single[name]), b = try #require(inBatch[name])
            let width = a.shape.last!
            let rows = Array(b.floats[(row * t * width)..<((row * t + length) * width)])
            #expect(a.floats.count == rows.count && zip(a.floats, rows).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(name)")
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
