import Foundation
import ParlaMedia

/// The audio front end of the viseme path: 16 kHz mono → one 80-band log-mel frame and one level per 10 ms,
/// frame k centred on sample k·160 (time k·10 ms; the signal is preceded by half a window, 200 zeros).
/// Batch (``analyse(_:)``) and streaming (``Stream``) give the same numbers bit for bit.
public struct VisemeFrontEnd: Sendable {
    /// The log-mel analysis (defaults of ``LogMelConfiguration``).
    public let spectrogram: LogMelSpectrogram
    /// Bands per frame.
    public var bandCount: Int { spectrogram.bandCount }
    /// Zeros in front of the signal so that frame k is centred on sample k·hop.
    public var padding: Int { spectrogram.configuration.windowLength / 2 }

    /// The 16 kHz front end.
    public init() {
        // The default configuration is valid by construction.
        spectrogram = try! LogMelSpectrogram(configuration: LogMelConfiguration())
    }

    /// Log-mel frames and levels.
    public struct Frames: Sendable, Equatable {
        /// Frame-major log-mel values (`bandCount` per frame).
        public var logMel: [Float] = []
        /// Level per frame in dBFS: `10·log10(Σ band power / 38400)` (38400 = 256 · Σ hann²: a full-band signal of RMS r reads 20·log10 r),
        /// −120 for digital silence.
        public var levelDB: [Float] = []
        /// Number of frames.
        public var count: Int { levelDB.count }
        /// No frames.
        public init() {}
    }

    /// Frames of a whole 16 kHz signal: `(samples + padding) / hop`-ish, as many as whole windows fit
    /// after padding (no padding at the end).
    public func analyse(_ samples: [Float]) -> Frames {
        var stream = makeStream()
        var frames = Frames()
        stream.append(samples, to: &frames)
        return frames
    }

    /// A streaming front end with empty history.
    public func makeStream() -> Stream { Stream(frontEnd: self) }

    /// Incremental form of ``analyse(_:)``.
    public struct Stream: Sendable {
        private var mel: LogMelSpectrogram.Stream
        private let bands: Int
        private var scratch: [Float] = []

        init(frontEnd: VisemeFrontEnd) {
            mel = frontEnd.spectrogram.makeStream()
            bands = frontEnd.bandCount
            var none = [Float]()
            mel.append(repeatElement(Float(0), count: frontEnd.padding), to: &none)
        }

        /// Consumes samples (non-finite ones count as 0) and appends every completed frame; returns how many.
        @discardableResult
        public mutating func append(_ samples: [Float], to frames: inout Frames) -> Int {
            scratch.removeAll(keepingCapacity: true)
            let clean = samples.contains(where: { !$0.isFinite }) ? samples.map { $0.isFinite ? $0 : 0 } : samples
            let n = mel.append(clean, to: &scratch)
            frames.logMel.append(contentsOf: scratch)
            scratch.withUnsafeBufferPointer { x in
                for k in 0..<n { frames.levelDB.append(VisemeFrontEnd.level(logMel: x.baseAddress! + k * bands, bands: bands)) }
            }
            return n
        }
    }

    /// The level of one frame from its log-mel values (see ``Frames/levelDB``).
    static func level(logMel: UnsafePointer<Float>, bands: Int) -> Float {
        var power: Float = 0
        for b in 0..<bands { power += exp(logMel[b]) }
        return power > 1e-9 ? 10 * log10(power / 38_400) : -120
    }

    /// The frames ``analyse(_:)`` gives for `audio`, taken from the log-mel of its ``SpeechFeatures`` `features`
    /// (at the front end's rate the extractor runs the same analysis on the same zero-padded signal, so the numbers
    /// are the same bit for bit) instead of analysing the audio again; nil when `audio` is not at that rate.
    func frames(from features: SpeechFeatures, of audio: AudioBuffer) -> Frames? {
        let c = spectrogram.configuration
        guard audio.sampleRate == c.sampleRate, features.bandCount == c.bandCount,
              features.count == (audio.samples.isEmpty ? 0 : audio.samples.count / c.hopLength + 1) else { return nil }
        let count = spectrogram.frameCount(sampleCount: audio.samples.count + padding)
        guard count <= features.count else { return nil }
        var frames = Frames()
        frames.logMel = Array(features.logMel.prefix(count * c.bandCount))
        frames.levelDB = frames.logMel.withUnsafeBufferPointer { x in
            (0..<count).map { Self.level(logMel: x.baseAddress! + $0 * c.bandCount, bands: c.bandCount) }
        }
        return frames
    }
}
