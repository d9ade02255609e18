import XCTest
import ParlaMedia
import ParlaTestSupport
@testable import ParlaMotion

final class MotionComposerTests: XCTestCase {
    private func composer(fps: Double = 30, seed: UInt64 = 1, scale: Float = 1, still: Bool = false) -> MotionComposer {
        var options = MotionOptions()
        options.fps = fps
        options.seed = seed
        options.controls.motionScale = scale
        options.controls.still = still
        options.mouthDriver = .acoustic   // these tests pin the acoustic driver; VisemeNet has its own
        return MotionComposer(options: options)
    }

    func testSilenceAndLowNoiseKeepTheMouthExactlyClosedAndTheHeadSmooth() {
        let inputs: [(String, [Float])] = [
            ("zeros", [Float](repeating: 0, count: 8 * 16_000)),
            ("noise −60 dBFS", MotionTestAudio.whiteNoise(seconds: 8, rmsDB: -60, seed: 21)),
        ]
        for (name, samples) in inputs {
            let frames = composer().frames(for: AudioBuffer(sampleRate: 16_000, samples: samples))
            XCTAssertEqual(frames.count, 240, name)
            for shape in MotionTestMetrics.mouthShapes {
                XCTAssertTrue(frames.allSatisfy { $0.blendshapes[shape] == 0 }, "\(name): \(shape) moved")
            }
            // Idle life: the head drifts a little, smoothly, and stays small.
            let pitch = frames.map { $0.headPitch }, yaw = frames.map { $0.headYaw }
            XCTAssertGreaterThan(pitch.max()! - pitch.min()!, 0.1 * .pi / 180, name)
            XCTAssertLessThan(pitch.map(abs).max()!, 2 * .pi / 180, name)
            XCTAssertLessThan(yaw.map(abs).max()!, 3 * .pi / 180, name)
            for track in [pitch, yaw, frames.map { $0.headRoll }] {
                // At most 0.02° of change in velocity per frame at 30 fps: no jitter.
                XCTAssertLessThan(MotionTestMetrics.maxSecondDifference(track), 0.02 * .pi / 180, name)
            }
        }
    }

    func testSyllableTrainOpensTheJawOncePerSyllableInStepWithTheEnvelope() {
        let train = MotionTestAudio.syllableTrain(count: 12)
        let fps = 100.0
        let frames = composer(fps: fps).frames(for: train.audio)
        let jaw = MotionTestMetrics.track(frames, .jawOpen)
        // One clear peak per syllable and near-closed jaw in the middle of each gap.
        var peaks = [Float](), gaps = [Float](), offsets = [Double]()
        for onset in train.onsets {
            let window = Int((onset - 0.05) * fps)..<Int((onset + train.voiced + 0.05) * fps)
            let peak = window.map { jaw[$0] }.max()!
            peaks.append(peak)
            let maxima = window.dropFirst().dropLast().filter {
                jaw[$0] > jaw[$0 - 1] && jaw[$0] >= jaw[$0 + 1] && jaw[$0] > 0.5 * peak
            }
            XCTAssertEqual(maxima.count, 1, "syllable at \(onset) s has \(maxima.count) jaw maxima")
            // The jaw peaks at or up to 40 ms before the envelope's peak (mid-syllable), never more than 40 ms after.
            let peakTime = Double(window.first { jaw[$0] == peak }!) / fps
            let peakOffset = peakTime - (onset + train.voiced / 2)
            XCTAssertLessThanOrEqual(peakOffset, 0.040 + 1e-9, "jaw peak late at \(onset) s")
            XCTAssertGreaterThanOrEqual(peakOffset, -0.060 - 1e-9, "jaw peak far too early at \(onset) s")
            offsets.append(peakOffset)
            let gapMiddle = Int((onset + train.voiced + 0.06) * fps)
            XCTAssertLessThan(jaw[gapMiddle], 0.12, "gap after \(onset) s")
            gaps.append(jaw[gapMiddle])
        }
        XCTAssertGreaterThan(peaks.min()!, 0.3)
        XCTAssertLessThan(peaks.max()!, 0.75)
        // Before the first and after the last syllable the mouth is exactly shut.
        XCTAssertTrue(jaw[0..<Int((train.onsets[0] - 0.1) * fps)].allSatisfy { $0 == 0 })
        let end = Int((train.onsets.last! + train.voiced + 0.25) * fps)
        XCTAssertTrue(jaw[end...].allSatisfy { $0 == 0 })
        // Correlation with the envelope at the best lag (positive lag = mouth late).
        let envelope = frames.map { train.envelope(at: $0.time) }
        let jawD = jaw.map(Double.init)
        var best = (lag: 0, r: -1.0)
        for lag in -20...20 {
            let r = MotionTestMetrics.correlation(jawD, envelope, lag: lag)
            if r > best.r { best = (lag, r) }
        }
        print("syllable train r by lag (ms):", (-6...6).map { "\($0 * 10): \(String(format: "%.3f", MotionTestMetrics.correlation(jawD, envelope, lag: $0)))" })
        print("syllable train: best lag \(Double(best.lag) * 1000 / fps) ms, r = \(best.r), peaks \(peaks.min()!)…\(peaks.max()!), jaw peak − envelope peak \(offsets.min()! * 1000)…\(offsets.max()! * 1000) ms, mid-gap jaw ≤ \(gaps.max()!)")
        XCTAssertGreaterThan(best.r, 0.7)
        XCTAssertLessThanOrEqual(abs(Double(best.lag) / fps), 0.040 + 1e-9)
    }

