import Foundation
import ParlaMedia
import ParlaTestSupport
import XCTest

final class ResamplerTests: XCTestCase {
    /// 1.5 s of a sine at `frequency` Hz, amplitude 0.5.
    func sine(_ frequency: Double, rate: Int, seconds: Double = 1.5, amplitude: Double = 0.5) -> AudioBuffer {
        let n = Int(Double(rate) * seconds)
        return AudioBuffer(sampleRate: rate, samples: (0..<n).map {
            Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(rate)))
        })
    }

    /// Amplitude of the `frequency` component over the middle second (away from the zero-padded ends),
    /// by correlation with sine and cosine (exact for integer frequencies over one second).
    func amplitude(of audio: AudioBuffer, at frequency: Double) -> Double {
        let rate = audio.sampleRate
        let start = (audio.samples.count - rate) / 2
        var s = 0.0, c = 0.0
        for n in 0..<rate {
            let phase = 2 * Double.pi * frequency * Double(start + n) / Double(rate)
            s += Double(audio.samples[start + n]) * sin(phase)
            c += Double(audio.samples[start + n]) * cos(phase)
        }
        return 2 * (s * s + c * c).squareRoot() / Double(rate)
    }

    /// RMS over the middle second.
    func rms(_ audio: AudioBuffer) -> Double {
        let start = (audio.samples.count - audio.sampleRate) / 2
        let middle = audio.samples[start..<start + audio.sampleRate]
        return (middle.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(middle.count)).squareRoot()
    }

    func dB(_ ratio: Double) -> Double { 20 * log10(ratio) }

    func testPassbandIsFlatForCommonRatesTo16k() {
        for rate in [48_000, 44_100, 22_050, 11_025, 8_000, 96_000, 32_000, 24_000] {
            let nyquist = Double(min(rate, 16_000)) / 2
            for frequency in [100.0, 1000.0, (0.875 * nyquist).rounded()] {
                let out = Resampler.resample(sine(frequency, rate: rate), to: 16_000)
                let gain = amplitude(of: out, at: frequency) / 0.5
                XCTAssertEqual(dB(gain), 0, accuracy: 0.05, "\(rate) Hz → 16 kHz at \(frequency) Hz: \(dB(gain)) dB")
            }
        }
    }

    func testStopbandIsAtLeast60dBDownWhenDownsampling() {
        for (rate, frequencies) in [(48_000, [8_400.0, 9_000, 12_000, 20_000]), (44_100, [9_000.0, 15_000, 21_000]),
                                    (96_000, [8_600.0, 30_000, 47_000]), (22_050, [8_500.0, 10_000])] {
            for frequency in frequencies {
                let input = sine(frequency, rate: rate)
                let out = Resampler.resample(input, to: 16_000)
                let attenuation = dB(rms(out) / rms(input))
                XCTAssertLessThan(attenuation, -60, "\(rate) → 16 kHz leaks \(frequency) Hz at \(attenuation) dB")
            }
        }
    }

    func testFrequencySweepStaysInsideTheSpecification() {
        // Unoptimised builds run SIMD code hundreds of times slower: sweep coarser there.
        #if DEBUG
        let (passStep, stopStep) = (710.0, 1130.0)
        #else
        let (passStep, stopStep) = (130.0, 170.0)
        #endif
        for rate in [48_000, 44_100] {
            var ripple = 0.0, leak = -400.0
            for frequency in stride(from: 50.0, through: 7200, by: passStep) {
                let gain = amplitude(of: Resampler.resample(sine(frequency, rate: rate, seconds: 1.2), to: 16_000), at: frequency) / 0.5
                ripple = max(ripple, abs(dB(gain)))
            }
            for frequency in stride(from: 8000.0, to: Double(rate) / 2, by: stopStep) {
                let input = sine(frequency, rate: rate, seconds: 1.2)
                leak = max(leak, dB(rms(Resampler.resample(input, to: 16_000)) / rms(input)))
            }
            print("resampler \(rate) → 16000: passband 50…7200 Hz within ±\(ripple) dB; stopband ≥ 8 kHz worst \(leak) dB")
            XCTAssertLessThan(ripple, 0.01)
            XCTAssertLessThan(leak, -60)
        }
    }

    func testUpsamplingLeavesNoSpectralImages() {
        // 8 kHz → 16 kHz: a 3 kHz tone must not come with its image at 8 - 3 = 5 kHz.
        // 16 kHz → 48 kHz: a 6 kHz tone must not come with its images at 10 and 22 kHz.
        let up = Resampler.resample(sine(3000, rate: 8000), to: 16_000)
        XCTAssertEqual(dB(amplitude(of: up, at: 3000) / 0.5), 0, accuracy: 0.05)
        XCTAssertLessThan(dB(amplitude(of: up, at: 5000) / 0.5), -60)
        let triple = Resampler.resample(sine(6000, rate: 16_000), to: 48_000)
        XCTAssertEqual(dB(amplitude(of: triple, at: 6000) / 0.5), 0, accuracy: 0.05)
        XCTAssertLessThan(dB(amplitude(of: triple, at: 10_000) / 0.5), -60)
        XCTAssertLessThan(dB(amplitude(of: triple, at: 22_000) / 0.5), -60)
    }

    func testLengthFollowsTheRateRatio() {
        for (input, output) in [(44_100, 16_000), (48_000, 16_000), (8000, 16_000), (22_050, 16_000), (11_025, 16_000),
                                (96_000, 16_000), (16_000, 44_100), (44_101, 16_000), (7, 3)] {
            for n in [0, 1, 2, 3, 17, 1000, 44_100, 12_345] {
                let out = Resampler.resample(AudioBuffer(sampleRate: input, samples: [Float](repeating: 0.1, count: n)), to: output)
                let expected = (Double(n) * Double(output) / Double(input)).rounded()
                XCTAssertEqual(Double(out.samples.count), expected, accuracy: 1, "\(input)→\(output), n = \(n)")
                XCTAssertEqual(out.sampleRate, output)
            }
        }
    }

    func testDCIsPreservedAwayFromTheEnds() {
        for (input, output) in [(44_100, 16_000), (8000, 16_000), (48_000, 16_000), (44_101, 16_000), (16_000, 22_050)] {
            let out = Resampler.resample(AudioBuffer(sampleRate: input, samples: [Float](repeating: 0.3, count: input)), to: output)
            let margin = out.samples.count / 10
            for v in out.samples[margin..<out.samples.count - margin] {
                XCTAssertEqual(v, 0.3, accuracy: 2e-6, "\(input) → \(output)")
            }
        }
    }

    func testFastPathMatchesScalarReferenceOnRandomSignals() {
        var rng = SeededGenerator(seed: 42)
        // Exact polyphase tables and the interpolated-phase path (L > 1024: 44101 → 16000, 16000 → 44101).
        for (input, output) in [(44_100, 16_000), (48_000, 16_000), (11_025, 16_000), (8000, 16_000), (96_000, 16_000),
                                (44_101, 16_000), (16_000, 44_101), (5, 7)] {
            let n = Int.random(in: 301...3001, using: &rng) | 1
            let audio = AudioBuffer(sampleRate: input, samples: (0..<n).map { _ in Float.random(in: -1...1, using: &rng) })
            let fast = Resampler.resample(audio, to: output)
            let reference = Resampler.resampleReference(audio, to: output)
            XCTAssertEqual(fast.samples.count, reference.samples.count)
            var worst: Float = 0
            for (a, b) in zip(fast.samples, reference.samples) { worst = max(worst, abs(a - b)) }
            XCTAssertLessThan(worst, 2e-5, "\(input) → \(output)")
            print("resampler fast vs reference, \(input) → \(output): max |difference| \(worst)")
        }
    }

    func testStreamingInChunksIsBitIdenticalToOneShot() {
        var rng = SeededGenerator(seed: 9)
        for (input, output) in [(48_000, 16_000), (44_100, 16_000), (8000, 16_000), (44_101, 16_000)] {
            let samples = (0..<20_011).map { _ in Float.random(in: -1...1, using: &rng) }
            let whole = Resampler.resample(AudioBuffer(sampleRate: input, samples: samples), to: output).samples
            var streaming = StreamingResampler(from: input, to: output)
            var pieces = [Float]()
            var offset = 0
            while offset < samples.count {
                let size = min(samples.count - offset, Int.random(in: 0...700, using: &rng))
                pieces += streaming.process(Array(samples[offset..<offset + size]))
                offset += size
            }
            streaming.finish(appendingTo: &pieces)
            XCTAssertEqual(pieces, whole, "\(input) → \(output)")
        }
    }

    func testSameRateIsIdentityAndAnalysisRateIs16k() {
        let audio = AudioBuffer(sampleRate: 16_000, samples: [0.1, -0.2, 0.3])
        XCTAssertEqual(audio.resampledForAnalysis(), audio)
        let cd = sine(440, rate: 44_100, seconds: 1)
        let analysed = cd.resampledForAnalysis()
        XCTAssertEqual(analysed.sampleRate, 16_000)
        XCTAssertEqual(analysed.samples.count, 16_000)
    }

    func testResamplingAMinuteOf48kIsFast() {
        #if DEBUG
        let seconds = 3  // timing means nothing unoptimised; keep the debug run short
        #else
        let seconds = 60
        #endif
        var rng = SeededGenerator(seed: 1)
        let minute = AudioBuffer(sampleRate: 48_000, samples: (0..<48_000 * seconds).map { _ in Float.random(in: -0.5...0.5, using: &rng) })
        var start = Date()
        let out = Resampler.resample(minute, to: 16_000)
        print("resample \(seconds) s 48 kHz → 16 kHz: \(Int(Date().timeIntervalSince(start) * 1000)) ms")
        XCTAssertEqual(out.samples.count, 16_000 * seconds)
        let cd = AudioBuffer(sampleRate: 44_100, samples: Array(minute.samples.prefix(44_100 * seconds)))
        start = Date()
        let cdOut = Resampler.resample(cd, to: 16_000)
        print("resample \(seconds) s 44.1 kHz → 16 kHz: \(Int(Date().timeIntervalSince(start) * 1000)) ms")
        XCTAssertEqual(cdOut.samples.count, 16_000 * seconds)
        // White noise in [-0.5, 0.5] keeps about 16/48 of its power (RMS 0.2887·√(1/3)) after the low-pass.
        let power = out.samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(out.samples.count)
        XCTAssertEqual(power.squareRoot(), 0.2887 * (0.95 / 3).squareRoot(), accuracy: 0.01)
    }
}
