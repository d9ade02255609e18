import XCTest
import ParlaMedia
import ParlaTestSupport
@testable import ParlaMotion

/// The espeak-ng fixture: real (synthetic-voice) speech with pauses between sentences.
final class SpeechClipTests: XCTestCase {
    /// RMS level in dBFS of the 40 ms of audio centred on each frame time, measured independently of the
    /// composer's own analysis.
    private func frameLevels(_ audio: AudioBuffer, fps: Double, count: Int) -> [Double] {
        (0..<count).map { n in
            let centre = Int(Double(n) / fps * Double(audio.sampleRate))
            let lo = max(0, centre - 320), hi = min(audio.samples.count, centre + 320)
            guard hi > lo else { return -120 }
            let ms = audio.samples[lo..<hi].reduce(0.0) { $0 + Double($1) * Double($1) } / Double(hi - lo)
            return 10 * log10(max(ms, 1e-12))
        }
    }

    func testMouthOpensInWordsAndIsClosedInThePauses() throws {
        let audio = try MotionTestAudio.speechFixture()
        XCTAssertEqual(audio.sampleRate, 16_000)
        let fps = 30.0
        let frames = MotionComposer(options: Self.acoustic).frames(for: audio)
        XCTAssertEqual(frames.count, Int((audio.duration * fps).rounded(.up)))
        let levels = frameLevels(audio, fps: fps, count: frames.count)
        let jaw = MotionTestMetrics.track(frames, .jawOpen)
        let peak = levels.max()!

        // Words: frames within 15 dB of the loudest. The jaw is open in nearly all of them.
        let words = levels.indices.filter { levels[$0] > peak - 15 }
        let openInWords = words.filter { jaw[$0] > 0.08 }.count
        XCTAssertGreaterThan(Double(openInWords) / Double(words.count), 0.85)
        XCTAssertGreaterThan(words.map { jaw[$0] }.reduce(0, +) / Float(words.count), 0.25)
        XCTAssertLessThan(jaw.max()!, 0.8)

        // Pauses: runs of digital silence of at least 250 ms; skip the first 200 ms (the mouth's release) and the
        // last 70 ms (it may open just before the next word). Every mouth shape is exactly 0 there.
        var pauses = [Range<Int>]()
        var start: Int?
        for n in 0...levels.count {
            let silent = n < levels.count && levels[n] < -80
            if silent, start == nil { start = n }
            if !silent, let s = start {
                if Double(n - s) / fps >= 0.25 { pauses.append(s..<n) }
                start = nil
            }
        }
        XCTAssertGreaterThanOrEqual(pauses.count, 3, "two sentence pauses and the trailing silence")
        for pause in pauses {
            let inner = (pause.lowerBound + Int(0.2 * fps))..<(pause.upperBound - (pause.upperBound == levels.count ? 0 : Int(0.07 * fps) + 1))
            XCTAssertFalse(inner.isEmpty)
            for n in inner {
                for shape in MotionTestMetrics.mouthShapes {
                    XCTAssertEqual(frames[n].blendshapes[shape], 0, "\(shape) at \(frames[n].time) s in a pause")
                }
            }
        }

        // Jaw against the loudness envelope (dB above −60, normalised) at the best lag, with a text plot.
        let envelope = levels.map { max(0, ($0 - (peak - 45)) / 45) }
        var best = (lag: 0, r: -1.0)
        for lag in -6...6 {
            let r = MotionTestMetrics.correlation(jaw.map(Double.init), envelope, lag: lag)
            if r > best.r { best = (lag, r) }
        }
        print("espeak clip: \(frames.count) frames, jaw/envelope correlation r = \(best.r) at lag \(Double(best.lag) * 1000 / fps) ms")
        for row in stride(from: 0, to: frames.count, by: 72) {
            let range = row..<min(frames.count, row + 72)
            print(String(format: "%5.2fs env ", Double(row) / fps) + MotionTestMetrics.sparkline(range.map { envelope[$0] }, scale: 1))
            print("       jaw " + MotionTestMetrics.sparkline(range.map { Double(jaw[$0]) }, scale: 0.8))
        }
        XCTAssertGreaterThan(best.r, 0.6)
        XCTAssertLessThanOrEqual(abs(best.lag), 1, "within one 33 ms frame")
    }

    func testArticulationShapesAppearOnRealSpeech() throws {
        let audio = try MotionTestAudio.speechFixture()
        let frames = MotionComposer(options: Self.acoustic).frames(for: audio)
        // Over a real sentence the lips do more than open: they close on dips, round, spread and show teeth.
        for shape in [Blendshape.mouthClose, .mouthFunnel, .mouthPucker, .mouthStretchLeft, .mouthSmileLeft,
                      .mouthLowerDownLeft, .mouthUpperUpLeft, .mouthPressLeft] {
            XCTAssertGreaterThan(MotionTestMetrics.track(frames, shape).max()!, 0.05, "\(shape)")
        }
        for frame in frames {
            XCTAssertLessThanOrEqual(frame.blendshapes[.mouthClose], frame.blendshapes[.jawOpen] + 1e-6)
            XCTAssertEqual(frame.blendshapes[.mouthStretchLeft], frame.blendshapes[.mouthStretchRight])
            XCTAssertEqual(frame.blendshapes[.eyeBlinkLeft], frame.blendshapes[.eyeBlinkRight])
        }
        // The head nods during speech: some stressed syllables were found.
        let analysis = try XCTUnwrap(MotionComposer(options: MotionOptions()).analyse(audio))
        let head = HeadMotion(features: analysis.features, activity: analysis.activity, jaw: analysis.mouth.jawOpen,
                              seed: 1, motionScale: 1, still: false)
        XCTAssertGreaterThanOrEqual(head.stressEvents.count, 3)
        for (a, b) in zip(head.stressEvents, head.stressEvents.dropFirst()) {
            XCTAssertGreaterThanOrEqual(b.time - a.time, 0.35 - 1e-9, "nods at least 0.35 s apart")
        }
        XCTAssertTrue(head.stressEvents.allSatisfy { $0.strength >= 0.35 && $0.strength <= 1 })
        let pitch = frames.map { $0.headPitch }
        XCTAssertLessThan(MotionTestMetrics.maxSecondDifference(pitch), 0.3 * .pi / 180, "smooth nods at 30 fps")
    }

    private static var acoustic: MotionOptions {
        var options = MotionOptions()
        options.mouthDriver = .acoustic
        return options
    }
}
