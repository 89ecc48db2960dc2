// Shape letters used throughout TrainingCore: B batch, T steps, E embedding, H hidden, V vocabulary.

/// SplitMix64: a tiny, fast, well-mixed generator. Every random number in a run comes
/// from one of these seeded from `--seed`, so the same seed gives the same numbers.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed &+ 0x9E37_79B9_7F4A_7C15
    }

    /// Starts from a raw SplitMix64 state (the first output is the mix of state + golden gamma).
    public init(rawState: UInt64) {
        state = rawState
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform integer in 0..<bound (bound > 0), without modulo bias worth caring about at our sizes.
    public mutating func nextInt(below bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// Standard normal by Box-Muller (uses two uniforms per call; simple and deterministic).
    public mutating func nextGaussian() -> Double {
        let u1 = max(nextUnit(), 0x1.0p-60)
        let u2 = nextUnit()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// A new generator for a named purpose, so adding one use of randomness does not shift the others.
    public func derived(_ salt: UInt64) -> SeededGenerator {
        var copy = self
        return SeededGenerator(seed: copy.next() ^ (salt &* 0xD1B5_4A32_D192_ED03))
    }
}

@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }

import Foundation
