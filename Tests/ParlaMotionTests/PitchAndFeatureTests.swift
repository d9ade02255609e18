import XCTest
import ParlaMedia
import ParlaTestSupport
@testable import ParlaMotion

final class PitchAndFeatureTests: XCTestCase {
    func testYINDifferenceMatchesScalarReferenceOnOddSizes() {
        var rng = SeededGenerator(seed: 5)
        for (w, maxLag) in [(1, 1), (7, 3), (13, 29), (400, 229), (401, 230), (203, 117)] {
            let frame = (0..<(w + maxLag)).map { _ in Float.random(in: -1...1, using: &rng) }
            var fast = [Float](repeating: -1, count: maxLag + 1)
            frame.withUnsafeBufferPointer { x in
                fast.withUnsafeMutableBufferPointer {
                    PitchEstimator.difference(frame: x.baseAddress!, integrationLength: w, maxLag: maxLag, into: $0.baseAddress!)
                }
            }
            let reference = PitchEstimator.differenceReference(frame: frame, integrationLength: w, maxLag: maxLag)
            for tau in 0...maxLag {
                XCTAssertEqual(fast[tau], reference[tau], accuracy: 1e-4 * max(1, reference[tau]), "W \(w) τ \(tau)")
            }
        }
    }

    func testDecimatorMatchesReferenceAndRejectsAliases() {
        var rng = SeededGenerator(seed: 17)
        for factor in [1, 2, 3, 5] {
            let decimator = Decimator(factor: factor)
            XCTAssertEqual(decimator.taps.reduce(0, +), 1, accuracy: 1e-5)
            for count in [1, 7, 33, 1001] {
                let x = (0..<count).map { _ in Float.random(in: -1...1, using: &rng) }
                let fast = decimator.decimate(x), reference = decimator.decimateReference(x)
                XCTAssertEqual(fast.count, reference.count)
                for (a, b) in zip(fast, reference) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            }
        }
        // At 16 kHz → 8 kHz a 500 Hz tone passes and a 6 kHz tone (which would alias to 2 kHz) is removed.
        let decimator = Decimator(factor: Decimator.factorForPitch(sampleRate: 16_000))
        XCTAssertEqual(decimator.factor, 2)
        func gain(_ hz: Double) -> Float {
            let x = (0..<4000).map { Float(sin(2 * Double.pi * hz * Double($0) / 16_000)) }
            let y = decimator.decimate(x)[100..<1900]
            return (y.reduce(0) { $0 + $1 * $1 } / Float(y.count) * 2).squareRoot()
        }
        XCTAssertEqual(gain(500), 1, accuracy: 0.02)
        XCTAssertLessThan(gain(6000), 0.03)
    }

    func testEstimatesF0OfHarmonicTonesAndRejectsNoise() throws {
        let estimator = try PitchEstimator(sampleRate: 16_000)
        XCTAssertEqual(estimator.maxLag, 229)
        var scratch = [Float](repeating: 0, count: estimator.maxLag + 1)
        for f0 in [75.0, 100.0, 140.0, 220.0, 350.0] {
            let frame = (0..<estimator.frameLength).map { i -> Float in
                let t: Double = Double(i) / 16_000
                let a: Double = 0.5 * sin(2 * Double.pi * f0 * t)
                let b: Double = 0.3 * sin(2 * Double.pi * 2 * f0 * t + 1)
                let c: Double = 0.2 * sin(2 * Double.pi * 3 * f0 * t)
                return Float(a + b + c)
            }
            let estimate = frame.withUnsafeBufferPointer { x in
                scratch.withUnsafeMutableBufferPointer { estimator.estimate(frame: x.baseAddress!, scratch: $0.baseAddress!) }
            }
            XCTAssertEqual(Double(estimate.f0Hz), f0, accuracy: f0 * 0.01, "f0 \(f0)")
            XCTAssertGreaterThan(estimate.periodicity, 0.9)
        }
        let noise = MotionTestAudio.whiteNoise(seconds: 0.1, rmsDB: -20, seed: 9)
        let estimate = noise.withUnsafeBufferPointer { x in
            scratch.withUnsafeMutableBufferPointer { estimator.estimate(frame: x.baseAddress!, scratch: $0.baseAddress!) }
        }
        XCTAssertLessThan(estimate.periodicity, SpeechFeatureExtractor.voicingThreshold)
    }

