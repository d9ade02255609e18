import Foundation

/// Per-hop acoustic features of a clip: hop k describes the window centred at `k·hopSeconds`.
///
/// Arrays are indexed by hop; ``logMel`` is hop-major with ``bandCount`` values per hop.
public struct SpeechFeatures: Sendable {
    /// Seconds between hops (10 ms).
    public let hopSeconds: Double
    /// Number of hops: `sampleCount / hop + 1` (0 for empty audio).
    public let count: Int
    /// Mel bands per hop.
    public let bandCount: Int
    /// Centre frequency of each mel band in Hz.
    public let bandCentreHz: [Float]
    /// `10·log10(mean square)` of the DC-removed, unweighted 25 ms window; −120 for digital silence.
    public internal(set) var levelDB: [Float]
    /// Natural-log mel band powers of the pre-emphasised, Hann-windowed frame (see ``LogMelSpectrogram``).
    public internal(set) var logMel: [Float]
    /// Power-weighted mean frequency in Hz of the pre-emphasised spectrum inside the mel range.
    public internal(set) var centroidHz: [Float]
    /// Least-squares slope of mel band level (dB) against log2 of band centre: dB per octave.
    public internal(set) var tiltDBPerOctave: [Float]
    /// Sign changes per sample of the DC-removed window.
    public internal(set) var zeroCrossingRate: [Float]
    /// YIN periodicity in [0, 1] (see ``PitchEstimate``).
    public internal(set) var periodicity: [Float]
    /// F0 in Hz where ``voiced``, else 0.
    public internal(set) var f0Hz: [Float]
    /// Periodic enough (periodicity ≥ 0.75) and above −75 dBFS.
    public internal(set) var voiced: [Bool]

    /// Time in seconds of hop `k`.
    public func time(ofHop k: Int) -> Double { Double(k) * hopSeconds }

    /// `10·log10` of the summed power of the mel bands whose centre lies in `lowHz ... highHz` at hop `k`.
    public func bandLevelDB(hop k: Int, lowHz: Float, highHz: Float) -> Float {
        var sum: Float = 0
        let base = k * bandCount
        for band in 0..<bandCount where bandCentreHz[band] >= lowHz && bandCentreHz[band] <= highHz {
            sum += exp(logMel[base + band])
        }
        return 10 * log10(max(sum, 1e-12))
    }
}

/// Computes ``SpeechFeatures`` from mono audio: the ``LogMelSpectrogram`` analysis plus level, spectral shape,
/// zero crossings and YIN pitch, all on one 10 ms hop grid.
public struct SpeechFeatureExtractor: Sendable {
    /// The spectral analysis (shared with the learned model's input).
    public let spectrogram: LogMelSpectrogram
    /// Brings the signal to about 8 kHz for the pitch search.
    public let pitchDecimator: Decimator
    /// YIN at the decimated rate.
    public let pitch: PitchEstimator
    /// Minimum periodicity for a voiced hop.
    public static let voicingThreshold: Float = 0.75
    /// Hops quieter than this (dBFS) are never voiced.
    public static let voicingFloorDB: Float = -75

    /// An extractor for audio at `sampleRate` (at least 8 kHz; 16 kHz is the designed rate).
    public init(sampleRate: Int) throws {
        guard sampleRate >= 8000 else { throw MotionError.unsupportedSampleRate(sampleRate) }
        spectrogram = try LogMelSpectrogram(configuration: .speech(sampleRate: sampleRate))
        pitchDecimator = Decimator(factor: Decimator.factorForPitch(sampleRate: sampleRate))
        pitch = try PitchEstimator(sampleRate: Double(sampleRate) / Double(pitchDecimator.factor))
    }

