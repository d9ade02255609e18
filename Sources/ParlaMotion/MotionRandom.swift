import Foundation

/// A small deterministic random source (SplitMix64) owned by the motion layer, so that motion depends only on
/// (audio, options) and never on a global generator.
///
/// Independent streams (blinks, head motion, …) are derived from one seed with ``MotionRandom/init(seed:stream:)``
/// so that drawing more numbers in one stream never shifts another.
public struct MotionRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator for `seed`; `stream` selects an independent sequence for the same seed.
    public init(seed: UInt64, stream: UInt64 = 0) {
        state = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        // Warm up so that nearby seeds diverge immediately.
        _ = next()
        _ = next()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform number in [0, 1) with 53 random bits.
    public mutating func unit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A uniform number in `range`.
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * unit()
    }

    /// An exponential variate with the given mean.
    public mutating func exponential(mean: Double) -> Double {
        -mean * log(1 - unit())
    }

    /// A gamma variate with integer `shape` k (an Erlang variate: the sum of k exponentials) and the given mean.
    public mutating func erlang(shape: Int, mean: Double) -> Double {
        let k = max(shape, 1)
        var sum = 0.0
        for _ in 0..<k { sum += exponential(mean: mean / Double(k)) }
        return sum
    }
}
