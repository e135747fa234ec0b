import Foundation
import Support
import Model
import SafeTensors
import Testing
import Checkpoints
@testable import Numerics

/// `pixelgpt numerics`: record, check and diff activations layer by layer (docs/numerics.md).
@Suite struct NumericsTests {
    /// Three decoder layers, so that a perturbation in the middle layer has a clean layer before and after
    /// it; vocabulary 256 and hidden size 96 (wider than the 64-value projection, so that summary storage
    /// projects the hidden states) keep debug-build forward passes in milliseconds.
    static let config: PixelGPTConfig = {
        var config = PixelGPTConfig.preset(.tiny)
        (config.vocabSize, config.hiddenSize, config.intermediateSize, config.numHiddenLayers) = (256, 96, 128, 3)
        return config
    }()
    static let seed: UInt64 = 11

    static func checkpoint(in dir: TemporaryDirectory, _ name: String = "model", numLabels: Int? = nil) throws -> String {
        let path = dir.file(name)
        try RandomCheckpoint.write(config: numLabels.map { config.forSequenceClassification(numLabels: $0) } ?? config, seed: seed, to: path)
        return path
    }

    static func record(_ model: String, in dir: TemporaryDirectory, storage: NumericsStorage = .full, name: String = "baseline.safetensors") throws -> String {
        let out = dir.file(name)
        let probe = try NumericsProbe.synthetic(vocabSize: config.vocabSize)
        try NumericsRecorder.record(modelPath: model, probe: probe, storage: storage, toolVersion: "test", to: out)
        return out
    }

