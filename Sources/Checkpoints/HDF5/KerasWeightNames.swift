/// Keras/TensorFlow weight names as Hugging Face's `tf_model.h5` files spell them, mapped to PyTorch
/// names, with the transposition each needs. The rules are transformers'
/// `convert_tf_weight_name_to_pt_weight_name`: drop ":0", keep B of an inner "A___B" level, turn "_._"
/// into a level, drop level zero (the
/// main layer's name), then kernel/embeddings/gamma -> weight and beta -> bias; a 2-D kernel is stored
/// [in, out] and transposed, a 4-D convolution kernel [kh, kw, in, out] becomes [out, in, kh, kw], a 3-D
/// one [k, in, out] becomes [out, in, k].
public enum KerasWeightNames {
    public struct Mapping: Equatable, Sendable {
        public let name: String
        /// Axis order to apply to the stored array (nil: as stored).
        public let permutation: [Int]?
    }

    public static func pytorchName(_ kerasName: String, rank: Int) -> Mapping {
        var name = kerasName
        if name.hasSuffix(":0") { name.removeLast(2) }
        var levels = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // "A___B" in an inner level stands for B (TF-only wrapper layers).
        for i in levels.indices.dropFirst().dropLast() {
            if let marker = levels[i].range(of: "___", options: .backwards) { levels[i] = String(levels[i][marker.upperBound...]) }
        }
        levels = levels.joined(separator: "/").replacingOccurrences(of: "_._", with: "/")
            .split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if levels.count > 1 { levels.removeFirst() }
        let last = levels.last ?? ""
        var permutation: [Int]?
        if last == "kernel" {
            switch rank {
            case 4: permutation = [3, 2, 0, 1]
            case 3: permutation = [2, 1, 0]
            case 2: permutation = [1, 0]
            default: permutation = nil
            }
        }
        if ["kernel", "embeddings", "gamma"].contains(last) { levels[levels.count - 1] = "weight" }
        if last == "beta" { levels[levels.count - 1] = "bias" }
        return Mapping(name: levels.joined(separator: "."), permutation: permutation)
    }

    /// Permutes a C-order array of `elementSize`-byte elements: output axis k is input axis permutation[k].
    static func permute(_ bytes: [UInt8], shape: [Int], elementSize: Int, permutation: [Int]) -> [UInt8] {
        let rank = shape.count
        let outShape = permutation.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { inStrides[axis] = inStrides[axis + 1] * shape[axis + 1] }
        let strides = permutation.map { inStrides[$0] }
        var out = [UInt8](repeating: 0, count: bytes.count)
        let count = shape.reduce(1, *)
        guard count > 0 else { return out }
        var index = [Int](repeating: 0, count: rank)
        var source = 0
        for target in 0..<count {
            let s = source * elementSize, t = target * elementSize
            for b in 0..<elementSize { out[t + b] = bytes[s + b] }
            // Advance the output index odometer and the matching input offset.
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                source += strides[axis]
                if index[axis] < outShape[axis] { break }
                source -= strides[axis] * outShape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }
}
