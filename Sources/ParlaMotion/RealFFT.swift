import Foundation

/// A radix-2 FFT of real input of size N (a power of two ≥ 4), computed as one complex FFT of size N/2 on the
/// even/odd samples packed as `x[2k] + i·x[2k+1]`, followed by the split step that separates the two halves.
///
/// The output is the N/2 + 1 non-redundant bins `X[k] = Σ x[n]·e^(−2πi·kn/N)` (no scaling).
/// ``RealFFT/referenceDFT(_:)`` is the plain O(N²) definition it is tested against.
public struct RealFFT: Sendable {
    /// N, the number of real input samples.
    public let size: Int
    /// N/2 + 1, the number of output bins.
    public var binCount: Int { size / 2 + 1 }

    private let half: Int
    /// cos/sin(2π·j/M) for j < M/2, the twiddles of the size-M complex FFT (M = N/2).
    private let complexCos: [Float]
    private let complexSin: [Float]
    /// cos/sin(2π·k/N) for k ≤ M/2, the twiddles of the split step.
    private let splitCos: [Float]
    private let splitSin: [Float]
    /// Bit reversal of log2(M) bits.
    private let bitReversed: [Int32]

    /// Tables for an FFT of `size` real samples.
    public init(size: Int) throws {
        guard size >= 4, size & (size - 1) == 0 else { throw MotionError.invalidFFTSize(size) }
        self.size = size
        let m = size / 2
        half = m
        complexCos = (0..<max(m / 2, 1)).map { Float(cos(2 * Double.pi * Double($0) / Double(m))) }
        complexSin = (0..<max(m / 2, 1)).map { Float(sin(2 * Double.pi * Double($0) / Double(m))) }
        splitCos = (0...(m / 2)).map { Float(cos(2 * Double.pi * Double($0) / Double(size))) }
        splitSin = (0...(m / 2)).map { Float(sin(2 * Double.pi * Double($0) / Double(size))) }
        var bits = 0
        while (1 << bits) < m { bits += 1 }
        bitReversed = (0..<m).map { index in
            var r = 0
            var v = index
            for _ in 0..<bits { r = (r << 1) | (v & 1); v >>= 1 }
            return Int32(r)
        }
    }

    /// Transforms `input` (``size`` samples) into `real` and `imaginary` (``binCount`` values each).
    /// Does not allocate; the output buffers double as the work area.
    public func forward(
        _ input: UnsafeBufferPointer<Float>,
        real: UnsafeMutableBufferPointer<Float>,
        imaginary: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(input.count >= size && real.count >= binCount && imaginary.count >= binCount,
                     "RealFFT.forward: buffer sizes do not match the FFT size")
        let m = half
        let x = input.baseAddress!
        let re = real.baseAddress!
        let im = imaginary.baseAddress!
        // Pack even/odd samples as complex numbers, in bit-reversed order for the in-place DIT butterflies.
        bitReversed.withUnsafeBufferPointer { rev in
            for k in 0..<m {
                let dst = Int(rev[k])
                re[dst] = x[2 * k]
                im[dst] = x[2 * k + 1]
            }
        }
        complexCos.withUnsafeBufferPointer { cosT in
            complexSin.withUnsafeBufferPointer { sinT in
                var length = 2
                while length <= m {
                    let halfLength = length / 2
                    let step = m / length
                    var start = 0
                    while start < m {
                        for j in 0..<halfLength {
                            let wr = cosT[j * step]
                            let wi = -sinT[j * step]
                            let a = start + j
                            let b = a + halfLength
                            let tr = re[b] * wr - im[b] * wi
                            let ti = re[b] * wi + im[b] * wr
                            re[b] = re[a] - tr
                            im[b] = im[a] - ti
                            re[a] += tr
                            im[a] += ti
                        }
                        start += length
                    }
                    length *= 2
                }
            }
        }
        // Split step: E_k = (Z_k + conj Z_{M−k})/2, O_k = (Z_k − conj Z_{M−k})/(2i),
        // X_k = E_k + W^k·O_k and X_{M−k} = conj(E_k − W^k·O_k) with W = e^(−2πi/N).
        let z0r = re[0], z0i = im[0]
        re[0] = z0r + z0i
        im[0] = 0
        re[m] = z0r - z0i
        im[m] = 0
        splitCos.withUnsafeBufferPointer { cosT in
            splitSin.withUnsafeBufferPointer { sinT in
                var k = 1
                while k <= m / 2 {
                    let zkr = re[k], zki = im[k]
                    let zmr = re[m - k], zmi = im[m - k]
                    let er = 0.5 * (zkr + zmr)
                    let ei = 0.5 * (zki - zmi)
                    let or = 0.5 * (zki + zmi)
                    let oi = -0.5 * (zkr - zmr)
                    let wr = cosT[k]
                    let wi = -sinT[k]
                    let tr = wr * or - wi * oi
                    let ti = wr * oi + wi * or
                    re[k] = er + tr
                    im[k] = ei + ti
                    if k != m - k {
                        re[m - k] = er - tr
                        im[m - k] = -(ei - ti)
                    }
                    k += 1
                }
            }
        }
    }

    /// Writes |X[k]|² for the ``binCount`` bins of `input` into `power`, using `real`/`imaginary` as work space.
    public func powerSpectrum(
        _ input: UnsafeBufferPointer<Float>,
        real: UnsafeMutableBufferPointer<Float>,
        imaginary: UnsafeMutableBufferPointer<Float>,
        power: UnsafeMutableBufferPointer<Float>
    ) {
        forward(input, real: real, imaginary: imaginary)
        for k in 0..<binCount { power[k] = real[k] * real[k] + imaginary[k] * imaginary[k] }
    }

    /// Convenience: the ``binCount`` complex bins of `input` as two arrays (allocates; for tests and tools).
    public func forward(_ input: [Float]) -> (real: [Float], imaginary: [Float]) {
        var re = [Float](repeating: 0, count: binCount)
        var im = [Float](repeating: 0, count: binCount)
        let padded = input.count >= size ? input : input + [Float](repeating: 0, count: size - input.count)
        padded.withUnsafeBufferPointer { x in
            re.withUnsafeMutableBufferPointer { r in
                im.withUnsafeMutableBufferPointer { i in forward(x, real: r, imaginary: i) }
            }
        }
        return (re, im)
    }

    /// The scalar reference: the direct DFT `X[k] = Σ x[n]·e^(−2πi·kn/N)` for k = 0…N/2, accumulated in Double.
    public static func referenceDFT(_ input: [Float]) -> (real: [Double], imaginary: [Double]) {
        let n = input.count
        var re = [Double](repeating: 0, count: n / 2 + 1)
        var im = [Double](repeating: 0, count: n / 2 + 1)
        for k in 0...(n / 2) {
            var sr = 0.0, si = 0.0
            for t in 0..<n {
                // Reduce k·t mod n exactly before converting to an angle.
                let phase = 2 * Double.pi * Double((k * t) % n) / Double(n)
                sr += Double(input[t]) * cos(phase)
                si -= Double(input[t]) * sin(phase)
            }
            re[k] = sr
            im[k] = si
        }
        return (re, im)
    }
}
