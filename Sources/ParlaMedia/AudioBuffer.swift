/// Mono PCM audio as 32-bit float samples in [-1, 1] at a given rate.
///
/// Files of any layout are decoded to this (channels mixed down) and resampled to
/// ``AudioBuffer/analysisRate`` before analysis.
public struct AudioBuffer: Sendable, Equatable {
    /// The rate every analysis stage works at (16 kHz).
    public static let analysisRate = 16_000

    public var sampleRate: Int
    public var samples: [Float]

    public init(sampleRate: Int, samples: [Float]) {
        precondition(sampleRate > 0, "sample rate must be positive")
        self.sampleRate = sampleRate
        self.samples = samples
    }

    /// Length in seconds.
    public var duration: Double { Double(samples.count) / Double(sampleRate) }
}
