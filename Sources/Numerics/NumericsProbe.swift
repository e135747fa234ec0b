import Checkpoints
import Foundation
import Support
import Model
import SafeTensors

/// The inputs a numerics baseline is recorded on: one or several named groups, each one forward pass in
/// text, pixel or pair modality. A baseline stores its probe's inputs beside the outputs, so checking it
/// needs neither the probe file nor a tokenizer or renderer.
public struct NumericsProbe: Sendable {
    public struct Group: Sendable {
        /// "" for a file without prefixes.
        public let name: String
        public let inputs: ForwardInputs

        public init(name: String, inputs: ForwardInputs) {
            self.name = name
            self.inputs = inputs
        }
    }

    /// A file path, `synthetic`, or the name of a committed probe.
    public let name: String
    public let groups: [Group]

    public init(name: String, groups: [Group]) {
        self.name = name
        self.groups = groups
    }

    /// Reads the input tensors of `path`, grouped by prefix (`text.input_ids`, `pixel.pixel_values`, or bare
    /// contract names for a single group). With `ignoringOutputs` (reading a baseline) output tensors are
    /// skipped; otherwise any name that is not a contract input is refused.
    public static func read(path: String, ignoringOutputs: Bool = false) throws -> NumericsProbe {
        let file = try SafeTensorsFile(path: path)
        var byGroup: [String: [String: TensorView]] = [:]
        for info in file.tensorInfos {
            let parsed = NumericsTensorName(parsing: info.name)
            if let parsed, parsed.isInput, parsed.form == .full {
                byGroup[parsed.group, default: [:]][parsed.base] = try file.tensor(named: info.name)
            } else if !(ignoringOutputs && parsed != nil) {
                throw CheckpointError(path: path, "tensor \"\(info.name)\" is not a probe input; inputs are [GROUP.]\(NumericsTensorName.inputNames.joined(separator: "|"))")
            }
        }
        guard !byGroup.isEmpty else { throw CheckpointError(path: path, "no probe inputs (input_ids or pixel_values, optionally behind a GROUP. prefix)") }
        let groups = try byGroup.keys.sorted().map { group in
            Group(name: group, inputs: try ForwardContract.inputs(byGroup[group]!, group: group, path: path))
        }
        return NumericsProbe(name: path, groups: groups)
    }

    /// The group's inputs as the tensors that reproduce exactly this forward pass (masks written out even
    /// where they defaulted to ones), under the group's prefix.
    public static func inputRecords(_ group: Group) -> [TensorRecord] {
        let x = group.inputs, b = x.batchSize
        let prefix = group.name.isEmpty ? "" : group.name + "."
        var records: [TensorRecord] = []
        if x.textLength > 0 {
            let bytes = x.inputIds.flatMap { withUnsafeBytes(of: Int64($0).littleEndian, Array.init) }
            records.append(TensorRecord(name: prefix + "input_ids", dtype: .i64, shape: [b, x.textLength], payload: .bytes(bytes)))
        }
        if x.patchCount > 0 {
            records.append(TensorRecord(name: prefix + "pixel_values", dtype: .f32, shape: [b, 3, ForwardInputs.patchSize, ForwardInputs.patchSize * x.patchCount], payload: .float32(x.pixelValues)))
        }
        switch x.modality {
        case .text: records.append(TensorRecord(name: prefix + "attention_mask", dtype: .f32, shape: [b, x.textLength], payload: .float32(x.textMask)))
        case .pixel: records.append(TensorRecord(name: prefix + "attention_mask", dtype: .f32, shape: [b, x.patchCount], payload: .float32(x.patchMask)))
        case .pair:
            records.append(TensorRecord(name: prefix + "attention_mask", dtype: .f32, shape: [b, x.textLength], payload: .float32(x.textMask)))
            records.append(TensorRecord(name: prefix + "patch_attention_mask", dtype: .f32, shape: [b, x.patchCount], payload: .float32(x.patchMask)))
        }
        return records
    }

    /// A probe any checkpoint can run, whatever its vocabulary and without a tokenizer or renderer: seeded
    /// token ids in 3 ..< vocab_size (after a BOS 1), smooth pseudo-random pixel strips with text-like
    /// dark strokes, and in every group a padded row so that masking and pooling are exercised. Groups
    /// `text` [3, 12], `pixel` [2, 8 patches], `pair` [2, 6 patches + 8 tokens].
    public static func synthetic(vocabSize: Int, seed: UInt64 = 20_240_416) throws -> NumericsProbe {
        var generator = SplitMix64(state: seed)
        func next() -> UInt64 { generator.next() }
        func ids(_ rows: Int, _ length: Int, padded: [Int]) -> ([Int], [Float]) {
            var ids: [Int] = [], mask: [Float] = []
            for r in 0..<rows {
                for t in 0..<length {
                    let real = t < length - padded[r]
                    ids.append(!real ? 2 : t == 0 ? 1 : 3 + Int(next() % UInt64(max(1, vocabSize - 3))))
                    mask.append(real ? 1 : 0)
                }
            }
            return (ids.map { min($0, vocabSize - 1) }, mask)
        }
        func pixels(_ rows: Int, _ patches: Int, padded: [Int]) -> ([Float], [Float]) {
            let size = ForwardInputs.patchSize, width = patches * size
            var values = [Float](repeating: 1, count: rows * 3 * size * width)
            var mask: [Float] = []
            for r in 0..<rows {
                let real = patches - padded[r]
                mask += (0..<patches).map { $0 < real ? 1 : 0 }
                // Dark vertical strokes of random height and grey level on white, as rendered glyphs are.
                for x in 0..<(real * size - 2) where next() % 3 == 0 {
                    let top = Int(next() % 8), bottom = 8 + Int(next() % 8)
                    let level = Float(next() % 200) / 255
                    for c in 0..<3 {
                        for y in top..<bottom { values[((r * 3 + c) * size + y) * width + x] = level }
                    }
                }
            }
            return (values, mask)
        }
        let (textIds, textMask) = ids(3, 12, padded: [0, 4, 0])
        let text = try ForwardInputs(inputIds: InputArray(shape: [3, 12], values: textIds), attentionMask: InputArray(shape: [3, 12], values: textMask))
        let (pixelValues, pixelMask) = pixels(2, 8, padded: [0, 3])
        let pixel = try ForwardInputs(attentionMask: InputArray(shape: [2, 8], values: pixelMask), pixelValues: InputArray(shape: [2, 3, 16, 128], values: pixelValues))
        let (pairPixels, pairPatchMask) = pixels(2, 6, padded: [0, 2])
        let (pairIds, pairMask) = ids(2, 8, padded: [0, 3])
        let pair = try ForwardInputs(inputIds: InputArray(shape: [2, 8], values: pairIds), attentionMask: InputArray(shape: [2, 8], values: pairMask),
                                     pixelValues: InputArray(shape: [2, 3, 16, 96], values: pairPixels),
                                     patchAttentionMask: InputArray(shape: [2, 6], values: pairPatchMask))
        return NumericsProbe(name: "synthetic", groups: [Group(name: "pair", inputs: pair), Group(name: "pixel", inputs: pixel), Group(name: "text", inputs: text)])
    }
}
