import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): the small, fast, fully specified generator behind every seeded
/// value this project writes (random checkpoints, synthetic probes), so the same seed gives the same
/// bytes on every machine and Swift version (the standard library's generator promises neither).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in (0, 1] from the top 53 bits (never 0, so log() of it is finite).
    public mutating func nextOpenUnit() -> Double {
        (Double(next() >> 11) + 1) / 9_007_199_254_740_992.0
    }

    /// Two independent standard normal samples by Box-Muller (the cosine and the sine half), from two
    /// open-unit draws: random weights, and `score`'s N(0, 0.02²) initialisation (SPEC 2.2).
    public mutating func nextNormalPair() -> (Double, Double) {
        let u1 = nextOpenUnit(), u2 = nextOpenUnit()
        let radius = (-2 * log(u1)).squareRoot(), angle = 2 * Double.pi * u2
        return (radius * cos(angle), radius * sin(angle))
    }

    /// Normal samples by Box-Muller from SplitMix64. Elements 2m and 2m+1 of a tensor are the cosine and
    /// sine halves of pair m, whose generator state depends only on the tensor's seed and m, so chunking
    /// cannot change the values.
    public static func fillNormal(_ out: UnsafeMutableBufferPointer<Float>, std: Float, seed: UInt64, firstElement: Int) {
        let end = firstElement + out.count
        var pair = firstElement / 2
        while 2 * pair < end {
            var generator = SplitMix64(state: seed &+ UInt64(pair) &* 0x9E37_79B9_7F4A_7C15)
            let (cosine, sine) = generator.nextNormalPair()
            let even = 2 * pair, odd = even + 1
            if even >= firstElement { out[even - firstElement] = Float(cosine) * std }
            if odd < end { out[odd - firstElement] = Float(sine) * std }
            pair += 1
        }
    }

    /// A seed from a name (FNV-1a, 64-bit): one independent stream per tensor or purpose.
    public static func seed(named text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
