import Foundation

/// Band-limited sample-rate conversion between any two integer rates (Kaiser-windowed sinc, polyphase).
///
/// See ``ResamplerDesign`` for the filter: passband flat to 0.9 × the lower Nyquist frequency, ≥ 60 dB
/// stopband from the lower Nyquist frequency on, zero phase (no delay), DC gain exactly 1. The signal is
/// taken as silent before its first and after its last sample.
public enum Resampler {
    /// Resamples to `rate` Hz (positive). The output has round(n · rate / audio.sampleRate) samples.
    public static func resample(_ audio: AudioBuffer, to rate: Int) -> AudioBuffer {
        precondition(rate > 0, "target sample rate must be positive")
        if rate == audio.sampleRate { return audio }
        var resampler = StreamingResampler(from: audio.sampleRate, to: rate)
        var out = [Float]()
        out.reserveCapacity(resampler.design.outputCount(forInputCount: audio.samples.count) + 8)
        audio.samples.withUnsafeBufferPointer { resampler.process($0, appendingTo: &out) }
        resampler.finish(appendingTo: &out)
        return AudioBuffer(sampleRate: rate, samples: out)
    }

    /// Plain scalar reference for ``resample(_:to:)``: evaluates the kernel afresh in double precision for
    /// every output sample (no tables, no SIMD). Slow; tests compare the fast path against it.
    public static func resampleReference(_ audio: AudioBuffer, to rate: Int) -> AudioBuffer {
        precondition(rate > 0, "target sample rate must be positive")
        if rate == audio.sampleRate { return audio }
        let design = ResamplerDesign(inputRate: audio.sampleRate, outputRate: rate)
        let x = audio.samples
        let count = design.outputCount(forInputCount: x.count)
        var out = [Float](repeating: 0, count: count)
        for k in 0..<count {
            let t = Double(k * design.downFactor) / Double(design.upFactor)
            let first = Int((t - design.halfWidth).rounded(.down))
            let last = Int((t + design.halfWidth).rounded(.up))
            var sum = 0.0, weight = 0.0
            for n in first...last {
                let w = design.kernel(t - Double(n))
                weight += w
                if n >= 0 && n < x.count { sum += w * Double(x[n]) }
            }
            out[k] = Float(sum / weight)
        }
        return AudioBuffer(sampleRate: rate, samples: out)
    }
}

extension AudioBuffer {
    /// The buffer at ``AudioBuffer/analysisRate`` (16 kHz), resampled if needed.
    public func resampledForAnalysis() -> AudioBuffer {
        Resampler.resample(self, to: AudioBuffer.analysisRate)
    }
}

/// The kernel tabulated per phase: row `p` holds the `taps` weights (each row summing to 1) for an output
/// position `p / phases` of the way between two input samples, for the `taps` inputs starting `tapsPerSide - 1`
/// before the earlier one. `taps` is a multiple of 8 (extra taps are zero).
///
/// When L (the interpolation factor) is small every phase gets its own exact row; otherwise `phases` rows
/// (plus one) are stored and neighbouring rows are blended linearly.
struct PolyphaseTable: Sendable {
    static let maximumExactPhases = 1024
    /// Interpolated tables use up to this many phases (blending error about -100 dB re full scale) …
    static let maximumInterpolatedPhases = 2048
    /// … but no more than this many coefficients in all (4 MB); long kernels have low cut-offs and need fewer.
    static let maximumInterpolatedCoefficients = 1 << 20

    let design: ResamplerDesign
    let exact: Bool
    let phases: Int
    let taps: Int
    let rows: [Float]

    init(design: ResamplerDesign) {
        self.design = design
        let side = max(1, design.tapsPerSide)
        taps = (2 * side + 7) / 8 * 8
        exact = design.upFactor <= PolyphaseTable.maximumExactPhases
        phases = exact ? design.upFactor
            : max(256, min(PolyphaseTable.maximumInterpolatedPhases, PolyphaseTable.maximumInterpolatedCoefficients / taps))
        let rowCount = exact ? phases : phases + 1
        var rows = [Float](repeating: 0, count: rowCount * taps)
        var row = [Double](repeating: 0, count: taps)
        for p in 0..<rowCount {
            let fraction = Double(p) / Double(phases)
            var sum = 0.0
            for j in 0..<taps {
                row[j] = design.kernel(fraction + Double(side - 1 - j))
                sum += row[j]
            }
            for j in 0..<taps { rows[p * taps + j] = Float(row[j] / sum) }
        }
        self.rows = rows
    }

    /// Inputs before the first sample that the first output reads (all zero).
    var leadingZeros: Int { max(1, design.tapsPerSide) - 1 }
}

/// Incremental form of ``Resampler``: feed input in chunks of any size, get output as soon as the filter
/// has seen enough look-ahead (about ``ResamplerDesign/halfWidth`` input samples), then `finish`.
/// Feeding a signal in chunks gives bit-for-bit the same output as one call on the whole signal.
/// After warm-up it does not allocate as long as the output array has capacity.
public struct StreamingResampler: Sendable {
    /// The filter in use.
    public var design: ResamplerDesign { table.design }

