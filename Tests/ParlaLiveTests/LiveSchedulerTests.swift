import XCTest
import ParlaIO
import ParlaTestSupport
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

    /// One hour of looping signage on a 60 Hz panel whose sound card runs 300 ppm fast against CLOCK_MONOTONIC
    /// (crystals differ by 20–100 ppm; 300 is harsh), with an underrun at half time: the pictures follow the audio
    /// presentation clock (`snd_pcm_delay` readings through ``AudioPresentationClock``), so the A/V offset of
    /// every picture stays within a frame and the per-minute mean neither drifts nor leaves ±20 ms — while the
    /// sound itself ends up more than a second away from wall time.
    func testAnHourOfPlaybackOnAFastSoundCardDoesNotDrift() {
        let rate = 16_000, fps = 30.0, period = 1 / 60.0, hour = 3600.0
        let fast = 1.0003
        let stall = 1800.0..<1800.4            // the writer stalls: the device runs dry, nothing is heard
        let bufferFrames = 1_600                // the writer keeps 100 ms queued, in 10 ms periods
        let clip = 16.5
        let timeline = LiveTimeline(fps: fps, clipDuration: clip, speechFrames: Int(clip * fps), totalFrames: Int(clip * fps),
                                    idleStart: 0, loop: true)
        /// Content frames heard at monotonic time t.
        func heardFrames(_ t: Double) -> Double {
            let running = t < stall.lowerBound ? t : (t < stall.upperBound ? stall.lowerBound : t - (stall.upperBound - stall.lowerBound))
            return running * Double(rate) * fast
        }
        func sample(at t: Double) -> ClockSample {
            let heard = Int(heardFrames(t))
            let stalled = stall.contains(t)
            let written = stalled ? heard : (heard / 160 + 1) * 160 + bufferFrames - 160
            return ClockSample(framesWritten: written, delayFrames: written - heard, time: t, running: !stalled)
        }
        var scheduler = LiveScheduler(timeline: timeline, refreshPeriod: period)
        var perMinute = [[Double]](repeating: [], count: Int(hour / 60))
        var worst = (low: 0.0, high: -1.0)
        var now = 0.0
        var jitter = SeededGenerator(seed: 60)
        while now < hour {
            let reading = sample(at: now)
            let step = scheduler.next(now: now, refreshPeriod: period) {
                AudioPresentationClock.position(of: reading, sampleRate: rate, at: $0, assumingFeed: true)
            }
            switch step {
            case let .wait(until):
                now = until
            case .show:
                let ready = now + 0.004 + Double.random(in: 0...0.006, using: &jitter)
                let vblank = (ready / period).rounded(.up) * period
                let heard = AudioPresentationClock.position(of: sample(at: vblank), sampleRate: rate, at: vblank)
                guard let landed = scheduler.flipLanded(at: vblank, heard: heard) else { return XCTFail("no pending picture") }
                XCTAssertEqual(heard, heardFrames(vblank) / Double(rate), accuracy: 1.0 / Double(rate) + 1e-9)
                if now > 1 {
                    perMinute[min(perMinute.count - 1, Int(vblank / 60))].append(landed.offset)
                    worst = (min(worst.low, landed.offset), max(worst.high, landed.offset))
                }
                now = vblank
            }
        }
        XCTAssertGreaterThan(heardFrames(hour) / Double(rate) - hour, 0.6, "the sound card's clock really ran away from wall time")
        // Every picture: due frame n covers [n/fps, (n+1)/fps) of the sound; a refresh either way for where the flip lands.
        XCTAssertGreaterThanOrEqual(worst.low, -1 / fps - period - 1e-6, "picture late by more than a frame and a refresh")
        XCTAssertLessThanOrEqual(worst.high, period + 1e-6, "picture early by more than a refresh")
        let means = perMinute.map { $0.reduce(0, +) / Double($0.count) }
        XCTAssertTrue(perMinute.allSatisfy { $0.count > 1000 }, "pictures kept coming every minute")
        for (minute, m) in means.enumerated() { XCTAssertLessThanOrEqual(abs(m), 0.020, "minute \(minute): mean A/V offset \(m)") }
        XCTAssertEqual(means.last!, means.first!, accuracy: 0.002, "no drift from the first minute to the last")
    }
}
