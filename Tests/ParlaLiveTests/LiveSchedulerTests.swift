import XCTest
@testable import ParlaRuntime

/// The live loop's decisions in simulated time: a display with vblanks every `period`, a decoder taking `work`
/// seconds per picture, the monotonic clock as the audio position.
final class LiveSchedulerTests: XCTestCase {
    struct Run {
        var shown: [Int] = []
        var skipped = 0
        var offsets: [Double] = []
        var waits = 0
    }

    func simulate(fps: Double, period: Double, work: Double, seconds: Double, jitter: [Double] = [0]) -> Run {
        let timeline = LiveTimeline(fps: fps, clipDuration: seconds, speechFrames: Int(seconds * fps), totalFrames: Int(seconds * fps) + 60,
                                    idleStart: Int(seconds * fps), loop: false)
        var scheduler = LiveScheduler(timeline: timeline, refreshPeriod: period)
        var run = Run()
        var now = 0.0
        var k = 0
        while now < seconds {
            switch scheduler.next(now: now, refreshPeriod: period, predictedPosition: { $0 }) {
            case let .wait(until):
                XCTAssertGreaterThan(until, now)
                XCTAssertLessThanOrEqual(until - now, min(period, 0.5 / fps) + 1e-12)
                run.waits += 1
                now = until
            case let .show(tick, frame, skipped):
                XCTAssertEqual(frame, timeline.frameIndex(forTick: tick))
                run.shown.append(tick)
                run.skipped += skipped
                let ready = now + work + jitter[k % jitter.count]
                k += 1
                let vblank = (ready / period).rounded(.up) * period
                let landed = scheduler.flipLanded(at: vblank, heard: vblank)
                XCTAssertEqual(landed?.tick, tick)
                if let landed { run.offsets.append(landed.offset) }
                XCTAssertNil(scheduler.flipLanded(at: vblank, heard: vblank), "one landing per picture")
                now = vblank
            }
        }
        return run
    }

    func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }

    func testFastDecoderShowsEveryFrameOnTime() {
        let run = simulate(fps: 30, period: 1 / 60.0, work: 0.004, seconds: 4)
        XCTAssertEqual(run.skipped, 0)
        XCTAssertEqual(run.shown.count, 120, accuracy: 2)
        XCTAssertEqual(run.shown, run.shown.sorted(), "ticks only move forward")
        XCTAssertEqual(Set(run.shown).count, run.shown.count, "each picture once")
        XCTAssertGreaterThan(run.waits, 0, "waits between 30 fps frames on a 60 Hz display")
        XCTAssertLessThanOrEqual(run.offsets.dropFirst(3).map(abs).max()!, 1 / 60.0 + 1e-9, "within one refresh")
    }

    func testSlowDecoderDropsFramesButStaysInSync() {
        // 50 ms per picture: every second or third tick is shown; without looking ahead by the latency every
        // picture would be ~60 ms late.
        let run = simulate(fps: 30, period: 1 / 60.0, work: 0.05, seconds: 6, jitter: [0, 0.01, -0.01, 0.004])
        XCTAssertGreaterThan(run.skipped, 60)
        XCTAssertEqual(run.shown.count + run.skipped, run.shown.last! - run.shown.first! + 1, "every tick shown or counted as dropped")
        // A picture lands at most one frame after it fell due (never before): in sync, the offset lies in
        // (−1/fps, 0] give or take the decoder's jitter, about −½ frame on average.
        let settled = Array(run.offsets.dropFirst(5))
        XCTAssertGreaterThan(mean(settled), -0.75 / 30, "mean A/V offset \(mean(settled))")
        XCTAssertLessThan(mean(settled), 0.005, "mean A/V offset \(mean(settled))")
        // Single pictures: one frame, plus the decoder's jitter, plus a refresh period (where a picture lands
        // between vblanks is not predicted).
        XCTAssertLessThan(settled.map(abs).max()!, 1 / 30.0 + 0.011 + 1 / 60.0)
    }

    func testNoVBlankDisplayLikeVirtioGPU() {
        // Flips land as soon as the picture is ready (period → tiny): pictures keep up with the content rate.
        let run = simulate(fps: 25, period: 1e-4, work: 0.012, seconds: 3)
        XCTAssertEqual(run.skipped, 0)
        XCTAssertLessThan(abs(mean(Array(run.offsets.dropFirst(3)))), 0.005)
    }
}
