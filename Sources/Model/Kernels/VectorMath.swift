/// SIMD building blocks of the elementwise kernels: 16 lanes, one AVX-512 register (two AVX2 ones).
typealias FloatVector = SIMD16<Float>

extension Kernels {
    /// e^x on 16 lanes: Cody–Waite range reduction x = n·ln2 + r, |r| ≤ ln2/2, Cephes' degree-6 polynomial
    /// for e^r, then 2^n through the exponent bits. About 1 ulp on [−87, 88]; 0 below −87.3 (so −∞, a
    /// masked score, gives exactly 0 as it does in fp32 upstream, SPEC 3.8), saturates above 88.
    @inline(__always)
    static func exp(_ x: FloatVector) -> FloatVector {
        let clamped = maximum(minimum(x, FloatVector(repeating: 88)), FloatVector(repeating: -87.3))
        // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick (no per-lane rounding calls).
        let magic = FloatVector(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        var p = FloatVector(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * (r * r) + r + 1
        // The low mantissa bits of `shifted` hold n (two's complement); move n + 127 into the exponent.
        let bits = unsafeBitCast(shifted, to: SIMD16<Int32>.self)
        let scale = unsafeBitCast((bits &- 0x4B40_0000 &+ 127) &<< 23, to: FloatVector.self)
        return (p * scale).replacing(with: 0, where: x .< -87.3)
    }

    /// Lane-wise max and min as one compare and blend each (the standard library's pointwiseMax and
    /// clamped follow IEEE maxNum per lane and compile to scalar code); NaN-free inputs only.
    @inline(__always)
    static func maximum(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a.replacing(with: b, where: b .> a) }

    @inline(__always)
    static func minimum(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a.replacing(with: b, where: b .< a) }

    /// The largest lane, by halving (4 blends instead of 15 scalar compares).
    @inline(__always)
    static func largestLane(_ v: FloatVector) -> Float {
        let v8 = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
        let v4 = v8.lowHalf.replacing(with: v8.highHalf, where: v8.highHalf .> v8.lowHalf)
        let v2 = v4.lowHalf.replacing(with: v4.highHalf, where: v4.highHalf .> v4.lowHalf)
        return Swift.max(v2[0], v2[1])
    }
}
