import Foundation
import ParlaMedia

/// Speech loaded for rendering: the file as given (muxed into the video untouched) and its 16 kHz mono analysis copy.
public struct SpeechInput: Sendable {
    public let url: URL
    /// Duration of the file in seconds at its own rate.
    public let duration: Double
    /// 16 kHz mono samples for analysis.
    public let analysis: AudioBuffer
    /// Something the user should hear about that does not stop the job (a WAV cut short), as one line.
    public let warning: String?

    /// Decodes and resamples `url`; refuses empty audio, implausible rates and audio over `maxSeconds`.
    public static func load(_ url: URL, maxSeconds: Double = 3 * 3600) throws -> SpeechInput {
        let (audio, info) = try WAVFile.readWithInfo(contentsOf: url)
        guard (4000...384_000).contains(audio.sampleRate) else {
            throw RuntimeError("\(url.path): sample rate \(audio.sampleRate) Hz is outside 4000…384000 Hz")
        }
        guard !audio.samples.isEmpty else { throw RuntimeError("\(url.path): the audio has no samples") }
        guard audio.duration <= maxSeconds else {
            throw RuntimeError("\(url.path): \(Int(audio.duration)) s of audio is more than the \(Int(maxSeconds)) s limit")
        }
        let warning = info.isTruncated
            ? "\(url.path): the WAV is cut short (its header promises more audio than the file holds); using the "
                + String(format: "%.2f s present", audio.duration)
            : nil
        return SpeechInput(url: url, duration: audio.duration, analysis: audio.resampledForAnalysis(), warning: warning)
    }
}