    /// A copy of `source` whose `tensor` has element `index` multiplied by `factor`.
    static func perturbed(_ source: String, tensor: String, index: Int = 0, factor: Float, to path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source + "/config.json", toPath: path + "/config.json")
        let file = try SafeTensorsFile(path: source + "/model.safetensors")
        var found = false
        let records = try file.tensorNames.map { name in
            let view = try file.tensor(named: name)
            guard name == tensor else { return TensorRecord(copying: view) }
            found = true
            var values = try view.float32Values()
            values[index] *= factor
            return TensorRecord(name: name, dtype: .f32, shape: view.shape, payload: .float32(values))
        }
        #expect(found, "no tensor \(tensor)")
        try SafeTensorsWriter.write(records, metadata: ["format": "pt"], to: path + "/model.safetensors")
    }

    static func error(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    // MARK: - record and check

    @Test(arguments: [nil, 3] as [Int?])
    func recordingAndCheckingTheSameCheckpointPassesExact(_ numLabels: Int?) throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir, numLabels: numLabels)
        let baseline = try Self.record(model, in: dir)
        let report = try NumericsCheck.run(modelPath: model, baselinePath: baseline, tolerance: .exact, toolVersion: "test")
        #expect(report.passed && report.firstFailure == nil && report.firstDifference == nil)
        #expect(report.tensors.allSatisfy { $0.maxAbsDiff == 0 && $0.cosine == 1 })
        // Every stage of the network in forward order, each from all three groups where it applies.
        let layers = (0..<Self.config.numHiddenLayers).map { "model.layers.\($0)" }
        let heads = numLabels == nil ? ["lm_token_head", "lm_pixel_head"] : ["score"]
        #expect(report.stages.map(\.stage) == ["embeddings"] + layers + ["model.norm"] + heads)
        #expect(report.stages.first { $0.stage == "model.layers.1" }?.tensors == 3)
        #expect(Set(report.tensors.map(\.group)) == ["text", "pixel", "pair"])
        if numLabels != nil { #expect(report.tensors.contains { $0.name == "pair.pooled_index" }) }
        // The environment is recorded.
        let metadata = try SafeTensorsFile(path: baseline).metadata ?? [:]
        for key in ["numerics.tool_version", "numerics.blas_threads", "numerics.cpu", "numerics.openblas_config", "numerics.openblas_core",
                    "numerics.weight_dtype", "numerics.config_sha256"] {
            #expect(!(metadata[key] ?? "").isEmpty, "metadata \(key)")
        }
        #expect(metadata["numerics.weight_dtype"] == "F32")
    }

    @Test func bf16CopyPassesBF16AndFailsExactNamingTheFirstDivergingStage() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        let baseline = try Self.record(model, in: dir)
        let bf16 = dir.file("bf16")
        _ = try CheckpointConverter.convert(from: model, to: bf16, options: .init(dtype: .bf16, toolVersion: "test"))
        let exact = try NumericsCheck.run(modelPath: bf16, baselinePath: baseline, tolerance: .exact, toolVersion: "test")
        #expect(!exact.passed)
        // The token embedding table itself is rounded, so the embeddings are the first stage to move.
        #expect(exact.firstFailure == "embeddings" && exact.firstDifference == "embeddings")
        #expect(exact.environmentA["numerics.weight_dtype"] == "BF16" && exact.environmentB["numerics.weight_dtype"] == "F32")
        let loose = try NumericsCheck.run(modelPath: bf16, baselinePath: baseline, tolerance: .bf16, toolVersion: "test")
        #expect(loose.passed && loose.firstFailure == nil)
        // BF16 keeps 8 significant bits: the outputs move by more than F32 noise and by less than the preset.
        #expect(loose.stages.allSatisfy { $0.relative > Tolerance.f32.rtol && $0.relative <= Tolerance.bf16.rtol })
        let f32 = try NumericsCheck.run(modelPath: bf16, baselinePath: baseline, tolerance: .f32, toolVersion: "test")
        #expect(!f32.passed)
    }

    @Test(arguments: [0, 1, 2], [NumericsStorage.full, .summary])
    func perturbedLayerIsTheFirstOutOfTolerance(_ k: Int, _ storage: NumericsStorage) throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        let baseline = try Self.record(model, in: dir, storage: storage)
        let broken = dir.file("perturbed")
        try Self.perturbed(model, tensor: "model.layers.\(k).mlp.down_proj.weight", index: 5, factor: 3, to: broken)
        // One weight of a random checkpoint moves the outputs by ~1e-3: far beyond f32 noise, within BF16's.
        for tolerance in [Tolerance.exact, .f32] {
            let report = try NumericsCheck.run(modelPath: broken, baselinePath: baseline, tolerance: tolerance, toolVersion: "test")
            #expect(!report.passed)
            #expect(report.firstFailure == "model.layers.\(k)" && report.firstFailureLayer == k, "\(tolerance.name)")
            // Before layer k nothing moved at all.
            let before = report.stages.prefix { $0.stage != "model.layers.\(k)" }
            #expect(before.count == k + 1 && before.allSatisfy { $0.maxAbsDiff == 0 })
        }
    }

    @Test func summaryStorageIsSmallerAndChecksExact() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        let full = try Self.record(model, in: dir, storage: .full, name: "full.safetensors")
        let summary = try Self.record(model, in: dir, storage: .summary, name: "summary.safetensors")
        let fullFile = try SafeTensorsFile(path: full), summaryFile = try SafeTensorsFile(path: summary)
        #expect(summaryFile.tensorNames.contains("text.hidden_states.2.projection") && summaryFile.tensorNames.contains("text.hidden_states.2.summary"))
        #expect(!summaryFile.tensorNames.contains("text.hidden_states.2"))
        #expect(summaryFile.metadata?["numerics.storage"] == "summary" && fullFile.metadata?["numerics.storage"] == "full")
        // [mean, rms, max-abs] of the full tensor.
        let state = try fullFile.tensor(named: "text.hidden_states.2").float32Values()
        let stats = try summaryFile.tensor(named: "text.hidden_states.2.summary").float32Values()
        #expect(stats == NumericsRecorder.summary(state))
        #expect(stats[2] == state.map { abs($0) }.max())
        #expect(try NumericsCheck.run(modelPath: model, baselinePath: summary, tolerance: .exact, toolVersion: "test").passed)
        // A full dump diffs against a summary baseline through the same summaries and projections.
        let diff = try NumericsReport.compare(try NumericsDump.read(path: full), try NumericsDump.read(path: summary), tolerance: .exact)
        #expect(diff.passed && diff.onlyInA.isEmpty && diff.onlyInB.isEmpty)
        #expect(diff.tensors.contains { $0.name == "text.hidden_states.2.projection" } && !diff.tensors.contains { $0.name == "text.hidden_states.2" })
    }

    @Test func projectionKeepsNormsAndIsLinear() {
        let width = 96
        let a = (0..<(2 * width)).map { Float(sin(Double($0))) }, b = (0..<(2 * width)).map { Float(cos(Double($0) * 0.7)) }
        let pa = NumericsRecorder.project(a, width: width, seed: 1), pb = NumericsRecorder.project(b, width: width, seed: 1)
        let pSum = NumericsRecorder.project(zip(a, b).map { $0 + $1 }, width: width, seed: 1)
        #expect(pa.count == 2 * NumericsRecorder.projectionWidth)
        #expect(zip(pSum, zip(pa, pb)).allSatisfy { abs($0 - ($1.0 + $1.1)) <= 1e-5 })
        func norm(_ x: ArraySlice<Float>) -> Float { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let ratio = norm(pa[0..<64]) / norm(a[0..<width])
        #expect(ratio > 0.6 && ratio < 1.4)
        #expect(NumericsRecorder.project(a, width: width, seed: 2) != pa)
    }

    // MARK: - The committed baseline: CI fails when outputs move beyond the f32 preset

    static let fixture = Fixtures.path("numerics/micro-synthetic.baseline.safetensors")

    /// Set PIXELGPT_RECORD_NUMERICS_FIXTURE=1 to re-record it (scripts/numerics_record_fixture.sh), only after
    /// a change that is meant to move the outputs.
    @Test func committedBaselineStillHolds() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        if ProcessInfo.processInfo.environment["PIXELGPT_RECORD_NUMERICS_FIXTURE"] == "1" {
            try FileManager.default.createDirectory(atPath: Fixtures.path("numerics"), withIntermediateDirectories: true)
            try NumericsRecorder.record(modelPath: model, probe: try NumericsProbe.synthetic(vocabSize: Self.config.vocabSize),
                                        storage: .full, toolVersion: "fixture", to: Self.fixture)
        }
        let report = try NumericsCheck.run(modelPath: model, baselinePath: Self.fixture, tolerance: .f32, toolVersion: "test")
        let passed = report.passed
        let relative = report.stages.map { "\($0.stage) \(String(format: "%.2e", $0.relative))" }.joined(separator: ", ")
        #expect(passed, "outputs moved beyond the f32 preset (rtol \(Tolerance.f32.rtol)), first at \(report.firstFailure ?? "-"); relative: \(relative)")
        // Embeddings, every layer, the final norm and both heads were compared.
        #expect(report.stages.count == Self.config.numHiddenLayers + 4 && report.onlyInA.isEmpty && report.onlyInB.isEmpty)
    }

    // MARK: - diff

    /// What `pixelgpt forward --hidden-states` writes for `inputs`, bare contract names.
    static func forwardDump(_ model: String, _ inputs: ForwardInputs, to path: String, perturb: String? = nil) throws {
        let loaded = try PixelGPTModel.load(path: model)
        let output = try loaded.model.forward(inputs, options: ForwardOptions(hiddenStates: true))
        let records = ForwardContract.outputRecords(output, inputs: inputs).map { record -> TensorRecord in
            guard record.name == perturb, case .float32(var values) = record.payload else { return record }
            values[values.count / 2] += 0.5
            return TensorRecord(name: record.name, dtype: .f32, shape: record.shape, payload: .float32(values))
        }
        try SafeTensorsWriter.write(records, metadata: ["format": "pt"], to: path)
    }

    @Test func diffOfTwoDumpsNamesTheFirstDifferingLayer() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        let inputs = try #require(try NumericsProbe.synthetic(vocabSize: Self.config.vocabSize).groups.first { $0.name == "text" }).inputs
        let a = dir.file("a.safetensors"), b = dir.file("b.safetensors"), c = dir.file("c.safetensors")
        try Self.forwardDump(model, inputs, to: a)
        try Self.forwardDump(model, inputs, to: b)
        try Self.forwardDump(model, inputs, to: c, perturb: "hidden_states.2")
        let same = try NumericsReport.compare(try NumericsDump.read(path: a), try NumericsDump.read(path: b), tolerance: .exact)
        #expect(same.passed && same.tensors.count == 6 && same.tensors.allSatisfy { $0.group.isEmpty })
        let moved = try NumericsReport.compare(try NumericsDump.read(path: c), try NumericsDump.read(path: a), tolerance: .f32)
        #expect(!moved.passed && moved.firstFailure == "model.layers.1" && moved.firstFailureLayer == 1)
        let stage = try #require(moved.stages.first { $0.stage == "model.layers.1" })
        #expect(abs(stage.maxAbsDiff - 0.5) < 1e-5 && stage.worst == "hidden_states.2" && stage.cosine < 1)
        // Only that tensor was edited: later stages agree again.
        #expect(moved.stages.filter { $0.stage != "model.layers.1" }.allSatisfy { $0.passed })

        // A baseline recorded on a probe file with bare names diffs against the forward dump directly.
        let probeFile = dir.file("probe.safetensors")
        try SafeTensorsWriter.write(NumericsProbe.inputRecords(.init(name: "", inputs: inputs)), to: probeFile)
        let baseline = dir.file("bare.baseline.safetensors")
        try NumericsRecorder.record(modelPath: model, probe: try NumericsProbe.read(path: probeFile), storage: .full, toolVersion: "test", to: baseline)
        let againstForward = try NumericsReport.compare(try NumericsDump.read(path: a), try NumericsDump.read(path: baseline), tolerance: .exact)
        #expect(againstForward.passed && againstForward.tensors.count == 6)
    }

    // MARK: - bad inputs: one-line errors naming the file and tensor

    @Test func badInputsGiveOneLineErrors() throws {
        let dir = try TemporaryDirectory()
        let model = try Self.checkpoint(in: dir)
        let baseline = try Self.record(model, in: dir)
        func expectError(_ fragments: [String], _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
            let message = Self.error(body)
            #expect(message != nil, sourceLocation: sourceLocation)
            guard let message else { return }
            #expect(!message.contains("\n"), "\(message)", sourceLocation: sourceLocation)
            for fragment in fragments { #expect(message.contains(fragment), "\(message)", sourceLocation: sourceLocation) }
        }

        // A baseline of another config.
        var other = Self.config
        other.numHiddenLayers = 2
        let otherModel = dir.file("other")
        try RandomCheckpoint.write(config: other, seed: Self.seed, to: otherModel)
        expectError([baseline, "another config", "layers 3", "layers 2"]) {
            _ = try NumericsCheck.run(modelPath: otherModel, baselinePath: baseline, tolerance: .exact, toolVersion: "test")
        }

        // Missing tensors: a baseline without one of its layers.
        let file = try SafeTensorsFile(path: baseline)
        let trimmed = dir.file("trimmed.safetensors")
        try SafeTensorsWriter.write(try file.tensorNames.filter { $0 != "pixel.hidden_states.2" }.map { TensorRecord(copying: try file.tensor(named: $0)) },
                                    metadata: file.metadata, to: trimmed)
        expectError(["pixel.hidden_states.2", "no counterpart"]) {
            _ = try NumericsCheck.run(modelPath: model, baselinePath: trimmed, tolerance: .exact, toolVersion: "test")
        }

        // Wrong shapes.
        let reshaped = dir.file("reshaped.safetensors")
        try SafeTensorsWriter.write(try file.tensorNames.map { name in
            let view = try file.tensor(named: name)
            guard name == "text.last_hidden_state" else { return TensorRecord(copying: view) }
            return TensorRecord(name: name, dtype: .f32, shape: [view.shape.reduce(1, *)], payload: .float32(try view.float32Values()))
        }, metadata: file.metadata, to: reshaped)
        expectError(["text.last_hidden_state", "shape"]) {
            _ = try NumericsCheck.run(modelPath: model, baselinePath: reshaped, tolerance: .exact, toolVersion: "test")
        }
        expectError(["text.last_hidden_state", "shape"]) {
            _ = try NumericsReport.compare(try NumericsDump.read(path: reshaped), try NumericsDump.read(path: baseline), tolerance: .exact)
        }

        // Not a baseline (a plain dump), an unknown tensor name, an unknown probe input.
        let inputs = try #require(try NumericsProbe.synthetic(vocabSize: Self.config.vocabSize).groups.first).inputs
        let dump = dir.file("dump.safetensors")
        try Self.forwardDump(model, inputs, to: dump)
        expectError([dump, "not a numerics baseline"]) {
            _ = try NumericsCheck.run(modelPath: model, baselinePath: dump, tolerance: .exact, toolVersion: "test")
        }
        let odd = dir.file("odd.safetensors")
        try SafeTensorsWriter.write([TensorRecord(name: "text.hiden_states.1", dtype: .f32, shape: [1], payload: .float32([0]))], to: odd)
        expectError([odd, "text.hiden_states.1"]) { _ = try NumericsDump.read(path: odd) }
        expectError([odd, "text.hiden_states.1", "not a probe input"]) { _ = try NumericsProbe.read(path: odd) }
        let badIds = dir.file("bad-ids.safetensors")
        try SafeTensorsWriter.write([TensorRecord(name: "text.input_ids", dtype: .f32, shape: [1, 2], payload: .float32([1, 2]))], to: badIds)
        expectError([badIds, "text.input_ids", "F32"]) { _ = try NumericsProbe.read(path: badIds) }

        // Dumps of different inputs, and dumps with nothing in common.
        let otherInputs = dir.file("other-inputs.safetensors")
        let otherProbe = try NumericsProbe.synthetic(vocabSize: Self.config.vocabSize, seed: 99)
        try NumericsRecorder.record(modelPath: model, probe: otherProbe, storage: .full, toolVersion: "test", to: otherInputs)
        expectError(["input", "different inputs"]) {
            _ = try NumericsReport.compare(try NumericsDump.read(path: otherInputs), try NumericsDump.read(path: baseline), tolerance: .exact)
        }
        expectError([dump, "no output tensor in common"]) {
            _ = try NumericsReport.compare(try NumericsDump.read(path: dump), try NumericsDump.read(path: baseline), tolerance: .exact)
        }
    }

    @Test func tensorNamesParse() {
        let cases: [(String, String, String, NumericsTensorName.Form)] = [
            ("hidden_states.0", "", "hidden_states.0", .full),
            ("text.hidden_states.12", "text", "hidden_states.12", .full),
            ("pair.token_logits.projection", "pair", "token_logits", .projection),
            ("a.b.pooled_index", "a.b", "pooled_index", .full),
            ("pixel.last_hidden_state.summary", "pixel", "last_hidden_state", .summary),
            ("text.attention_mask", "text", "attention_mask", .full),
        ]
        for (name, group, base, form) in cases {
            let parsed = NumericsTensorName(parsing: name)
            #expect(parsed?.group == group && parsed?.base == base && parsed?.form == form, "\(name)")
            #expect(parsed?.name == name)
        }
        for bad in ["hidden_states", "hidden_states.x", "text.hidden_states.01", "logits", "text.weights"] {
            #expect(NumericsTensorName(parsing: bad) == nil, "\(bad)")
        }
        #expect(NumericsTensorName(parsing: "text.hidden_states.3")?.stage.layer == 2)
        #expect(NumericsTensorName(parsing: "hidden_states.0")?.stage.label == "embeddings")
    }
}
