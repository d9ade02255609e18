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
            for k in 0..<n {
                var power: Float = 0
                for b in 0..<bands { power += exp(scratch[k * bands + b]) }
                frames.levelDB.append(power > 1e-9 ? 10 * log10(power / 38_400) : -120)
            }
            return n
        }
    }
}
