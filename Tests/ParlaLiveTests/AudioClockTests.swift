import ParlaMedia
import ParlaTestSupport
import XCTest
@testable import ParlaIO
@testable import ParlaRuntime

/// The audio presentation clock, frame selection on it, and underrun recovery keeping picture and sound in sync.
final class AudioClockTests: XCTestCase {
    func testPositionFromWrittenFramesAndDelay() {
        let s = ClockSample(framesWritten: 48_000, delayFrames: 2_400, time: 10, running: true)
        XCTAssertEqual(AudioPresentationClock.position(of: s, sampleRate: 48_000, at: 10), 0.95, accuracy: 1e-12)
        XCTAssertEqual(AudioPresentationClock.position(of: s, sampleRate: 48_000, at: 10.02), 0.97, accuracy: 1e-12)
        XCTAssertEqual(AudioPresentationClock.position(of: s, sampleRate: 48_000, at: 9.99), 0.94, accuracy: 1e-12, "before the sample")
        // Never beyond what was written: the device cannot play more.
        XCTAssertEqual(AudioPresentationClock.position(of: s, sampleRate: 48_000, at: 11), 1.0, accuracy: 1e-12)
        // Looking ahead for scheduling, a running stream is assumed to keep flowing.
        XCTAssertEqual(AudioPresentationClock.position(of: s, sampleRate: 48_000, at: 11, assumingFeed: true), 1.95, accuracy: 1e-12)
        // Stopped (not started yet, or underrun): the clock holds.
        let held = ClockSample(framesWritten: 4_800, delayFrames: 4_800, time: 3, running: false)
        XCTAssertEqual(AudioPresentationClock.position(of: held, sampleRate: 48_000, at: 5), 0)
        XCTAssertEqual(AudioPresentationClock.position(of: held, sampleRate: 48_000, at: 5, assumingFeed: true), 0)
        XCTAssertEqual(AudioPresentationClock.position(of: ClockSample(framesWritten: 10, delayFrames: 50, time: 0, running: true),
                                                       sampleRate: 100, at: 0), 0, "never negative")
    }

    func testFrameDueAtTheAudioClock() {
        // 30 fps over a 2 s clip: frame n is due at n/30 s and shown until frame n + 1 is due.
        let t = LiveTimeline(fps: 30, clipDuration: 2, speechFrames: 60, totalFrames: 90, idleStart: 70, loop: false)
        func frame(written: Int, delay: Int, rate: Int = 16_000) -> Int {
            let p = AudioPresentationClock.position(of: ClockSample(framesWritten: written, delayFrames: delay, time: 0, running: true),
                                                    sampleRate: rate, at: 0)
            return t.frameIndex(forTick: t.tick(at: p))
        }
        XCTAssertEqual(frame(written: 1_600, delay: 1_600), 0)
        XCTAssertEqual(frame(written: 16_000, delay: 700), 28)   // 0.95625 s → 28.69 → 28
        XCTAssertEqual(frame(written: 16_000, delay: 500), 29)   // 0.96875 s → 29.06
        XCTAssertEqual(frame(written: 32_000, delay: 0), 60)     // just after the clip: first idle-tail frame
        XCTAssertEqual(frame(written: 48_000, delay: 0, rate: 48_000), 30)
    }

    func testTimelineIdlesBackAndForthAndLoops() {
        let t = LiveTimeline(fps: 10, clipDuration: 1, speechFrames: 10, totalFrames: 15, idleStart: 12, loop: false)
        XCTAssertEqual((0..<24).map(t.frameIndex(forTick:)),
                       [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 13, 12, 13, 14, 13, 12, 13, 14, 13])
        XCTAssertTrue(t.isSpeech(tick: 9))
        XCTAssertFalse(t.isSpeech(tick: 10))
        XCTAssertEqual(t.time(ofTick: 23), 2.3, accuracy: 1e-12)
        let single = LiveTimeline(fps: 10, clipDuration: 1, speechFrames: 10, totalFrames: 11, idleStart: 10, loop: false)
        XCTAssertEqual(single.frameIndex(forTick: 50), 10)

        // Looping a 0.95 s clip at 10 fps (10 frames): the clock wraps with the sound.
        let l = LiveTimeline(fps: 10, clipDuration: 0.95, speechFrames: 10, totalFrames: 10, idleStart: 0, loop: true)
        XCTAssertEqual(l.tick(at: 0.94), 9)
        XCTAssertEqual(l.tick(at: 0.96), 10)        // second lap, frame 0
        XCTAssertEqual(l.frameIndex(forTick: l.tick(at: 0.96)), 0)
        XCTAssertEqual(l.frameIndex(forTick: l.tick(at: 0.95 + 0.52)), 5)
        XCTAssertEqual(l.time(ofTick: l.tick(at: 0.95 + 0.52)), 1.45, accuracy: 1e-12)
        XCTAssertTrue(l.isSpeech(tick: 1000))
    }

