import Foundation
import ParlaMedia

/// The settings of the short-time spectral analysis shared by ``LogMelSpectrogram`` and ``SpeechFeatures``.
///
/// Defaults: 16 kHz, 25 ms periodic Hann window (400 samples), 10 ms hop (160), 512-point FFT, pre-emphasis
/// 0.97, 80 mel bands from 60 to 7600 Hz, natural log of band power floored at 1e-10.
public struct LogMelConfiguration: Sendable, Equatable {
    /// Input rate in Hz.
    public var sampleRate: Int = AudioBuffer.analysisRate
    /// Samples per analysis window (25 ms).
    public var windowLength: Int = 400
    /// Samples between frames (10 ms).
    public var hopLength: Int = 160
    /// FFT length (a power of two ≥ the window).
    public var fftSize: Int = 512
    /// Mel bands per frame.
    public var bandCount: Int = 80
    /// Lower edge of the first mel band.
    public var lowHz: Double = 60
    /// Upper edge of the last mel band.
    public var highHz: Double = 7600
    /// `y[n] = x[n] − preEmphasis·x[n−1]` over the whole signal (x[−1] = 0) before framing.
    public var preEmphasis: Float = 0.97
    /// Band powers below this are raised to it before the logarithm.
    public var energyFloor: Float = 1e-10

    /// The 16 kHz defaults.
    public init() {}

    /// The same 25 ms / 10 ms analysis at another rate (FFT size the next power of two, top band below Nyquist).
    public static func speech(sampleRate: Int) -> LogMelConfiguration {
        var c = LogMelConfiguration()
        c.sampleRate = sampleRate
        c.windowLength = max(8, Int((0.025 * Double(sampleRate)).rounded()))
        c.hopLength = max(1, Int((0.010 * Double(sampleRate)).rounded()))
        var n = 4
        while n < c.windowLength { n *= 2 }
        c.fftSize = n
        c.highHz = min(7600, 0.475 * Double(sampleRate))
        return c
    }

    /// Seconds between frames.
    public var hopSeconds: Double { Double(hopLength) / Double(sampleRate) }
}

/// A log-mel spectrogram: frame k covers input samples `[k·hop, k·hop + window)` of the pre-emphasised signal,
/// is Hann-windowed, transformed by ``RealFFT`` and reduced to ``MelFilterbank`` band powers, then `ln`.
///
/// Only whole windows produce frames: `frameCount = 1 + (n − window)/hop` for n ≥ window, else 0.
/// ``Stream`` produces exactly the same numbers from audio arriving in chunks of any size.
public struct LogMelSpectrogram: Sendable {
    /// The analysis settings.
    public let configuration: LogMelConfiguration
    /// The mel filters applied to each power spectrum.
    public let filterbank: MelFilterbank
    let fft: RealFFT
    /// The periodic Hann window `0.5 − 0.5·cos(2πn/window)`.
    let window: [Float]

