import XCTest
import ParlaMedia
@testable import ParlaMotion

/// Throughput of the whole composer, printed for the record (the target is well under 100 ms per 10 s of audio in
/// release, see docs/motion.md). Speed is not asserted: a timed assertion flakes on a loaded or emulated machine
/// (it failed under qemu-user in the arm64 tier); the test checks the frame count and repeatability.
final class MotionPerformanceTests: XCTestCase {
    func testTenSecondsOfSpeechComposeToThreeHundredFramesRepeatably() throws {
        let clip = try MotionTestAudio.speechFixture().samples
        var samples = [Float]()
        while samples.count < 160_000 { samples += clip }
        let audio = AudioBuffer(sampleRate: 16_000, samples: Array(samples[0..<160_000]))
        let composer = MotionComposer(options: MotionOptions())
        var best = Double.infinity
        var frames = [MotionFrame]()
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            frames = composer.frames(for: audio)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        XCTAssertEqual(frames.count, 300)
        XCTAssertEqual(composer.frames(for: audio), frames, "the same audio composes the same frames")
        print(String(format: "composer: 10 s of audio → 300 frames in %.1f ms (%.0f× real time)", best * 1000, 10 / best))
    }
}
