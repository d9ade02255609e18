import Foundation
import ParlaMedia
import ParlaTestSupport

/// Audio for the motion tests: a minimal 16-bit PCM WAV reader and synthetic signals.
enum MotionTestAudio {
    struct WAVError: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads a canonical 16-bit PCM mono WAV (the fixtures this folder generates).
    static func readWAV16(_ url: URL) throws -> AudioBuffer {
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        func u32(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 | Int(bytes[o + 2]) << 16 | Int(bytes[o + 3]) << 24 }
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        guard bytes.count >= 12, String(bytes: bytes[0..<4], encoding: .ascii) == "RIFF",
              String(bytes: bytes[8..<12], encoding: .ascii) == "WAVE" else {
            throw WAVError(description: "\(url.lastPathComponent): not a RIFF/WAVE file")
        }
        var offset = 12
        var rate = 0, channels = 0, bits = 0
        while offset + 8 <= bytes.count {
            let id = String(bytes: bytes[offset..<offset + 4], encoding: .ascii) ?? ""
            let size = u32(offset + 4)
            let body = offset + 8
            if id == "fmt " {
                channels = u16(body + 2)
                rate = u32(body + 4)
                bits = u16(body + 14)
            } else if id == "data" {
                guard channels == 1, bits == 16, rate > 0 else {
                    throw WAVError(description: "\(url.lastPathComponent): expected 16-bit mono PCM")
                }
                let count = min(size, bytes.count - body) / 2
                let samples = (0..<count).map { i -> Float in
                    Float(Int16(bitPattern: UInt16(u16(body + 2 * i)))) / 32768
                }
                return AudioBuffer(sampleRate: rate, samples: samples)
            }
            offset = body + size + (size & 1)
        }
        throw WAVError(description: "\(url.lastPathComponent): no data chunk")
    }

    /// The espeak-ng fixture (see Tests/Fixtures/motion/generate_speech_fixture.sh).
    static func speechFixture() throws -> AudioBuffer {
        try readWAV16(Fixtures.url("motion/speech_en_16k.wav"))
    }

    /// Gaussian-ish white noise (sum of 4 uniforms) with RMS `rmsDB` dBFS.
    static func whiteNoise(seconds: Double, rmsDB: Float, seed: UInt64, rate: Int = 16_000) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        let rms = pow(10, rmsDB / 20)
        // The sum of 4 uniforms on [−1, 1] has variance 4/3.
        let scale = rms / (4.0 / 3.0).squareRoot()
        return (0..<Int(seconds * Double(rate))).map { _ in
            var s: Float = 0
            for _ in 0..<4 { s += Float.random(in: -1...1, using: &rng) }
            return s * scale
        }
    }

    /// A "syllable train": harmonic bursts (F0 140 Hz, harmonics to 3.5 kHz falling 6 dB/octave) under
    /// Hann envelopes of `voiced` seconds, one every `period` seconds, between `lead` and `tail` seconds of
    /// silence, plus white noise at −60 dBFS when `noise`. Returns the audio and the envelope function.
    struct SyllableTrain {
        let audio: AudioBuffer
        let onsets: [Double]
        let voiced: Double

        /// The amplitude envelope at `t` seconds (0 in the gaps, peak 1 mid-syllable).
        func envelope(at t: Double) -> Double {
            for onset in onsets where t >= onset && t < onset + voiced {
                let u = (t - onset) / voiced
                return 0.5 - 0.5 * cos(2 * Double.pi * u)
            }
            return 0
        }
    }

    static func syllableTrain(count: Int = 12, period: Double = 0.25, voiced: Double = 0.15, lead: Double = 0.4,
                              tail: Double = 0.6, peak: Float = 0.3, noise: Bool = true) -> SyllableTrain {
        let rate = 16_000
        let duration = lead + Double(count) * period + tail
        let n = Int(duration * Double(rate))
        let onsets = (0..<count).map { lead + Double($0) * period }
        var samples = noise ? whiteNoise(seconds: duration, rmsDB: -60, seed: 7) : [Float](repeating: 0, count: n)
        if samples.count < n { samples += [Float](repeating: 0, count: n - samples.count) }
        let f0 = 140.0
        let harmonics = Int(3500 / f0)
        var norm = 0.0
        for h in 1...harmonics { norm += 1 / Double(h) }
        let train = SyllableTrain(audio: AudioBuffer(sampleRate: rate, samples: []), onsets: onsets, voiced: voiced)
        for i in 0..<n {
            let t = Double(i) / Double(rate)
            let e = train.envelope(at: t)
            guard e > 0 else { continue }
            var s = 0.0
            for h in 1...harmonics { s += sin(2 * Double.pi * f0 * Double(h) * t) / Double(h) }
            samples[i] += peak * Float(e * s / norm)
        }
        return SyllableTrain(audio: AudioBuffer(sampleRate: rate, samples: samples), onsets: onsets, voiced: voiced)
    }
}