    /// An analyser for `configuration`; throws ``MotionError`` when its values contradict each other.
    public init(configuration: LogMelConfiguration = LogMelConfiguration()) throws {
        let c = configuration
        guard c.sampleRate > 0, c.windowLength >= 2, c.hopLength >= 1 else {
            throw MotionError.invalidAnalysisConfiguration(
                "rate \(c.sampleRate), window \(c.windowLength) and hop \(c.hopLength) must be positive")
        }
        guard c.windowLength <= c.fftSize else {
            throw MotionError.invalidAnalysisConfiguration(
                "window of \(c.windowLength) samples does not fit the \(c.fftSize)-point FFT")
        }
        guard c.energyFloor > 0, c.preEmphasis >= 0, c.preEmphasis < 1 else {
            throw MotionError.invalidAnalysisConfiguration("energy floor must be > 0 and pre-emphasis in [0, 1)")
        }
        self.configuration = c
        fft = try RealFFT(size: c.fftSize)
        filterbank = try MelFilterbank(sampleRate: c.sampleRate, fftSize: c.fftSize, bandCount: c.bandCount,
                                       lowHz: c.lowHz, highHz: c.highHz)
        window = (0..<c.windowLength).map {
            Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(c.windowLength)))
        }
    }

    /// Number of bands per frame.
    public var bandCount: Int { configuration.bandCount }

    /// Frames a batch of `sampleCount` samples yields.
    public func frameCount(sampleCount: Int) -> Int {
        let c = configuration
        return sampleCount < c.windowLength ? 0 : 1 + (sampleCount - c.windowLength) / c.hopLength
    }

    /// The whole spectrogram of `samples`, frame-major: value `[k·bandCount + band]`.
    public func compute(_ samples: [Float]) -> [Float] {
        let emphasised = Self.preEmphasise(samples, coefficient: configuration.preEmphasis, previous: 0)
        let frames = frameCount(sampleCount: samples.count)
        var output = [Float](repeating: 0, count: frames * bandCount)
        var work = SpectralWorkspace(configuration: configuration)
        emphasised.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { out in
                for k in 0..<frames {
                    analyse(frame: x.baseAddress! + k * configuration.hopLength, workspace: &work,
                            logMel: out.baseAddress! + k * bandCount)
                }
            }
        }
        return output
    }

    /// A streaming analyser with empty history.
    public func makeStream() -> Stream { Stream(spectrogram: self) }

    /// Incremental form of ``LogMelSpectrogram/compute(_:)``: feeding the same samples in any chunking yields the
    /// same frames, bit for bit.
    public struct Stream: Sendable {
        /// The analyser whose batch output this stream reproduces.
        public let spectrogram: LogMelSpectrogram
        private var pending: [Float] = []
        private var readIndex = 0
        private var lastSample: Float = 0
        private var work: SpectralWorkspace
        /// Frames produced so far.
        public private(set) var framesProduced = 0

        init(spectrogram: LogMelSpectrogram) {
            self.spectrogram = spectrogram
            work = SpectralWorkspace(configuration: spectrogram.configuration)
        }

        /// Consumes `samples` and appends every newly completed frame (``bandCount`` values each) to `output`.
        /// Returns the number of frames appended.
        @discardableResult
        public mutating func append<C: Collection>(_ samples: C, to output: inout [Float]) -> Int
        where C.Element == Float {
            let c = spectrogram.configuration
            for s in samples {
                pending.append(s - c.preEmphasis * lastSample)
                lastSample = s
            }
            var produced = 0
            let bands = c.bandCount
            while pending.count - readIndex >= c.windowLength {
                let base = output.count
                output.append(contentsOf: repeatElement(0, count: bands))
                let start = readIndex
                pending.withUnsafeBufferPointer { x in
                    output.withUnsafeMutableBufferPointer { out in
                        spectrogram.analyse(frame: x.baseAddress! + start, workspace: &work,
                                            logMel: out.baseAddress! + base)
                    }
                }
                readIndex += c.hopLength
                produced += 1
            }
            framesProduced += produced
            if readIndex >= 4096 {
                let drop = min(readIndex, pending.count)
                pending.removeFirst(drop)
                readIndex -= drop
            }
            return produced
        }
    }

    static func preEmphasise(_ samples: [Float], coefficient: Float, previous: Float) -> [Float] {
        var out = [Float](repeating: 0, count: samples.count)
        var last = previous
        for i in samples.indices {
            out[i] = samples[i] - coefficient * last
            last = samples[i]
        }
        return out
    }

    /// Window, FFT, power, mel and log for one frame of `windowLength` pre-emphasised samples at `frame`.
    /// Leaves the power spectrum and the linear band powers in `workspace`.
    func analyse(frame: UnsafePointer<Float>, workspace: inout SpectralWorkspace, logMel: UnsafeMutablePointer<Float>) {
        let c = configuration
        window.withUnsafeBufferPointer { w in
            workspace.windowed.withUnsafeMutableBufferPointer { buf in
                for i in 0..<c.windowLength { buf[i] = frame[i] * w[i] }
                for i in c.windowLength..<c.fftSize { buf[i] = 0 }
            }
        }
        workspace.windowed.withUnsafeBufferPointer { x in
            workspace.real.withUnsafeMutableBufferPointer { re in
                workspace.imaginary.withUnsafeMutableBufferPointer { im in
                    workspace.power.withUnsafeMutableBufferPointer { p in
                        fft.powerSpectrum(x, real: re, imaginary: im, power: p)
                    }
                }
            }
        }
        workspace.power.withUnsafeBufferPointer { p in
            workspace.bandPower.withUnsafeMutableBufferPointer { e in
                filterbank.apply(power: p, into: e)
                for band in 0..<c.bandCount { logMel[band] = log(max(e[band], c.energyFloor)) }
            }
        }
    }
}

/// Reusable buffers for one frame of analysis, so the per-frame loop does not allocate.
struct SpectralWorkspace: Sendable {
    var windowed: [Float]
    var real: [Float]
    var imaginary: [Float]
    var power: [Float]
    var bandPower: [Float]

    init(configuration c: LogMelConfiguration) {
        windowed = [Float](repeating: 0, count: c.fftSize)
        real = [Float](repeating: 0, count: c.fftSize / 2 + 1)
        imaginary = real
        power = real
        bandPower = [Float](repeating: 0, count: c.bandCount)
    }
}