    /// Features of `samples`. Hop k is centred on sample `k·hop`; the signal is zero-padded on both sides.
    public func extract(_ samples: [Float]) -> SpeechFeatures {
        let c = spectrogram.configuration
        let hop = c.hopLength, win = c.windowLength, bands = c.bandCount
        let count = samples.isEmpty ? 0 : samples.count / hop + 1
        let centres = spectrogram.filterbank.centreFrequencies.map { Float($0) }
        var features = SpeechFeatures(
            hopSeconds: c.hopSeconds, count: count, bandCount: bands, bandCentreHz: centres,
            levelDB: [Float](repeating: -120, count: count), logMel: [Float](repeating: 0, count: count * bands),
            centroidHz: [Float](repeating: 0, count: count), tiltDBPerOctave: [Float](repeating: 0, count: count),
            zeroCrossingRate: [Float](repeating: 0, count: count), periodicity: [Float](repeating: 0, count: count),
            f0Hz: [Float](repeating: 0, count: count), voiced: [Bool](repeating: false, count: count))
        guard count > 0 else { return features }

        // Spectral signal: half a window of zeros before, a window after; hop k's window starts at k·hop.
        var padded = [Float](repeating: 0, count: win / 2)
        padded.reserveCapacity(samples.count + 2 * win)
        padded += samples
        padded += repeatElement(0, count: win)
        let emphasised = LogMelSpectrogram.preEmphasise(padded, coefficient: c.preEmphasis, previous: 0)
        // Pitch signal: decimated to ~8 kHz, with a pitch frame of zeros on both sides.
        let factor = pitchDecimator.factor
        let pitchPad = pitch.frameLength / 2 + 1
        var pitchSignal = [Float](repeating: 0, count: pitchPad)
        pitchSignal += pitchDecimator.decimate(samples)
        pitchSignal += repeatElement(0, count: pitchPad + pitch.frameLength)

        var work = SpectralWorkspace(configuration: c)
        var pitchScratch = [Float](repeating: 0, count: pitch.maxLag + 1)
        let shape = SpectralShape(configuration: c, centres: centres)
        for k in 0..<count {
            let start = k * hop
            let tilt = emphasised.withUnsafeBufferPointer { emph in
                features.logMel.withUnsafeMutableBufferPointer { logMel in
                    spectrogram.analyse(frame: emph.baseAddress! + start, workspace: &work,
                                        logMel: logMel.baseAddress! + k * bands)
                    return shape.tilt(logMel: logMel.baseAddress! + k * bands)
                }
            }
            let (level, zcr) = padded.withUnsafeBufferPointer { Self.levelAndCrossings($0.baseAddress! + start, count: win) }
            features.levelDB[k] = level
            features.zeroCrossingRate[k] = zcr
            features.centroidHz[k] = shape.centroid(power: work.power)
            features.tiltDBPerOctave[k] = tilt
            // Pitch, centred on the hop; skipped where the hop is too quiet to be voiced.
            guard features.levelDB[k] > Self.voicingFloorDB else { continue }
            let frameStart = pitchPad + start / factor - pitch.frameLength / 2
            let estimate = pitchSignal.withUnsafeBufferPointer { x in
                pitchScratch.withUnsafeMutableBufferPointer { scratch in
                    pitch.estimate(frame: x.baseAddress! + frameStart, scratch: scratch.baseAddress!)
                }
            }
            features.periodicity[k] = estimate.periodicity
            features.voiced[k] = estimate.periodicity >= Self.voicingThreshold
            features.f0Hz[k] = features.voiced[k] ? estimate.f0Hz : 0
        }
        return features
    }

    /// Level in dBFS (floored at −120) and sign changes per sample of a DC-removed window.
    static func levelAndCrossings(_ frame: UnsafePointer<Float>, count: Int) -> (Float, Float) {
        var mean: Float = 0
        for i in 0..<count { mean += frame[i] }
        mean /= Float(count)
        var energy: Float = 0
        var crossings = 0
        var previousPositive = frame[0] - mean >= 0
        for i in 0..<count {
            let v = frame[i] - mean
            energy += v * v
            let positive = v >= 0
            if positive != previousPositive { crossings += 1 }
            previousPositive = positive
        }
        return (10 * log10(max(energy / Float(count), 1e-12)), Float(crossings) / Float(count - 1))
    }
}

/// Spectral centroid and tilt of one analysed frame.
struct SpectralShape {
    let binHz: Float
    let lowBin: Int
    let highBin: Int
    let logCentres: [Float]
    let meanLogCentre: Float
    let centreVariance: Float

    init(configuration c: LogMelConfiguration, centres: [Float]) {
        binHz = Float(c.sampleRate) / Float(c.fftSize)
        lowBin = Int((Float(c.lowHz) / binHz).rounded(.up))
        highBin = min(Int(Float(c.highHz) / binHz), c.fftSize / 2)
        let logs = centres.map { log2(max($0, 1)) }
        let mean = logs.reduce(0, +) / Float(centres.count)
        logCentres = logs
        meanLogCentre = mean
        centreVariance = logs.reduce(Float(0)) { $0 + ($1 - mean) * ($1 - mean) }
    }

    /// Power-weighted mean frequency over the mel range; 0 for a silent frame.
    func centroid(power: [Float]) -> Float {
        var weighted: Float = 0, total: Float = 0
        power.withUnsafeBufferPointer { p in
            for bin in lowBin...highBin {
                weighted += Float(bin) * binHz * p[bin]
                total += p[bin]
            }
        }
        return total > 0 ? weighted / total : 0
    }

    /// Least-squares slope of band level in dB against log2 of band centre, in dB per octave.
    func tilt(logMel: UnsafePointer<Float>) -> Float {
        guard centreVariance > 0 else { return 0 }
        let dbPerNeper = Float(10 / M_LN10)
        var covariance: Float = 0
        for band in logCentres.indices { covariance += (logCentres[band] - meanLogCentre) * dbPerNeper * logMel[band] }
        return covariance / centreVariance
    }
}