    func testFeaturesOfToneNoiseAndSilence() throws {
        let extractor = try SpeechFeatureExtractor(sampleRate: 16_000)
        let n = 16_000
        // 0.5 s of a 200 Hz harmonic tone, then 0.5 s of white noise at −20 dBFS.
        var samples = (0..<(n / 2)).map { i -> Float in
            let t = Double(i) / 16_000
            return Float(0.3 * sin(2 * .pi * 200 * t) + 0.15 * sin(2 * .pi * 400 * t))
        }
        samples += MotionTestAudio.whiteNoise(seconds: 0.5, rmsDB: -20, seed: 2)
        let f = extractor.extract(samples)
        XCTAssertEqual(f.count, n / 160 + 1)
        XCTAssertEqual(f.hopSeconds, 0.01)
        for k in 5..<45 {
            XCTAssertTrue(f.voiced[k], "hop \(k)")
            XCTAssertEqual(f.f0Hz[k], 200, accuracy: 2)
            XCTAssertEqual(f.levelDB[k], 10 * log10((0.09 + 0.0225) / 2), accuracy: 0.3)
            XCTAssertLessThan(f.zeroCrossingRate[k], 0.05)
        }
        for k in 55..<95 {
            XCTAssertFalse(f.voiced[k], "hop \(k)")
            XCTAssertEqual(f.f0Hz[k], 0)
            XCTAssertEqual(f.levelDB[k], -20, accuracy: 1.5, "a 25 ms window of noise varies by about ±0.5 dB")
            XCTAssertGreaterThan(f.zeroCrossingRate[k], 0.35)
            XCTAssertGreaterThan(f.centroidHz[k], 3000)
            XCTAssertGreaterThan(f.tiltDBPerOctave[k], 3, "pre-emphasised white noise rises with frequency")
        }
        XCTAssertEqual(f.levelDB[55..<95].reduce(0, +) / 40, -20, accuracy: 0.3)
        XCTAssertLessThan(f.centroidHz[20], 1000)
        // The log-mel inside the features equals the standalone spectrogram of the same padded signal.
        // Hop k is centred on sample k·160, so its window starts at k·160 − 200.
        let padded = [Float](repeating: 0, count: 200) + samples
        let standalone = extractor.spectrogram.compute(padded)
        XCTAssertEqual(Array(f.logMel[0..<(80 * 90)]), Array(standalone[0..<(80 * 90)]))
        // Digital silence.
        let silent = extractor.extract([Float](repeating: 0, count: 3_200))
        XCTAssertTrue(silent.levelDB.allSatisfy { $0 == -120 })
        XCTAssertFalse(silent.voiced.contains(true))
    }

    func testSpeechActivityIgnoresSteadyNoiseAndFindsBursts() throws {
        let extractor = try SpeechFeatureExtractor(sampleRate: 16_000)
        for samples in [[Float](repeating: 0, count: 48_000),
                        MotionTestAudio.whiteNoise(seconds: 3, rmsDB: -60, seed: 4),
                        MotionTestAudio.whiteNoise(seconds: 3, rmsDB: -25, seed: 4)] {
            let f = extractor.extract(samples)
            let activity = SpeechActivity(levels: f.levelDB, hopSeconds: f.hopSeconds)
            XCTAssertTrue(activity.segments.isEmpty)
        }
        // A trimmed, pause-free voiced sound is speech; equally loud steady noise is not.
        let vowel = (0..<16_000).map { i -> Float in
            let t: Double = Double(i) / 16_000
            let envelope: Double = 0.2 * (1 + 0.2 * sin(2 * Double.pi * 3 * t))
            let tone: Double = sin(2 * Double.pi * 130 * t) + 0.5 * sin(2 * Double.pi * 260 * t)
            return Float(envelope * tone)
        }
        let vowelFeatures = extractor.extract(vowel)
        let vowelActivity = SpeechActivity(levels: vowelFeatures.levelDB, voiced: vowelFeatures.voiced,
                                           hopSeconds: vowelFeatures.hopSeconds)
        XCTAssertEqual(vowelActivity.segments.count, 1)
        XCTAssertGreaterThan(vowelActivity.segments.first?.count ?? 0, 95)
        let loudNoise = extractor.extract(MotionTestAudio.whiteNoise(seconds: 1, rmsDB: -15, seed: 6))
        XCTAssertTrue(SpeechActivity(levels: loudNoise.levelDB, voiced: loudNoise.voiced,
                                     hopSeconds: loudNoise.hopSeconds).segments.isEmpty)

        let train = MotionTestAudio.syllableTrain(count: 8)
        let f = extractor.extract(train.audio.samples)
        let activity = SpeechActivity(levels: f.levelDB, hopSeconds: f.hopSeconds)
        // 100 ms gaps are bridged: one segment from about the first onset to the last offset.
        XCTAssertEqual(activity.segments.count, 1)
        let segment = activity.segments[0]
        XCTAssertEqual(Double(segment.lowerBound) * 0.01, train.onsets[0], accuracy: 0.06)
        XCTAssertEqual(Double(segment.upperBound) * 0.01, train.onsets[7] + train.voiced, accuracy: 0.06)
    }
}
