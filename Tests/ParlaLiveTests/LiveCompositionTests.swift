import Foundation
import ParlaMedia
import ParlaMotion
import ParlaTestSupport
import XCTest
@testable import ParlaRuntime

/// Motion composed for live mode: the clip, then an idle tail that keeps moving.
final class LiveCompositionTests: XCTestCase {
    func testIdleTailFollowsTheClipAndKeepsMoving() throws {
        let url = Fixtures.url("motion/speech_en_16k.wav")
        let speech = try SpeechInput.load(url)
        var options = LiveOptions(audio: url)
        options.fps = 25
        options.idleSeconds = 6
        let (frames, timeline) = try LiveJob.compose(speech: speech, options: options)
        let expectedSpeech = Int((speech.duration * 25 - 1e-9).rounded(.up))
        XCTAssertEqual(timeline.speechFrames, expectedSpeech)
        XCTAssertEqual(frames.count, timeline.totalFrames)
        XCTAssertEqual(frames.count, Int((Double(speech.analysis.samples.count + 6 * 16_000) * 25 / 16_000 - 1e-9).rounded(.up)))
        XCTAssertEqual(timeline.idleStart, expectedSpeech + 25)
        // The mouth rests in the idle tail, but the head keeps moving: no frozen picture.
        let idle = frames[timeline.idleStart...]
        XCTAssertTrue(idle.allSatisfy { $0.blendshapes[.jawOpen] == 0 })
        let yaws = idle.map(\.headYaw)
        XCTAssertGreaterThan((yaws.max() ?? 0) - (yaws.min() ?? 0), 1e-4, "idle head motion")
        // Far beyond the tail, ticks still map to distinct idle frames over time.
        let late = (10_000..<10_050).map { timeline.frameIndex(forTick: $0) }
        XCTAssertTrue(late.allSatisfy { (timeline.idleStart..<timeline.totalFrames).contains($0) })
        XCTAssertGreaterThan(Set(late).count, 20)

        options.loop = true
        let (looped, loopTimeline) = try LiveJob.compose(speech: speech, options: options)
        XCTAssertEqual(looped.count, expectedSpeech)
        XCTAssertTrue(loopTimeline.loop)
        XCTAssertEqual(loopTimeline.totalFrames, expectedSpeech)
    }

    func testControlsReachTheLiveFrames() throws {
        let url = Fixtures.url("motion/speech_en_16k.wav")
        let speech = try SpeechInput.load(url)
        var options = LiveOptions(audio: url)
        options.idleSeconds = 2
        let (moving, _) = try LiveJob.compose(speech: speech, options: options)
        XCTAssertGreaterThan(moving.map { abs($0.headYaw) + abs($0.headPitch) }.max()!, 1e-3, "the head moves by default")
        options.controls.still = true
        options.controls.emotion = .happy
        let (still, _) = try LiveJob.compose(speech: speech, options: options)
        XCTAssertEqual(still.count, moving.count)
        XCTAssertTrue(still.allSatisfy { $0.headYaw == 0 && $0.headPitch == 0 && $0.headRoll == 0 }, "--still: no head motion")
        XCTAssertGreaterThan(still.map { $0.blendshapes[.jawOpen] }.max()!, 0.2, "--still: the mouth still speaks")
        XCTAssertGreaterThan(still.map { $0.blendshapes[.mouthSmileLeft] }.reduce(0, +) / Float(still.count),
                             moving.map { $0.blendshapes[.mouthSmileLeft] }.reduce(0, +) / Float(moving.count) + 0.05, "--emotion happy smiles")
    }
}