    func testFrameCountIsCeilOfDurationTimesFPS() {
        for (count, fps, expected) in [(16_000, 30.0, 30), (16_001, 30.0, 31), (0, 30.0, 0), (1, 25.0, 1),
                                       (48_000, 29.97, 90), (12_345, 60.0, 47), (16_000 * 3, 30.0, 90)] {
            let audio = AudioBuffer(sampleRate: 16_000, samples: [Float](repeating: 0, count: count))
            let frames = composer(fps: fps).frames(for: audio)
            XCTAssertEqual(frames.count, expected, "\(count) samples at \(fps) fps")
            for (n, frame) in frames.enumerated() { XCTAssertEqual(frame.time, Double(n) / fps) }
        }
        XCTAssertTrue(composer(fps: 0).frames(for: AudioBuffer(sampleRate: 16_000, samples: [0, 0])).isEmpty)
    }

    func testSameSeedRepeatsAndAnotherSeedChangesHeadAndBlinks() throws {
        let audio = try MotionTestAudio.speechFixture()
        let a = composer(seed: 1).frames(for: audio)
        let b = composer(seed: 1).frames(for: audio)
        let c = composer(seed: 2).frames(for: audio)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.map { $0.headYaw }, c.map { $0.headYaw })
        XCTAssertNotEqual(a.map { $0.headPitch }, c.map { $0.headPitch })
        XCTAssertNotEqual(MotionTestMetrics.track(a, .eyeBlinkLeft), MotionTestMetrics.track(c, .eyeBlinkLeft))
        // The mouth depends on the audio only.
        XCTAssertEqual(MotionTestMetrics.track(a, .jawOpen), MotionTestMetrics.track(c, .jawOpen))
    }

    func testStillAndZeroScaleRemoveHeadMotion() throws {
        let audio = try MotionTestAudio.speechFixture()
        for frame in composer(still: true).frames(for: audio) {
            XCTAssertEqual(frame.headPitch, 0)
            XCTAssertEqual(frame.headYaw, 0)
            XCTAssertEqual(frame.headRoll, 0)
            XCTAssertEqual(frame.translation, .zero)
            XCTAssertEqual(frame.scale, 1)
        }
        let still = composer(still: true).frames(for: audio)
        XCTAssertGreaterThan(MotionTestMetrics.track(still, .jawOpen).max()!, 0.3, "the mouth still moves")
        let zero = composer(scale: 0).frames(for: audio)
        for frame in zero {
            XCTAssertEqual(frame.headPitch, 0)
            XCTAssertEqual(frame.headYaw, 0)
            XCTAssertEqual(frame.headRoll, 0)
            XCTAssertEqual(frame.translation, .zero)
            XCTAssertEqual(frame.blendshapes[.browInnerUp], 0)
            XCTAssertEqual(frame.blendshapes[.browOuterUpLeft], 0)
        }
        XCTAssertEqual(MotionTestMetrics.track(zero, .jawOpen), MotionTestMetrics.track(still, .jawOpen))
        // Scale 1 moves the head within the stated limits; half scale halves it.
        let full = composer().frames(for: audio), half = composer(scale: 0.5).frames(for: audio)
        XCTAssertGreaterThan(full.map { abs($0.headPitch) }.max()!, 0.5 * .pi / 180)
        XCTAssertLessThanOrEqual(full.map { abs($0.headPitch) }.max()!, 4 * .pi / 180)
        XCTAssertLessThanOrEqual(full.map { abs($0.headYaw) }.max()!, 5 * .pi / 180)
        XCTAssertLessThanOrEqual(full.map { abs($0.headRoll) }.max()!, 3 * .pi / 180)
        for (f, h) in zip(full, half) { XCTAssertEqual(h.headYaw, 0.5 * f.headYaw, accuracy: 1e-7) }
    }

    func testBlinksAreNaturalAndNeverTooFrequent() {
        let audio = AudioBuffer(sampleRate: 16_000, samples: MotionTestAudio.whiteNoise(seconds: 30, rmsDB: -60, seed: 8))
        for seed: UInt64 in 1...6 {
            let frames = composer(fps: 60, seed: seed).frames(for: audio)
            let left = MotionTestMetrics.track(frames, .eyeBlinkLeft)
            XCTAssertEqual(left, MotionTestMetrics.track(frames, .eyeBlinkRight), "both eyes blink together")
            XCTAssertEqual(left.max()!, 1, accuracy: 0.05, "a blink closes the eye")
            // Closures start where the lid passes 0.5; a double blink's second closure follows within 0.6 s.
            let closures = MotionTestMetrics.risingCrossings(left, threshold: 0.5).map { Double($0) / 60 }
            var events = [Double]()
            for t in closures where events.last.map({ t - $0 > 0.6 }) ?? true { events.append(t) }
            for first in 0..<3 {
                XCTAssertGreaterThanOrEqual(events.filter { $0 >= Double(first) * 10 && $0 < Double(first + 1) * 10 }.count,
                                            1, "seed \(seed): no blink in 10 s window \(first)")
            }
            for (a, b) in zip(events, events.dropFirst()) {
                XCTAssertGreaterThanOrEqual(b - a, BlinkSchedule.minimumInterval - 1.0 / 60, "seed \(seed)")
            }
            XCTAssertGreaterThan(events.count, 4)
            XCTAssertLessThan(events.count, 16, "mean interval about 3.4 s over 30 s")
            // The lid is closed (> 0.5) for about 80 ms of a 270 ms blink, never for long.
            var run = 0, longest = 0
            for v in left { run = v > 0.5 ? run + 1 : 0; longest = max(longest, run) }
            XCTAssertLessThanOrEqual(longest, 10, "closed at most ~160 ms")
        }
    }

    func testBlinkScheduleKeepsMinimumIntervalAndFavoursPhraseEnds() {
        var pulled = 0, total = 0
        for seed: UInt64 in 0..<40 {
            let ends = stride(from: 2.0, to: 60, by: 2.7).map { $0 }
            let schedule = BlinkSchedule(duration: 60, phraseEnds: ends, seed: seed)
            for (a, b) in zip(schedule.blinks, schedule.blinks.dropFirst()) {
                XCTAssertGreaterThanOrEqual(b.start - a.start, BlinkSchedule.minimumInterval - 1e-9)
            }
            for blink in schedule.blinks {
                total += 1
                if ends.contains(where: { blink.start - $0 >= 0.08 && blink.start - $0 <= 0.30 }) { pulled += 1 }
            }
        }
        // By chance alone ~8 % of blinks would fall 80–300 ms after a phrase end every 2.7 s.
        XCTAssertGreaterThan(Double(pulled) / Double(total), 0.3)
    }

    func testCheckedFramesRejectsBadInput() {
        XCTAssertThrowsError(try composer().checkedFrames(for: AudioBuffer(sampleRate: 4000, samples: [0]))) {
            XCTAssertEqual("\($0)", "audio buffer: sample rate 4000 Hz is below the 8000 Hz the speech analysis needs (expected 16000 Hz)")
        }
        XCTAssertThrowsError(try composer().checkedFrames(for: AudioBuffer(sampleRate: 16_000, samples: [0, .nan]))) {
            XCTAssertEqual("\($0)", "audio buffer: sample 1 is NaN or infinite")
        }
        XCTAssertThrowsError(try composer(fps: -1).checkedFrames(for: AudioBuffer(sampleRate: 16_000, samples: [0]))) {
            XCTAssertEqual("\($0)", "motion options: fps -1.0 must be above 0 and at most 1000")
        }
        XCTAssertThrowsError(try composer(fps: 1e12).checkedFrames(for: AudioBuffer(sampleRate: 16_000, samples: [0])))
        XCTAssertTrue(composer(fps: 1e12).frames(for: AudioBuffer(sampleRate: 16_000, samples: [0])).isEmpty)
        XCTAssertThrowsError(try composer(scale: .nan).checkedFrames(for: AudioBuffer(sampleRate: 16_000, samples: [0])))
        // The tolerant form still returns frames, with a closed mouth where the input is unusable.
        let frames = composer().frames(for: AudioBuffer(sampleRate: 4000, samples: [Float](repeating: 0.5, count: 4000)))
        XCTAssertEqual(frames.count, 30)
        XCTAssertTrue(frames.allSatisfy { $0.blendshapes[.jawOpen] == 0 })
        let withNaN = composer().frames(for: AudioBuffer(sampleRate: 16_000, samples: [Float](repeating: .infinity, count: 1600)))
        XCTAssertEqual(withNaN.count, 3)
        XCTAssertTrue(withNaN.allSatisfy { $0.headPitch.isFinite && $0.blendshapes.values.allSatisfy(\.isFinite) })
    }

    func testOtherSampleRatesAreAnalysedAtTheirOwnRate() {
        let train = MotionTestAudio.syllableTrain(count: 6)
        // Naive 2:1 decimation after a 2-tap average keeps the 140 Hz harmonics below 4 kHz.
        let s = train.audio.samples
        let down = stride(from: 0, to: s.count - 1, by: 2).map { (i: Int) -> Float in 0.5 * (s[i] + s[i + 1]) }
        let frames = composer(fps: 100).frames(for: AudioBuffer(sampleRate: 8000, samples: down))
        let jaw = MotionTestMetrics.track(frames, .jawOpen)
        for onset in train.onsets {
            XCTAssertGreaterThan(jaw[Int((onset + train.voiced / 2) * 100)], 0.25, "syllable at \(onset) s at 8 kHz")
        }
    }
}
