import Foundation
import ParlaMedia
import ParlaMotion
@testable import ParlaRuntime
import ParlaTestSupport
import XCTest
@testable import ParlaVoice

/// `parla say` to a file: the mouth closes on every p/b/m at the time espeak-ng reported, and opens on vowels.
final class SayLipSyncTests: XCTestCase {
    /// The lips' gap as the rig draws it: jawOpen opens the mouth, mouthClose closes the lips against it.
    func lipGap(_ f: MotionFrame) -> Float { f.blendshapes[.jawOpen] - f.blendshapes[.mouthClose] }

    func testMouthClosesOnEveryBilabialAtTheReportedTime() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = "Peter picked a big map, maybe. Bob bought my pumpkin, Pam!"
        var request = SayRequest(text: text, output: dir.appendingPathComponent("say.y4m"), format: .y4m)
        request.face = .portrait(Fixtures.url("grace_hopper.jpg"))
        request.width = 96
        request.height = 96
        let job = try SayJob(request: request)
        let summary = try job.run()
        let speech = try XCTUnwrap(job.speech)
        let fps = request.motion.fps
        let frames = job.frames

        // The file: one frame per 1/fps over the speech, its WAV beside it with the synthesized samples.
        XCTAssertEqual(summary.render.frames, Int((speech.audio.duration * fps - 1e-9).rounded(.up)))
        XCTAssertEqual(try WAVFile.read(contentsOf: dir.appendingPathComponent("say.wav")).samples.count, speech.audio.samples.count)
        let y4m = try Data(contentsOf: request.output)
        XCTAssertEqual(y4m.count - (y4m.firstIndex(of: 0x0A)! + 1), frames.count * (6 + 96 * 96 * 3 / 2))

        // Every p/b/m: some frame whose interval [t − ½/fps, t + ½/fps] meets the phoneme's span shows closed lips.
        let closures = speech.lipClosures()
        XCTAssertEqual(closures.count, summary.closures.count)
        XCTAssertGreaterThanOrEqual(closures.count, 12)
        for c in closures {
            let first = max(0, Int(((c.start - 0.5 / fps) * fps).rounded(.up)))
            let last = min(frames.count - 1, Int(((c.end + 0.5 / fps) * fps).rounded(.down)))
            let gaps = (first...last).map { lipGap(frames[$0]) }
            XCTAssertLessThanOrEqual(gaps.min()!, 0.02, "\(c.phoneme) at \(c.start)…\(c.end) s: lips open on frames \(first)…\(last): \(gaps)")
        }

        // And the mouth is really open in the middle of open vowels (so the check above can fail).
        let rate = Double(speech.audio.sampleRate)
        var openVowels = 0
        for (i, p) in speech.phonemes.enumerated().dropLast() where PhonemeVisemes.viseme(forEspeakPhoneme: p.name) == .aa {
            let mid = (Double(p.sample) + Double(speech.phonemes[i + 1].sample)) / 2 / rate
            let n = min(frames.count - 1, Int((mid * fps).rounded()))
            XCTAssertGreaterThan(lipGap(frames[n]), 0.08, "\(p.name) at \(mid) s")
            openVowels += 1
        }
        XCTAssertGreaterThanOrEqual(openVowels, 3)
    }

    /// Live `parla say` (the speech through ALSA, the face on the display) composes through ``LiveJob`` with the
    /// synthesizer's phoneme events, like the file path: the same closures at the same times, then the idle tail.
    func testLiveSayFollowsThePhonemesToo() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let speech = try SpeechSynthesizer.shared.synthesize("Peter picked a big map, maybe. Bob bought my pumpkin, Pam!", options: VoiceOptions())
        let wav = dir.appendingPathComponent("say.wav")
        try SayLive.writeSpeech(speech, to: wav)
        var options = LiveOptions(audio: wav)
        options.visemes = speech.visemeEvents()
        options.idleSeconds = 2
        let fps = options.fps
        let (frames, timeline) = try LiveJob.compose(speech: try SpeechInput.load(wav), options: options)
        XCTAssertEqual(timeline.speechFrames, Int((speech.audio.duration * fps - 1e-9).rounded(.up)))
        XCTAssertGreaterThan(frames.count, timeline.speechFrames + Int(fps), "an idle tail follows")

        let closures = speech.lipClosures()
        XCTAssertGreaterThanOrEqual(closures.count, 12)
        for c in closures {
            let first = max(0, Int(((c.start - 0.5 / fps) * fps).rounded(.up)))
            let last = min(frames.count - 1, Int(((c.end + 0.5 / fps) * fps).rounded(.down)))
            let gaps = (first...last).map { lipGap(frames[$0]) }
            XCTAssertLessThanOrEqual(gaps.min()!, 0.02, "\(c.phoneme) at \(c.start)…\(c.end) s: lips open on frames \(first)…\(last): \(gaps)")
        }
        let rate = Double(speech.audio.sampleRate)
        var openVowels = 0
        for (i, p) in speech.phonemes.enumerated().dropLast() where PhonemeVisemes.viseme(forEspeakPhoneme: p.name) == .aa {
            let mid = (Double(p.sample) + Double(speech.phonemes[i + 1].sample)) / 2 / rate
            XCTAssertGreaterThan(lipGap(frames[Int((mid * fps).rounded())]), 0.08, "\(p.name) at \(mid) s")
            openVowels += 1
        }
        XCTAssertGreaterThanOrEqual(openVowels, 3)

        // Without the events the same clip is lip-read from the audio: a different mouth (the events are used).
        var acoustic = options
        acoustic.visemes = nil
        let (heard, _) = try LiveJob.compose(speech: try SpeechInput.load(wav), options: acoustic)
        let differing = (0..<timeline.speechFrames).filter { abs(lipGap(heard[$0]) - lipGap(frames[$0])) > 0.05 }.count
        XCTAssertGreaterThan(differing, timeline.speechFrames / 10)
    }
}
