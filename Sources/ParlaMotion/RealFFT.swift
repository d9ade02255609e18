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
    /// Twiddles `e^(−2πi·j/L)` for j < L/2 of every butterfly stage of length L = 2, 4, …, M (M = N/2),
    /// stored stage after stage (the stage with half-length h starts at offset h − 1) so each stage reads them
    /// contiguously.
    private let stageCos: [Float]
    private let stageSin: [Float]
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
        var cosines = [Float](), sines = [Float]()
        var h = 1
        while h < m {
            for j in 0..<h {
                let angle = -Double.pi * Double(j) / Double(h)
                cosines.append(Float(cos(angle)))
                sines.append(Float(sin(angle)))
            }
            h *= 2
        }
        stageCos = cosines
        stageSin = sines
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
        butterflies(re, im, count: m)
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

    /// In-place radix-2 decimation-in-time passes over `count` complex values already in bit-reversed order.
    /// The first two passes need no multiplications; the others run four butterflies at a time.
    private func butterflies(_ re: UnsafeMutablePointer<Float>, _ im: UnsafeMutablePointer<Float>, count m: Int) {
        // Length 2: (a, b) → (a + b, a − b).
        var a = 0
        while a + 1 < m {
            let br = re[a + 1], bi = im[a + 1]
            re[a + 1] = re[a] - br
            im[a + 1] = im[a] - bi
            re[a] += br
            im[a] += bi
            a += 2
        }
        guard m >= 4 else { return }
        // Length 4: twiddles 1 and −i.
        a = 0
        while a + 3 < m {
            let b0r = re[a + 2], b0i = im[a + 2]
            let b1r = im[a + 3], b1i = -re[a + 3]  // (−i)·b
            re[a + 2] = re[a] - b0r
            im[a + 2] = im[a] - b0i
            re[a] += b0r
            im[a] += b0i
            re[a + 3] = re[a + 1] - b1r
            im[a + 3] = im[a + 1] - b1i
            re[a + 1] += b1r
            im[a + 1] += b1i
            a += 4
        }
        let rawRe = UnsafeMutableRawPointer(re), rawIm = UnsafeMutableRawPointer(im)
        let size = MemoryLayout<Float>.stride
        stageCos.withUnsafeBufferPointer { cosT in
            stageSin.withUnsafeBufferPointer { sinT in
                let wc = UnsafeRawPointer(cosT.baseAddress!), ws = UnsafeRawPointer(sinT.baseAddress!)
                var half = 4
                while half < m {
                    var start = 0
                    while start < m {
                        var j = 0
                        while j < half {
                            let ia = (start + j) * size, ib = (start + j + half) * size, iw = (half - 1 + j) * size
                            let wr = wc.loadUnaligned(fromByteOffset: iw, as: SIMD4<Float>.self)
                            let wi = ws.loadUnaligned(fromByteOffset: iw, as: SIMD4<Float>.self)
                            let br = rawRe.loadUnaligned(fromByteOffset: ib, as: SIMD4<Float>.self)
                            let bi = rawIm.loadUnaligned(fromByteOffset: ib, as: SIMD4<Float>.self)
                            let ar = rawRe.loadUnaligned(fromByteOffset: ia, as: SIMD4<Float>.self)
                            let ai = rawIm.loadUnaligned(fromByteOffset: ia, as: SIMD4<Float>.self)
                            let tr = br * wr - bi * wi
                            let ti = br * wi + bi * wr
                            rawRe.storeBytes(of: ar + tr, toByteOffset: ia, as: SIMD4<Float>.self)
                            rawIm.storeBytes(of: ai + ti, toByteOffset: ia, as: SIMD4<Float>.self)
                            rawRe.storeBytes(of: ar - tr, toByteOffset: ib, as: SIMD4<Float>.self)
                            rawIm.storeBytes(of: ai - ti, toByteOffset: ib, as: SIMD4<Float>.self)
                            j += 4
                        }
                        start += 2 * half
                    }
                    half *= 2
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
