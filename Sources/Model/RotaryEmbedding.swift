import Foundation

/// The RoPE cos/sin tables (SPEC 3.6.4, 1.1), built in fp32 as upstream builds them:
/// inv_freq[m] = 1 / θ^(2m/d), angle = pos · inv_freq[m] (pos / factor with linear scaling), d/2 values
/// per position. With dynamic (NTK) scaling the base grows when the sequence is longer than
/// max_position_embeddings: θ' = θ·((factor·L/max) − (factor − 1))^(d/(d−2)).
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    public let theta: Double
    public let maxPositions: Int
    public let scaling: PixelGPTConfig.RopeScaling?

    public init(config: PixelGPTConfig) {
        headDim = config.headDimension
        theta = config.ropeTheta
        maxPositions = config.maxPositionEmbeddings
        scaling = config.ropeScaling
    }

    /// The base used for a sequence of `sequenceLength` positions. Upstream keeps a grown dynamic cache
    /// between calls; here each call uses its own length, so results do not depend on earlier calls.
    public func base(sequenceLength: Int) -> Double {
        guard let scaling, scaling.type == "dynamic", sequenceLength > maxPositions else { return theta }
        let d = Double(headDim)
        return theta * pow(scaling.factor * Double(sequenceLength) / Double(maxPositions) - (scaling.factor - 1), d / (d - 2))
    }

    public func inverseFrequencies(sequenceLength: Int) -> [Float] {
        let base = Float(base(sequenceLength: sequenceLength))
        return (0..<(headDim / 2)).map { m in 1 / powf(base, Float(2 * m) / Float(headDim)) }
    }

    /// cos and sin for positions 0 ..< positions, [positions, d/2] each.
    public func tables(positions: Int, sequenceLength: Int) -> (cos: [Float], sin: [Float]) {
        let inverse = inverseFrequencies(sequenceLength: sequenceLength)
        let half = headDim / 2
        let linearFactor: Float? = scaling?.type == "linear" ? Float(scaling!.factor) : nil
        var cosines = [Float](repeating: 0, count: positions * half)
        var sines = cosines
        for p in 0..<positions {
            let t = linearFactor.map { Float(p) / $0 } ?? Float(p)
            for m in 0..<half {
                let angle = t * inverse[m]   // fp32 product, as torch.outer
                cosines[p * half + m] = Float(cos(Double(angle)))
                sines[p * half + m] = Float(sin(Double(angle)))
            }
        }
        return (cosines, sines)
    }
}