    private let table: PolyphaseTable
    /// Zero-padded input; `history[0]` is padded index `historyStart` (padded index = input index + leadingZeros).
    private var history: [Float]
    private var historyCount: Int
    private var historyStart = 0
    /// Next output: its window starts at padded index `base`, at phase `phase` (0..<L).
    private var base = 0
    private var phase = 0
    private var inputCount = 0
    private var outputCount = 0
    private var finished = false

    /// A resampler from `inputRate` to `outputRate` Hz (both positive).
    public init(from inputRate: Int, to outputRate: Int) {
        table = PolyphaseTable(design: ResamplerDesign(inputRate: inputRate, outputRate: outputRate))
        historyCount = table.leadingZeros
        history = [Float](repeating: 0, count: max(4096, 4 * table.taps))
    }

    /// Consumes `input` and appends every output sample that can now be computed.
    public mutating func process(_ input: UnsafeBufferPointer<Float>, appendingTo output: inout [Float]) {
        precondition(!finished, "process called after finish")
        append(input)
        inputCount += input.count
        emit(limit: Int.max, into: &output)
    }

    /// Consumes `input` and returns the output samples that can now be computed.
    public mutating func process(_ input: [Float]) -> [Float] {
        var output = [Float]()
        input.withUnsafeBufferPointer { process($0, appendingTo: &output) }
        return output
    }

    /// Flushes the tail (treating the input as silent after its end) so the total output length is
    /// round(inputCount · outputRate / inputRate). Further calls do nothing.
    public mutating func finish(appendingTo output: inout [Float]) {
        if finished { return }
        finished = true
        let zeros = [Float](repeating: 0, count: table.taps + 1)
        zeros.withUnsafeBufferPointer { append($0) }
        emit(limit: design.outputCount(forInputCount: inputCount), into: &output)
    }

    private mutating func append(_ input: UnsafeBufferPointer<Float>) {
        // Drop what no future output reads, then make room.
        let dead = base - historyStart
        if dead > 0 && (dead >= historyCount / 2 || historyCount + input.count > history.count) {
            history.withUnsafeMutableBufferPointer { h in
                let p = h.baseAddress!
                _ = memmove(p, p + dead, (historyCount - dead) * MemoryLayout<Float>.stride)
            }
            historyCount -= dead
            historyStart += dead
        }
        if historyCount + input.count > history.count {
            var capacity = history.count
            while historyCount + input.count > capacity { capacity *= 2 }
            history.append(contentsOf: repeatElement(0, count: capacity - history.count))
        }
        guard let source = input.baseAddress, input.count > 0 else { return }
        history.withUnsafeMutableBufferPointer { h in
            (h.baseAddress! + historyCount).update(from: source, count: input.count)
        }
        historyCount += input.count
    }

    private mutating func emit(limit: Int, into output: inout [Float]) {
        let taps = table.taps
        let up = design.upFactor, down = design.downFactor
        let stepWhole = down / up, stepPart = down % up
        let available = historyStart + historyCount
        var count = 0
        var (base, phase) = (self.base, self.phase)
        // Count first, so output grows once.
        do {
            var (b, p, k) = (base, phase, outputCount)
            while k < limit && b + taps <= available {
                count += 1; k += 1
                p += stepPart; b += stepWhole
                if p >= up { p -= up; b += 1 }
            }
        }
        if count == 0 { return }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: count))
        let exact = table.exact, phases = table.phases
        table.rows.withUnsafeBufferPointer { rows in
            history.withUnsafeBufferPointer { h in
                output.withUnsafeMutableBufferPointer { out in
                    for i in 0..<count {
                        let x = UnsafeRawPointer(h.baseAddress! + (base - historyStart))
                        if exact {
                            out[start + i] = dot(x, UnsafeRawPointer(rows.baseAddress! + phase * taps), taps)
                        } else {
                            let position = phase * phases
                            let row = position / up
                            let blend = Float(position - row * up) / Float(up)
                            let a = dot(x, UnsafeRawPointer(rows.baseAddress! + row * taps), taps)
                            let b = dot(x, UnsafeRawPointer(rows.baseAddress! + (row + 1) * taps), taps)
                            out[start + i] = a + (b - a) * blend
                        }
                        phase += stepPart; base += stepWhole
                        if phase >= up { phase -= up; base += 1 }
                    }
                }
            }
        }
        self.base = base
        self.phase = phase
        outputCount += count
    }
}

/// Dot product of `count` floats (a multiple of 8), 16 lanes at a time.
@inline(__always)
private func dot(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Float {
    var acc0 = SIMD8<Float>.zero, acc1 = SIMD8<Float>.zero
    var i = 0
    while i + 16 <= count {
        acc0 += a.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            * b.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        acc1 += a.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
            * b.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
        i += 16
    }
    if i < count {
        acc0 += a.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            * b.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
    }
    return (acc0 + acc1).sum()
}
