import Foundation

/// Triangular filters evenly spaced on the mel scale (HTK formula `mel = 2595·log10(1 + f/700)`), applied to a
/// power spectrum of `fftSize/2 + 1` bins.
///
/// Band m rises linearly in Hz from edge m to its centre (edge m+1) and falls to edge m+2, with peak weight 1
/// (no area normalisation), so between the first and the last centre frequency the weights of any bin sum to 1.
public struct MelFilterbank: Sendable {
    /// Audio rate in Hz.
    public let sampleRate: Int
    /// FFT length; spectra have `fftSize/2 + 1` bins.
    public let fftSize: Int
    /// Number of triangular bands.
    public let bandCount: Int
    /// Lower edge of the first band.
    public let lowHz: Double
    /// Upper edge of the last band.
    public let highHz: Double
    /// The `bandCount + 2` band edges in Hz; band m spans edges m … m+2 and peaks at edge m+1.
    public let edgesHz: [Double]
    /// The frequency of each band's peak, strictly increasing.
    public var centreFrequencies: [Double] { Array(edgesHz[1...bandCount]) }

    /// First FFT bin of each band and the offset of its weights in `weights`.
    private let firstBin: [Int]
    private let weightOffset: [Int]
    private let weightCount: [Int]
    private let weights: [Float]

    /// Mel value of `hz` (HTK).
    public static func mel(hz: Double) -> Double { 2595 * log10(1 + hz / 700) }
    /// Frequency in Hz of `mel` (HTK).
    public static func hz(mel: Double) -> Double { 700 * (pow(10, mel / 2595) - 1) }

    /// A filterbank of `bandCount` bands between `lowHz` and `highHz` for a `fftSize`-point spectrum at `sampleRate`.
    public init(sampleRate: Int, fftSize: Int, bandCount: Int, lowHz: Double, highHz: Double) throws {
        guard fftSize >= 4, fftSize & (fftSize - 1) == 0 else { throw MotionError.invalidFFTSize(fftSize) }
        guard bandCount >= 1 else {
            throw MotionError.invalidAnalysisConfiguration("mel band count \(bandCount) must be at least 1")
        }
        guard lowHz >= 0, highHz > lowHz, highHz <= Double(sampleRate) / 2 else {
            throw MotionError.invalidAnalysisConfiguration(
                "mel range \(lowHz)–\(highHz) Hz must be increasing and below Nyquist (\(sampleRate / 2) Hz)")
        }
        let binHz = Double(sampleRate) / Double(fftSize)
        // Each triangle must contain at least one bin strictly inside it, or the band would be empty.
        let lowMel = Self.mel(hz: lowHz), highMel = Self.mel(hz: highHz)
        let edges = (0..<(bandCount + 2)).map {
            Self.hz(mel: lowMel + (highMel - lowMel) * Double($0) / Double(bandCount + 1))
        }
        guard edges[2] - edges[0] > binHz else {
            throw MotionError.invalidAnalysisConfiguration(
                "\(bandCount) mel bands from \(lowHz) Hz are narrower than one FFT bin (\(binHz) Hz); use fewer bands or a larger FFT")
        }
        self.sampleRate = sampleRate
        self.fftSize = fftSize
        self.bandCount = bandCount
        self.lowHz = lowHz
        self.highHz = highHz
        edgesHz = edges

        var first = [Int](), offsets = [Int](), counts = [Int](), flat = [Float]()
        let binCount = fftSize / 2 + 1
        for band in 0..<bandCount {
            let lo = Int((edges[band] / binHz).rounded(.down))
            let hi = min(Int((edges[band + 2] / binHz).rounded(.up)), binCount - 1)
            var start = -1
            var bandWeights = [Float]()
            for bin in max(lo, 0)...hi {
                let w = Self.triangle(frequency: Double(bin) * binHz, lower: edges[band], centre: edges[band + 1],
                                      upper: edges[band + 2])
                if w > 0 {
                    if start < 0 { start = bin }
                    // Keep the run contiguous (a triangle has no interior zeros).
                    bandWeights.append(Float(w))
                } else if start >= 0 {
                    break
                }
            }
            first.append(max(start, 0))
            offsets.append(flat.count)
            counts.append(bandWeights.count)
            flat += bandWeights
        }
        firstBin = first
        weightOffset = offsets
        weightCount = counts
        weights = flat
    }

    private static func triangle(frequency f: Double, lower: Double, centre: Double, upper: Double) -> Double {
        if f <= lower || f >= upper { return 0 }
        return f <= centre ? (f - lower) / (centre - lower) : (upper - f) / (upper - centre)
    }

    /// The weight of FFT bin `bin` in band `band`, from the triangle's definition (the scalar reference).
    public func weight(band: Int, bin: Int) -> Float {
        let binHz = Double(sampleRate) / Double(fftSize)
        return Float(Self.triangle(frequency: Double(bin) * binHz, lower: edgesHz[band], centre: edgesHz[band + 1],
                                   upper: edgesHz[band + 2]))
    }

    /// Band energies `Σ_bin w[band, bin]·power[bin]` for a power spectrum of `fftSize/2 + 1` bins.
    /// Uses the sparse weight runs; does not allocate.
    public func apply(power: UnsafeBufferPointer<Float>, into energies: UnsafeMutableBufferPointer<Float>) {
        precondition(power.count >= fftSize / 2 + 1 && energies.count >= bandCount,
                     "MelFilterbank.apply: buffer sizes do not match the filterbank")
        weights.withUnsafeBufferPointer { w in
            for band in 0..<bandCount {
                let n = weightCount[band]
                let wp = w.baseAddress! + weightOffset[band]
                let pp = power.baseAddress! + firstBin[band]
                var acc = SIMD4<Float>.zero
                var i = 0
                while i + 4 <= n {
                    let wv = SIMD4<Float>(wp[i], wp[i + 1], wp[i + 2], wp[i + 3])
                    let pv = SIMD4<Float>(pp[i], pp[i + 1], pp[i + 2], pp[i + 3])
                    acc += wv * pv
                    i += 4
                }
                var sum = acc.sum()
                while i < n { sum += wp[i] * pp[i]; i += 1 }
                energies[band] = sum
            }
        }
    }

    /// The scalar reference for ``apply(power:into:)``: a dense matrix–vector product over every bin.
    public func applyReference(power: [Float]) -> [Float] {
        (0..<bandCount).map { band in
            var sum: Double = 0
            for bin in 0..<(fftSize / 2 + 1) { sum += Double(weight(band: band, bin: bin)) * Double(power[bin]) }
            return Float(sum)
        }
    }
}