    /// A device that plays in simulated time: a ring of `buffer` frames drained at `rate` while running, started at
    /// the threshold, stopped by an underrun when it runs dry; writes block (advance time) while it is full.
    final class SimulatedPCM: PCMOutput {
        let sampleRate = 16_000
        let channels = 1
        let periodFrames = 160
        let buffer = 1_280
        var bufferFrames: Int { buffer }
        var now = 0.0
        var written = 0
        var played = 0.0
        var running = false
        var underran = false
        var underruns = 0
        var content: [Int16] = []

        /// Lets simulated time pass.
        func advance(to t: Double) {
            if running {
                played = min(Double(written), played + (t - now) * Double(sampleRate))
                if played >= Double(written) { running = false; underran = true }
            }
            now = t
        }

        func write(_ frames: UnsafeBufferPointer<Int16>) throws -> PCMWriteResult {
            var recovered = 0
            if underran { underran = false; underruns += 1; recovered = 1 }   // snd_pcm_recover: prepared, empty
            let space = Double(buffer) - (Double(written) - played)
            if Double(frames.count) > space {   // blocks until the device drained enough
                advance(to: now + (Double(frames.count) - space) / Double(sampleRate))
            }
            written += frames.count
            content += frames
            if !running && written - Int(played) >= buffer - periodFrames { running = true }
            return PCMWriteResult(frames: frames.count, underruns: recovered)
        }

        func clockSample() -> ClockSample {
            ClockSample(framesWritten: written, delayFrames: written - Int(played.rounded(.down)), time: now, running: running)
        }
    }

    func testUnderrunRecoveryKeepsPictureAndSoundInSync() throws {
        let device = SimulatedPCM()
        let clip = (0..<32_000).map { Int16(truncatingIfNeeded: $0) }   // 2 s, sample value = index
        var feeder = PlaybackFeeder(clip: clip, loop: false)
        let timeline = LiveTimeline(fps: 30, clipDuration: 2, speechFrames: 60, totalFrames: 120, idleStart: 90, loop: false)
        var period = [Int16](repeating: 0, count: device.periodFrames)
        var sample = device.clockSample()
        var checks = 0, wallClockError = 0.0, stalled = false
        while device.now < 3 {
            // The writer stalls for 300 ms at t = 1 s (longer than the 80 ms buffer): an underrun.
            if device.now >= 1 && !stalled {
                stalled = true
                let s0 = device.now
                for k in 1...300 {
                    device.advance(to: s0 + Double(k) / 1000)
                    let truth = device.played / Double(device.sampleRate)
                    XCTAssertEqual(AudioPresentationClock.position(of: sample, sampleRate: 16_000, at: device.now), truth,
                                   accuracy: 1.0 / 16_000, "stalled, t = \(device.now)")
                }
            }
            period.withUnsafeMutableBufferPointer { feeder.fill($0) }
            _ = try period.withUnsafeBufferPointer { try device.write($0) }
            sample = device.clockSample()
            // Between writes the picture follows the clock; compare with the content actually heard.
            let start = device.now
            for k in 0..<10 {
                let t = start + Double(k) / 1000
                device.advance(to: t)
                let heard = device.played / Double(device.sampleRate)
                let position = AudioPresentationClock.position(of: sample, sampleRate: 16_000, at: t)
                XCTAssertEqual(position, heard, accuracy: 1.0 / 16_000, "t = \(t)")
                // The same picture as for the sound heard (a sample's rounding apart, right at a frame boundary).
                let slot = heard * timeline.fps
                let atBoundary = abs(slot - slot.rounded()) < 1e-3
                XCTAssertTrue(atBoundary || timeline.tick(at: position) == timeline.tick(at: heard), "t = \(t)")
                wallClockError = max(wallClockError, abs(t - heard))
                checks += 1
            }
        }
        XCTAssertEqual(device.underruns, 1)
        XCTAssertGreaterThan(checks, 1000)
        // Nothing was skipped: the device got the clip from its first sample on, then silence.
        XCTAssertEqual(Array(device.content.prefix(32_000)), clip)
        XCTAssertTrue(device.content.dropFirst(32_000).allSatisfy { $0 == 0 })
        // A wall clock would now be off by the stall (≈ 0.3 s − the buffer); the audio clock is not.
        XCTAssertGreaterThan(wallClockError, 0.2)
    }

