import Foundation
import ParlaMedia
import ParlaMotion
import ParlaTestSupport
import XCTest
@testable import ParlaIO
@testable import ParlaRuntime

/// `parla live --mic`: the per-period pipeline (mix, overrun silence, resample, compose) and the capture thread on
/// a real ALSA PCM (the `file` plugin reading a raw recording, defined in a configuration this test writes).
final class MicrophoneTests: XCTestCase {
    func speech16k() throws -> [Float] {
        try WAVFile.read(contentsOf: Fixtures.url("motion/speech_en_16k.wav")).samples
    }

    func composer() throws -> StreamingMotionComposer {
        var motion = MotionOptions()
        motion.fps = 30
        return try StreamingMotionComposer(options: motion)
    }

    /// 16-bit stereo at 48 kHz (both channels the same) from the 16 kHz fixture, as floats (what ALSACapture hands out).
    func stereo48k(_ x: [Float]) -> [Float] {
        var up = StreamingResampler(from: 16_000, to: 48_000)
        var y = up.process(x)
        up.finish(appendingTo: &y)
        return y.flatMap { v -> [Float] in
            let s = Float(Int16(max(-32_768, min(32_767, (v * 32_768).rounded())))) / 32_768
            return [s, s]
        }
    }

    func testPipelineMatchesResamplingAndComposingTheWholeSignal() throws {
        let raw = stereo48k(try speech16k())
        var pipeline = MicrophonePipeline(sampleRate: 48_000, channels: 2, composer: try composer())
        var chunked = [MotionFrame]()
        var k = 0
        let sizes = [480, 1, 999, 4_801]   // odd period sizes, in frames
        var n = 0
        while k < raw.count {
            let frames = min(sizes[n % sizes.count], (raw.count - k) / 2)
            raw[k..<(k + 2 * frames)].withUnsafeBufferPointer { chunked += pipeline.process($0) }
            k += 2 * frames
            n += 1
        }
        // The same signal mixed, resampled and composed in one go.
        let mono = stride(from: 0, to: raw.count, by: 2).map { (raw[$0] + raw[$0 + 1]) * 0.5 }
        var down = StreamingResampler(from: 48_000, to: 16_000)
        var c = try composer()
        let whole = c.push(samples16k: down.process(mono))
        XCTAssertGreaterThan(whole.count, 30)
        XCTAssertEqual(chunked.count, whole.count)
        for (a, b) in zip(chunked, whole) {
            XCTAssertEqual(a.time, b.time, accuracy: 1e-9)
            XCTAssertEqual(a.blendshapes[.jawOpen], b.blendshapes[.jawOpen], accuracy: 1e-4, "frame at \(a.time) s")
        }
        // Speech moves the mouth.
        XCTAssertGreaterThan(chunked.map { $0.blendshapes[.jawOpen] }.max() ?? 0, 0.2)
    }

