import Foundation

/// Why the motion layer refused its input or configuration. Each `description` is one line naming the
/// input (an audio buffer or an analysis configuration) and the problem.
public enum MotionError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// An FFT size that is not a power of two of at least 4.
    case invalidFFTSize(Int)
    /// An analysis configuration whose values contradict each other.
    case invalidAnalysisConfiguration(String)
    /// Audio at a rate the speech analysis cannot work with.
    case unsupportedSampleRate(Int)
    /// A NaN or infinite sample in the audio buffer.
    case nonFiniteSample(index: Int)
    /// Motion options that make no sense (a non-positive frame rate, a negative scale).
    case invalidOptions(String)

    /// One line naming the input and the problem.
    public var description: String {
        switch self {
        case .invalidFFTSize(let n):
            return "FFT: size \(n) is not a power of two of at least 4"
        case .invalidAnalysisConfiguration(let why):
            return "speech analysis configuration: \(why)"
        case .unsupportedSampleRate(let rate):
            return "audio buffer: sample rate \(rate) Hz is below the 8000 Hz the speech analysis needs (expected 16000 Hz)"
        case .nonFiniteSample(let index):
            return "audio buffer: sample \(index) is NaN or infinite"
        case .invalidOptions(let why):
            return "motion options: \(why)"
        }
    }

    /// Same as ``description``.
    public var errorDescription: String? { description }
}
