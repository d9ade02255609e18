import Foundation

/// One frame's pitch analysis.
public struct PitchEstimate: Sendable, Equatable {
    /// Fundamental frequency in Hz at the best lag (meaningful only when the frame is periodic enough).
    public var f0Hz: Float
    /// `1 − d′(τ*)`, the YIN periodicity in [0, 1]: near 1 for a clean voiced frame, low for noise.
    public var periodicity: Float
}

/// YIN fundamental-frequency estimation (de Cheveigné & Kawahara 2002) between 70 and 400 Hz.
///
/// For a frame x of `integrationLength + maxLag` samples: difference `d(τ) = Σ_{j<W} (x[j] − x[j+τ])²`,
/// cumulative-mean normalisation `d′(τ) = d(τ)·τ / Σ_{1≤j≤τ} d(j)`, the first lag in [minLag, maxLag] with
/// d′ < ``threshold`` followed down to its local minimum (else the global minimum), refined by a parabola.
public struct PitchEstimator: Sendable {
    /// The rate of the samples it is given (after any decimation), in Hz.
    public let sampleRate: Double
    /// W, the number of products summed per lag (25 ms).
    public let integrationLength: Int
    /// The shortest lag searched, `floor(rate / 400 Hz)`.
    public let minLag: Int
    /// The longest lag searched, `ceil(rate / 70 Hz)`.
    public let maxLag: Int
    /// The absolute d′ threshold of the first-dip rule.
    public var threshold: Float = 0.15

    /// Samples one estimate reads.
    public var frameLength: Int { integrationLength + maxLag }

    /// An estimator for 70–400 Hz at `sampleRate` (at least 4 kHz) with a 25 ms integration window.
    public init(sampleRate: Double, minHz: Double = 70, maxHz: Double = 400) throws {
        guard sampleRate >= 4000, sampleRate.isFinite else { throw MotionError.unsupportedSampleRate(Int(sampleRate)) }
        guard minHz > 0, maxHz > minHz, maxHz < sampleRate / 4 else {
            throw MotionError.invalidAnalysisConfiguration("pitch range \(minHz)–\(maxHz) Hz is not usable at \(sampleRate) Hz")
        }
        self.sampleRate = sampleRate
        integrationLength = Int((0.025 * sampleRate).rounded())
        minLag = max(2, Int(sampleRate / maxHz))
        maxLag = Int((sampleRate / minHz).rounded(.up))
    }

    /// Estimates pitch from `frame` (``frameLength`` samples), using `scratch` (maxLag + 1 floats) as work space.
    public func estimate(frame: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>) -> PitchEstimate {
        Self.difference(frame: frame, integrationLength: integrationLength, maxLag: maxLag, into: scratch)
        // Cumulative mean normalised difference, in place.
        let d = scratch
        d[0] = 1
        var running: Float = 0
        for tau in 1...maxLag {
            running += d[tau]
            d[tau] = running > 0 ? d[tau] * Float(tau) / running : 1
        }
        var best = -1
        var tau = minLag
        while tau <= maxLag {
            if d[tau] < threshold {
                while tau + 1 <= maxLag && d[tau + 1] < d[tau] { tau += 1 }
                best = tau
                break
            }
            tau += 1
        }
        if best < 0 {
            best = minLag
            for t in minLag...maxLag where d[t] < d[best] { best = t }
        }
        var refined = Float(best)
        var minimum = d[best]
        if best > 1 && best < maxLag {
            let a = d[best - 1], b = d[best], c = d[best + 1]
            let curvature = a - 2 * b + c
            if curvature > 0 {
                let shift = 0.5 * (a - c) / curvature
                if abs(shift) < 1 {
                    refined += shift
                    minimum = b - 0.25 * (a - c) * shift
                }
            }
        }
        let periodicity = min(max(1 - minimum, 0), 1)
        return PitchEstimate(f0Hz: Float(sampleRate) / refined, periodicity: periodicity)
    }

    /// The YIN difference `d(τ) = Σ_{j<W} (x[j] − x[j+τ])²` for τ = 0…maxLag into `output[0…maxLag]`,
    /// eight products at a time. `frame` must hold `W + maxLag` samples.
    public static func difference(frame: UnsafePointer<Float>, integrationLength w: Int, maxLag: Int,
                                  into output: UnsafeMutablePointer<Float>) {
        output[0] = 0
        guard maxLag >= 1 else { return }
        let raw = UnsafeRawPointer(frame)
        let stride = MemoryLayout<Float>.stride
        for tau in 1...maxLag {
            // Four independent accumulators hide the add latency; then eight at a time; then the tail.
            var acc0 = SIMD8<Float>.zero, acc1 = SIMD8<Float>.zero, acc2 = SIMD8<Float>.zero, acc3 = SIMD8<Float>.zero
            var j = 0
            while j + 32 <= w {
                let a = j * stride, b = (j + tau) * stride
                let d0 = raw.loadUnaligned(fromByteOffset: a, as: SIMD8<Float>.self)
                    - raw.loadUnaligned(fromByteOffset: b, as: SIMD8<Float>.self)
                let d1 = raw.loadUnaligned(fromByteOffset: a + 8 * stride, as: SIMD8<Float>.self)
                    - raw.loadUnaligned(fromByteOffset: b + 8 * stride, as: SIMD8<Float>.self)
                let d2 = raw.loadUnaligned(fromByteOffset: a + 16 * stride, as: SIMD8<Float>.self)
                    - raw.loadUnaligned(fromByteOffset: b + 16 * stride, as: SIMD8<Float>.self)
                let d3 = raw.loadUnaligned(fromByteOffset: a + 24 * stride, as: SIMD8<Float>.self)
                    - raw.loadUnaligned(fromByteOffset: b + 24 * stride, as: SIMD8<Float>.self)
                acc0 += d0 * d0
                acc1 += d1 * d1
                acc2 += d2 * d2
                acc3 += d3 * d3
                j += 32
            }
            var acc = (acc0 + acc1) + (acc2 + acc3)
            while j + 8 <= w {
                let a = raw.loadUnaligned(fromByteOffset: j * stride, as: SIMD8<Float>.self)
                let b = raw.loadUnaligned(fromByteOffset: (j + tau) * stride, as: SIMD8<Float>.self)
                let diff = a - b
                acc += diff * diff
                j += 8
            }
            var sum = acc.sum()
            while j < w {
                let diff = frame[j] - frame[j + tau]
                sum += diff * diff
                j += 1
            }
            output[tau] = sum
        }
    }

    /// The scalar reference for ``difference(frame:integrationLength:maxLag:into:)``, accumulated in Double.
    public static func differenceReference(frame: [Float], integrationLength w: Int, maxLag: Int) -> [Float] {
        (0...maxLag).map { tau in
            var sum = 0.0
            for j in 0..<w {
                let diff = Double(frame[j]) - Double(frame[j + tau])
                sum += diff * diff
            }
            return Float(sum)
        }
    }
}
