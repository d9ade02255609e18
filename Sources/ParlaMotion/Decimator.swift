import Foundation

/// Integer-factor decimation for pitch analysis: a windowed-sinc low-pass (Hamming window, cutoff 0.9 × the
/// output Nyquist, 8·factor + 1 taps, unit DC gain) evaluated only at every `factor`-th input sample.
///
/// The pitch search only needs 70–400 Hz and its harmonics up to a few kHz, so running it at ~8 kHz costs a
/// quarter of the work at 16 kHz with the same F0 accuracy after parabolic interpolation.
public struct Decimator: Sendable {
    /// Input samples per output sample.
    public let factor: Int
    /// The symmetric low-pass taps (a single tap of 1 when `factor` is 1).
    public let taps: [Float]

    /// A decimator by `factor` (at least 1).
    public init(factor: Int) {
        let f = max(factor, 1)
        self.factor = f
        guard f > 1 else {
            taps = [1]
            return
        }
        let half = 4 * f
        let cutoff = 0.9 * 0.5 / Double(f)  // cycles per input sample
        var h = (-half...half).map { i -> Double in
            let x = Double(i)
            let sinc = i == 0 ? 2 * cutoff : sin(2 * Double.pi * cutoff * x) / (Double.pi * x)
            let window = 0.54 + 0.46 * cos(Double.pi * x / Double(half))
            return sinc * window
        }
        let sum = h.reduce(0, +)
        h = h.map { $0 / sum }
        taps = h.map { Float($0) }
    }

    /// The factor for analysing audio at `sampleRate` near 8 kHz: `max(1, floor(rate / 8000))`.
    public static func factorForPitch(sampleRate: Int) -> Int { max(1, sampleRate / 8000) }

    /// `y[j] = Σ_i taps[i]·x[j·factor + i − half]` (zero outside x) for j < ceil(count / factor).
    public func decimate(_ x: [Float]) -> [Float] {
        guard factor > 1 else { return x }
        let half = taps.count / 2
        let outCount = (x.count + factor - 1) / factor
        var y = [Float](repeating: 0, count: outCount)
        x.withUnsafeBufferPointer { input in
            taps.withUnsafeBufferPointer { h in
                y.withUnsafeMutableBufferPointer { out in
                    for j in 0..<outCount {
                        let centre = j * factor
                        let lo = max(0, half - centre)
                        let hi = min(h.count, x.count - centre + half)
                        var sum: Float = 0
                        if lo < hi {
                            for i in lo..<hi { sum += h[i] * input[centre + i - half] }
                        }
                        out[j] = sum
                    }
                }
            }
        }
        return y
    }

    /// The scalar reference: the full-rate convolution, then every `factor`-th sample (accumulated in Double).
    public func decimateReference(_ x: [Float]) -> [Float] {
        let half = taps.count / 2
        let full = x.indices.map { n -> Double in
            var sum = 0.0
            for (i, t) in taps.enumerated() where n + i - half >= 0 && n + i - half < x.count {
                sum += Double(t) * Double(x[n + i - half])
            }
            return sum
        }
        return stride(from: 0, to: x.count, by: factor).map { Float(full[$0]) }
    }
}