    func testFeederLoopsAndFillsEveryChannel() {
        // Stereo frames stay frames: left and right in place, looping on frame boundaries.
        var f = PlaybackFeeder(clip: [1, -1, 2, -2, 3, -3], channels: 2, loop: true)
        var out = [Int16](repeating: -1, count: 8)
        out.withUnsafeMutableBufferPointer { f.fill($0) }
        XCTAssertEqual(out, [1, -1, 2, -2, 3, -3, 1, -1])
        XCTAssertEqual(f.framesProduced, 4)
        var once = PlaybackFeeder(clip: [5], loop: false)
        var mono = [Int16](repeating: -1, count: 3)
        mono.withUnsafeMutableBufferPointer { once.fill($0) }
        XCTAssertEqual(mono, [5, 0, 0])
        XCTAssertEqual(once.framesProduced, 3)
        XCTAssertEqual(PCMConversion.int16(1.5), 32767)
        XCTAssertEqual(PCMConversion.int16(-2), -32768)
        XCTAssertEqual(PCMConversion.int16(.nan), 0)
        XCTAssertEqual(PCMConversion.int16(0.5), 16384)
        XCTAssertEqual(PCMConversion.int16(1), 32767)
        XCTAssertEqual(PCMConversion.int16(-1), -32768)
        var converted = [Int16](repeating: 7, count: 9)
        PCMConversion.int16([0.5, -0.5, 0.25], into: &converted)
        XCTAssertEqual(converted, [16384, -16384, 8192])
        // Every 16-bit value survives WAV decoding (÷ 32768) and conversion back.
        for v in Int16.min...Int16.max where PCMConversion.int16(Float(v) / 32768) != v {
            XCTFail("\(v) does not survive the round trip")
            break
        }
    }

    /// A device that takes a period's time per write, in real time.
    final class RealTimePCM: PCMOutput, @unchecked Sendable {
        let sampleRate = 8_000
        let channels = 2
        let periodFrames = 80
        let bufferFrames = 640
        let failAfter: Int?
        private let lock = NSLock()
        private var written = 0
        private var start: Double?

        init(failAfter: Int? = nil) { self.failAfter = failAfter }

        func write(_ frames: UnsafeBufferPointer<Int16>) throws -> PCMWriteResult {
            lock.lock(); defer { lock.unlock() }
            if let failAfter, written >= failAfter { throw AudioDeviceError("simulated device failure") }
            XCTAssertEqual(frames.count, periodFrames * channels)
            if start == nil { start = MonotonicClock.now() }
            written += frames.count / channels
            let due = start! + Double(written) / Double(sampleRate) - 0.02
            let wait = due - MonotonicClock.now()
            if wait > 0 { usleep(UInt32(wait * 1e6)) }
            return PCMWriteResult(frames: frames.count / channels, underruns: 0)
        }

        func clockSample() -> ClockSample {
            lock.lock(); defer { lock.unlock() }
            let now = MonotonicClock.now()
            let played = min(written, Int((now - (start ?? now)) * Double(sampleRate)))
            return ClockSample(framesWritten: written, delayFrames: written - played, time: now, running: start != nil)
        }
    }

    func testPlaybackStreamThreadAdvancesTheClockAndStops() throws {
        let device = RealTimePCM()
        let audio = InterleavedAudio(sampleRate: 8_000, channels: 2, samples: [Float](repeating: 0.25, count: 1600))
        let stream = AudioPlaybackStream(output: device, audio: audio, loop: false)
        XCTAssertEqual(stream.position(at: MonotonicClock.now()), 0)
        stream.start()
        var last = 0.0
        for _ in 0..<15 {
            usleep(10_000)
            let p = stream.position(at: MonotonicClock.now())
            XCTAssertGreaterThanOrEqual(p, last - 1e-9, "the clock never runs backwards")
            last = p
        }
        stream.stop()
        XCTAssertGreaterThan(last, 0.05)
        XCTAssertLessThan(last, 2.0)
        XCTAssertNil(stream.error)

        let failing = AudioPlaybackStream(output: RealTimePCM(failAfter: 160), audio: audio, loop: true)
        failing.start()
        for _ in 0..<200 where failing.error == nil { usleep(5_000) }
        XCTAssertEqual(failing.error.map { "\($0)" }, "simulated device failure")
        failing.stop()
    }
}

