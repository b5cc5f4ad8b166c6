/// A seeded pseudo-random generator (xoshiro256**), passed explicitly wherever randomness is needed:
/// no hidden global state, so the same seed gives the same numbers on every run and machine.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// Seeds the four words of state from `seed` with splitmix64, as xoshiro's authors recommend.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A new generator derived from this one, for an independent stream (e.g. one per data worker).
    public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Standard normal N(0, 1) by the Box–Muller transform (one draw per call, for simplicity).
    public mutating func normal() -> Float {
        let u1 = Double(next() >> 11) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        let r = (-2 * log(max(u1, 1e-300))).squareRoot()
        return Float(r * cos(2 * Double.pi * u2))
    }

    /// Uniform integer in `0..<n` (unbiased, by rejection).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "int(below:) needs n > 0") // invariant: callers pass a positive bound
        return Int(truncatingIfNeeded: next(upperBound: UInt64(n)))
    }

    /// Shuffles `array` in place (Fisher–Yates).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, int(below: i + 1))
        }
    }

    /// Draws an index with probability proportional to `weights[i]` (weights need not sum to 1).
    public mutating func categorical(_ weights: UnsafeBufferPointer<Float>) -> Int {
        var total: Double = 0
        for w in weights { total += Double(w) }
        var u = Double(uniform()) * total
        for (i, w) in weights.enumerated() {
            u -= Double(w)
            if u < 0 { return i }
        }
        // Round-off left u ≥ 0: return the last index with non-zero weight.
        return weights.lastIndex(where: { $0 > 0 }) ?? (weights.count - 1)
    }

    public mutating func categorical(_ weights: [Float]) -> Int {
        weights.withUnsafeBufferPointer { categorical($0) }
    }
}

import Foundation
