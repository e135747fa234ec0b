/// Which inputs a forward pass reads (SPEC 3.1). The one modality type: task files and results name it too.
public enum Modality: String, Sendable, Equatable, CaseIterable, Codable, CodingKeyRepresentable {
    /// input_ids [B, T] + attention_mask [B, T].
    case text
    /// pixel_values [B, 3, 16, 16P] + attention_mask [B, P] (the patch mask arrives under that name).
    case pixel
    /// Both: pixels first, then text; masks concatenated; text positions continue at P.
    case pair
}

/// A named input array with its shape, row-major.
public struct InputArray<Element: Sendable>: Sendable {
    public var shape: [Int]
    public var values: [Element]

    public init(shape: [Int], values: [Element]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }
}

/// The inputs of one forward pass, checked for shape and consistency (not yet against a model; see
/// `PixelGPTModel.check`). Names in errors are the numerics contract's tensor names (docs/numerics.md).
public struct ForwardInputs: Sendable {
    public let modality: Modality
    public let batchSize: Int
    /// T (0 in pixel mode).
    public let textLength: Int
    /// P (0 in text mode).
    public let patchCount: Int
    /// [B, T].
    public let inputIds: [Int]
    /// [B, T], 0 or 1.
    public let textMask: [Float]
    /// [B, 3, 16, 16P], RGB in [0, 1].
    public let pixelValues: [Float]
    /// [B, P], 0 or 1.
    public let patchMask: [Float]

    /// L: P, T or P + T.
    public var sequenceLength: Int { patchCount + textLength }

    public static let patchSize = 16

    /// The inputs as the numerics contract names them: text mode gives `inputIds` (+ `attentionMask`), pixel
    /// mode `pixelValues` (+ `attentionMask` [B, P]), pair mode both plus `patchAttentionMask` (required).
    /// Masks default to all ones where upstream's do; they must hold only 0 and 1.
    public init(
        inputIds: InputArray<Int>? = nil, attentionMask: InputArray<Float>? = nil,
        pixelValues: InputArray<Float>? = nil, patchAttentionMask: InputArray<Float>? = nil
    ) throws(ModelError) {
        func fail(_ name: String, _ reason: String) -> ModelError { .invalidInput(name: name, reason: reason) }
        func checkMask(_ mask: InputArray<Float>?, _ name: String, batch: Int, length: Int) throws(ModelError) -> [Float] {
            guard let mask else { return [Float](repeating: 1, count: batch * length) }
            guard mask.shape == [batch, length] else {
                throw fail(name, "shape \(mask.shape) does not match [\(batch), \(length)] (batch, sequence length)")
            }
            if let bad = mask.values.first(where: { $0 != 0 && $0 != 1 }) {
                throw fail(name, "values must be 0 or 1, found \(bad)")
            }
            return mask.values
        }
        var batch: Int?
        var patches = 0, length = 0
        var pixels: [Float] = []
        if let pixelValues {
            let s = pixelValues.shape
            guard s.count == 4 else { throw fail("pixel_values", "shape \(s) is not [batch, 3, 16, width]") }
            guard s[1] == 3 else { throw fail("pixel_values", "has \(s[1]) channels, the model reads RGB (3)") }
            guard s[2] == Self.patchSize else { throw fail("pixel_values", "height is \(s[2]), must be \(Self.patchSize)") }
            guard s[3] > 0, s[3] % Self.patchSize == 0 else {
                throw fail("pixel_values", "width \(s[3]) is not a positive multiple of the patch size \(Self.patchSize)")
            }
            guard s[0] > 0 else { throw fail("pixel_values", "batch size is 0") }
            if let bad = pixelValues.values.first(where: { !$0.isFinite }) { throw fail("pixel_values", "holds a non-finite value \(bad)") }
            batch = s[0]
            patches = s[3] / Self.patchSize
            pixels = pixelValues.values
        }
        var ids: [Int] = []
        if let inputIds {
            let s = inputIds.shape
            guard s.count == 2, s[0] > 0, s[1] > 0 else { throw fail("input_ids", "shape \(s) is not [batch, tokens] with both positive") }
            if let batch, batch != s[0] {
                throw fail("input_ids", "batch size \(s[0]) differs from pixel_values' \(batch)")
            }
            batch = s[0]
            length = s[1]
            ids = inputIds.values
        }
        guard let batch else { throw fail("input_ids", "absent, and so is pixel_values: give one or both") }
        batchSize = batch
        textLength = length
        patchCount = patches
        self.inputIds = ids
        self.pixelValues = pixels
        switch (ids.isEmpty, pixels.isEmpty) {
        case (false, true):
            guard patchAttentionMask == nil else { throw fail("patch_attention_mask", "given without pixel_values") }
            modality = .text
            textMask = try checkMask(attentionMask, "attention_mask", batch: batch, length: length)
            patchMask = []
        case (true, false):
            guard patchAttentionMask == nil else {
                throw fail("patch_attention_mask", "given without input_ids: in pixel mode the patch mask is attention_mask [B, P]")
            }
            modality = .pixel
            textMask = []
            patchMask = try checkMask(attentionMask, "attention_mask", batch: batch, length: patches)
        default:
            guard patchAttentionMask != nil else { throw fail("patch_attention_mask", "required in pair mode (pixel_values and input_ids given)") }
            modality = .pair
            textMask = try checkMask(attentionMask, "attention_mask", batch: batch, length: length)
            patchMask = try checkMask(patchAttentionMask, "patch_attention_mask", batch: batch, length: patches)
        }
    }

    /// The [B, L] mask the attention reads: patch mask then text mask (SPEC 3.1, pair mode).
    public var attentionMask: [Float] {
        switch modality {
        case .text: return textMask
        case .pixel: return patchMask
        case .pair:
            var mask: [Float] = []
            mask.reserveCapacity(batchSize * sequenceLength)
            for b in 0..<batchSize {
                mask += patchMask[(b * patchCount)..<((b + 1) * patchCount)]
                mask += textMask[(b * textLength)..<((b + 1) * textLength)]
            }
            return mask
        }
    }
}