/// When the picture being chosen will appear.
final class PresentationLatencyTests: XCTestCase {
    func testFollowsTheMeasuredChoiceToFlipTime() {
        var latency = PresentationLatency(initial: 1 / 60.0)
        XCTAssertEqual(latency.presentationTime(decidingAt: 10), 10 + 1 / 60.0, accuracy: 1e-12)
        latency.record(decidedAt: 10, shownAt: 10.2)          // the first measurement replaces the guess
        XCTAssertEqual(latency.expected, 0.2, accuracy: 1e-12)
        latency.record(decidedAt: 11, shownAt: 11.1)          // lower median of {0.2, 0.1}
        XCTAssertEqual(latency.expected, 0.1, accuracy: 1e-12)
        for k in 0..<20 { latency.record(decidedAt: Double(k), shownAt: Double(k) + 0.05) }
        XCTAssertEqual(latency.expected, 0.05, accuracy: 1e-12, "a steady latency")
        latency.record(decidedAt: 100, shownAt: 101)          // one stall does not move it
        latency.record(decidedAt: 102, shownAt: 102.9)        // nor a second
        XCTAssertEqual(latency.expected, 0.05, accuracy: 1e-12)
        for k in 0..<5 { latency.record(decidedAt: Double(k), shownAt: Double(k) + 0.3) }   // a lasting change does
        XCTAssertEqual(latency.expected, 0.3, accuracy: 1e-12)
        latency.record(decidedAt: 5, shownAt: 4)              // clocks never make it negative
        XCTAssertGreaterThanOrEqual(latency.expected, 0)
        XCTAssertEqual(latency.presentationTime(decidingAt: 3), 3 + latency.expected)
        // The median of an odd and an even window, against sorting.
        var rng = SeededGenerator(seed: 7)
        for n in 1...12 {
            var l = PresentationLatency(initial: 0)
            var values: [Double] = []
            for _ in 0..<n {
                let v = Double.random(in: 0...1, using: &rng).rounded(toPlaces: 2)
                values.append(v)
                l.record(decidedAt: 0, shownAt: v)
            }
            let window = Array(values.suffix(PresentationLatency.window)).sorted()
            XCTAssertEqual(l.expected, window[(window.count - 1) / 2], "n = \(n): \(values)")
        }
    }
}

extension Double {
    /// Rounded to `places` decimals (ties in the median test on purpose).
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}

/// A device that never blocks (like ALSA's `null` PCM) must not make the feeding thread spin ahead.
final class PlaybackPacingTests: XCTestCase {
    final class InstantPCM: PCMOutput, @unchecked Sendable {
        let sampleRate = 16_000
        let channels = 1
        let periodFrames = 160
        let bufferFrames = 1_280
        private let lock = NSLock()
        private var written = 0
        var framesWritten: Int { lock.lock(); defer { lock.unlock() }; return written }

        func write(_ frames: UnsafeBufferPointer<Int16>) throws -> PCMWriteResult {
            lock.lock(); defer { lock.unlock() }
            written += frames.count
            return PCMWriteResult(frames: frames.count, underruns: 0)
        }

        func clockSample() -> ClockSample {
            ClockSample(framesWritten: framesWritten, delayFrames: 0, time: MonotonicClock.now(), running: true)
        }
    }

    func testStaysNearTheWallClock() {
        let device = InstantPCM()
        let stream = AudioPlaybackStream(output: device, audio: InterleavedAudio(mono: AudioBuffer(sampleRate: 16_000, samples: [0.1, 0.2])), loop: true)
        let start = MonotonicClock.now()
        stream.start()
        usleep(300_000)
        let elapsed = MonotonicClock.now() - start
        let written = Double(device.framesWritten) / 16_000
        stream.stop()
        XCTAssertLessThanOrEqual(written, elapsed + 0.25 + 0.02, "ran \(written) s of audio ahead in \(elapsed) s")
        XCTAssertGreaterThan(written, 0.25, "but does fill the lead")
    }
}