    func testOverrunLossBecomesSilenceSoTheTimelineStaysTrue() throws {
        let x = try speech16k()
        let raw = Array(x.prefix(16_000))
        var withLoss = MicrophonePipeline(sampleRate: 16_000, channels: 1, composer: try composer())
        var reference = MicrophonePipeline(sampleRate: 16_000, channels: 1, composer: try composer())
        var a = [MotionFrame](), b = [MotionFrame]()
        raw[..<8_000].withUnsafeBufferPointer { a += withLoss.process($0); b += reference.process($0) }
        let silence = [Float](repeating: 0, count: 3_200)   // 200 ms lost to an overrun
        raw[8_000...].withUnsafeBufferPointer { a += withLoss.process($0, lostBefore: 3_200) }
        silence.withUnsafeBufferPointer { b += reference.process($0) }
        raw[8_000...].withUnsafeBufferPointer { b += reference.process($0) }
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.last?.time ?? 0, 1.2 - StreamingMotionComposer.latency(fps: 30), accuracy: 2.0 / 30)
    }

    func testCaptureThreadFeedsTheComposerFromARealPCM() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The file plugin reads the raw file in the negotiated format: 16 kHz mono, as asked.
        let raw = try speech16k().map { Int16(max(-32_768, min(32_767, ($0 * 32_768).rounded()))) }
        try raw.withUnsafeBytes { try Data($0).write(to: dir.appendingPathComponent("in.raw")) }
        let conf = """
        pcm.parla_mic {
            type file
            slave.pcm { type null }
            file "\(dir.appendingPathComponent("unused.raw").path)"
            infile "\(dir.appendingPathComponent("in.raw").path)"
            format "raw"
        }
        """
        try conf.write(to: dir.appendingPathComponent("asound.conf"), atomically: true, encoding: .utf8)
        setenv("ALSA_CONFIG_PATH", dir.appendingPathComponent("asound.conf").path, 1)
        defer { unsetenv("ALSA_CONFIG_PATH") }

        var motion = MotionOptions()
        motion.fps = 30
        let mic = try LiveMicrophone(device: "parla_mic", motion: motion)
        XCTAssertEqual(mic.sampleRate, 16_000, "the file plugin over null takes the rate asked for")
        XCTAssertEqual(mic.periodSeconds, 0.005, accuracy: 0.0005, "5 ms periods, as asked")
        // The microphone's composer looks only 10 ms ahead in the coarticulation (40 ms less than for a file) and
        // puts frames on the newest hop (no half frame): 62.5 ms in all.
        XCTAssertEqual(mic.lookAhead, LiveMicrophone.composerLatency(fps: 30))
        XCTAssertEqual(mic.lookAhead, 0.0625, accuracy: 1e-12)
        mic.start()
        // The null slave never blocks: the recording is read as fast as the composer takes it. Wait (up to two
        // minutes: debug builds on a loaded machine are slow) for a second of motion.
        var latest: (frame: MotionFrame, serial: Int)?
        for _ in 0..<12_000 {
            latest = mic.latest()
            if let l = latest, l.frame.time >= 1 { break }
            usleep(10_000)
        }
        mic.stop()
        XCTAssertNil(mic.error)
        let l = try XCTUnwrap(latest, "no motion frame from the capture thread")
        XCTAssertGreaterThanOrEqual(l.frame.time, 1)
        XCTAssertEqual(l.serial, Int((l.frame.time * 30).rounded()) + 1, "every frame counted")
        XCTAssertEqual(l.frame.time * 100, (l.frame.time * 100).rounded(), accuracy: 1e-9, "frames on the hop grid")
        XCTAssertNotNil(mic.soundTime(ofStreamTime: 0))
        XCTAssertEqual(mic.overruns, 0)
    }

    /// The parts of `--mic`'s sound-to-photon delay that do not depend on the machine may not grow back: 5 ms capture
    /// periods and 62.5 ms of look-ahead (12.5 ms window + 40 ms network + 10 ms coarticulation, the frame on its hop)
    /// at every fps, so that with the bench's full 60 Hz refresh for the scan-out at least 15 ms of the 100 ms goal
    /// are left for the frame's decode and present.
    func testSoundToPhotonChainLeavesTheFrameItsBudget() throws {
        XCTAssertLessThanOrEqual(LiveMicrophone.periodMilliseconds, 5)
        XCTAssertEqual(FieldBench.capturePeriodSeconds, Double(LiveMicrophone.periodMilliseconds) / 1000)
        for fps in [15.0, 24, 25, 30, 50, 60, 100] {
            let lookAhead = LiveMicrophone.composerLatency(fps: fps)
            XCTAssertLessThanOrEqual(lookAhead, 0.0625 + 1e-12, "fps \(fps)")
            XCTAssertLessThanOrEqual(FieldBench.capturePeriodSeconds + lookAhead + FieldBench.refreshSeconds, 0.100 - 0.015 + 1e-12,
                                     "fps \(fps)")
        }
        // The composer `--mic` runs returns every frame when the audio up to its time + the look-ahead is in, pushed in
        // 5 ms periods through the pipeline (not only what `latency` says).
        let raw = Array(try speech16k().prefix(32_000))
        for fps in [30.0, 60] {
            var motion = MotionOptions()
            motion.fps = fps
            var pipeline = MicrophonePipeline(sampleRate: 16_000, channels: 1, composer: try LiveMicrophone.composer(motion: motion))
            var newest: MotionFrame?
            var k = 0
            while k < raw.count {
                raw[k..<(k + 80)].withUnsafeBufferPointer { newest = pipeline.process($0).last ?? newest }
                k += 80
                guard let newest else { continue }
                // The newest frame is at most one frame interval (the hops without a frame) behind what the audio allows.
                let allowed = Double(k) / 16_000 - LiveMicrophone.composerLatency(fps: fps)
                XCTAssertLessThanOrEqual(newest.time, allowed + 1e-9, "fps \(fps) after \(k) samples")
                XCTAssertGreaterThan(newest.time, allowed - 1 / fps - 0.01, "fps \(fps) after \(k) samples")
            }
        }
    }

    func testMicrophoneLatencyLine() {
        let s = MicrophoneLatency(capturePeriod: 0.010, lookAhead: 0.129, model: 0.002, decode: 0.030, vblank: 0.016)
        XCTAssertEqual(s.total, 0.187, accuracy: 1e-12)
        XCTAssertEqual(s.line(measured: 0.2004),
                       "sound-to-photon 187 ms estimated (capture 10 + look-ahead 129 + model 2 + decode 30 + vblank 16), 200 ms measured")
    }
}
