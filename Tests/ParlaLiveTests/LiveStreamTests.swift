import Foundation
import ParlaIO
import ParlaMedia
import ParlaMotion
import ParlaTestSupport
import XCTest
@testable import ParlaRuntime

/// `parla live --pcm-*` below the display: raw PCM arriving on a socket in chunks of odd sizes, the stream
/// thread's pipeline (composer + delay line), and the threaded stream paced by the clock with no sound device.
final class LiveStreamTests: XCTestCase {
    /// 0.6 s of silence, then the speech fixture, as s16le at 22050 Hz (what a TTS would pipe in); `sent` is what the
    /// bytes hold, as floats.
    func streamBytes() throws -> (bytes: [UInt8], speechStart: Double, speechEnd: Double, speech16k: [Float], sent: [Float]) {
        let speech = try WAVFile.read(contentsOf: Fixtures.url("motion/speech_en_16k.wav"))
        let lead = [Float](repeating: 0, count: Int(0.6 * 16000))
        let clip16k = lead + speech.samples
        let clip = Resampler.resample(AudioBuffer(sampleRate: 16000, samples: clip16k), to: 22050)
        var bytes = [UInt8]()
        var sent = [Float]()
        bytes.reserveCapacity(clip.samples.count * 2)
        for s in clip.samples {
            let v = Int16(clamping: Int((s * 32767).rounded()))
            withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
            sent.append(Float(v) / 32768)
        }
        return (bytes, 0.6, 0.6 + speech.duration, clip16k, sent)
    }

    /// Connects to the UNIX socket at `path` and sends `bytes` in chunks whose sizes cycle through odd values
    /// (1 byte: half a sample; several thousand: many samples at once).
    func write(_ bytes: [UInt8], toSocket path: String) throws {
        let fd = try UnixSocketClient.connect(path)
        defer { close(fd) }
        let sizes = [1, 3, 7, 333, 1001, 4097, 65, 12_345, 2]
        var offset = 0, k = 0
        while offset < bytes.count {
            let n = min(sizes[k % sizes.count], bytes.count - offset)
            let sent = bytes[offset..<(offset + n)].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            XCTAssertEqual(sent, n)
            offset += n
            k += 1
        }
    }

    func testPipedPCMInOddChunksMovesTheMouthInSpeechAndRestsInSilence() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (bytes, speechStart, speechEnd, speech16k, sent) = try streamBytes()
        let path = dir.appendingPathComponent("tts.sock").path
        let source = try PCMStreamSource(endpoint: .socket(path), format: try PCMStreamFormat(parsing: "s16le:22050:1"))
        source.start()
        defer { source.stop() }
        try write(bytes, toSocket: path)
        // Everything decoded, at the stream's own rate (22050 Hz: nothing is resampled before it is played).
        XCTAssertEqual(source.queue.sampleRate, 22050)
        while source.queue.received < sent.count { usleep(2000) }

        // The stream thread's work, step by step: 10 ms at a time, 1.5 s past the end (the producer is gone: the
        // queue runs dry, which gives silence).
        var motion = MotionOptions()
        motion.fps = 30
        var pipeline = try PCMStreamPipeline(motion: motion, sampleRate: 22050, channels: 1)
        var frames = [MotionFrame]()
        var played = [Float]()
        let steps = Int(((speechEnd + 1.5) * 100).rounded(.up))
        var taken = 0
        for step in 0..<steps {
            let n = LivePCMStream.chunkFrames(step: step, sampleRate: 22050)
            XCTAssertTrue(n == 220 || n == 221)
            taken += n
            let (f, play) = pipeline.step(source.queue.take(n))
            frames += f
            played += play
        }
        XCTAssertEqual(taken, steps * 22050 / 100, "10 ms steps add up to the stream's time")
        XCTAssertGreaterThan(source.queue.underruns, 100, "the dry queue counts underruns")
        // One frame per 1/30 s of stream up to the composer's look-ahead before the end: the face never stops.
        let streamSeconds = Double(steps) / 100
        let due = Int(((streamSeconds - StreamingMotionComposer.latency(fps: 30)) * 30).rounded(.down)) + 1
        XCTAssertLessThanOrEqual(abs(frames.count - due), 1, "\(frames.count) frames, \(due) due")
        for (n, f) in frames.enumerated() { XCTAssertEqual(f.time, Double(n) / 30, accuracy: 1e-9) }

        // The sound played is the stream itself, sample for sample at 22050 Hz, delayed by the look-ahead (the
        // composer's and the analysis resampler's; silence first), so each frame is ready when its sound is heard.
        let delay = pipeline.delayFrames
        let lookAhead = StreamingMotionComposer.latency(fps: 30) + ResamplerDesign(inputRate: 22050, outputRate: 16000).halfWidth / 22050
        XCTAssertEqual(delay, Int((lookAhead * 22050).rounded(.up)))
        XCTAssertEqual(pipeline.delaySeconds, lookAhead, accuracy: 1.0 / 22050)
        XCTAssertEqual(played.count, taken)
        XCTAssertTrue(played.prefix(delay).allSatisfy { $0 == 0 })
        XCTAssertEqual(Array(played[delay..<(delay + sent.count)]), sent, "stream samples reach the speaker unchanged")

        // Loud speech moves the mouth; silence before it and the dry queue after it leave it at rest.
        func loudness(at t: Double) -> Float {
            let c = Int(t * 16000), lo = max(0, c - 320), hi = min(speech16k.count, c + 320)
            guard lo < hi else { return 0 }
            return (speech16k[lo..<hi].map { $0 * $0 }.reduce(0, +) / Float(hi - lo)).squareRoot()
        }
        let jaw = frames.map { $0.blendshapes[.jawOpen] }
        let before = frames.indices.filter { frames[$0].time < speechStart - 0.1 }.map { jaw[$0] }
        let after = frames.indices.filter { frames[$0].time > speechEnd + 0.3 }.map { jaw[$0] }
        let loud = frames.indices.filter { frames[$0].time > speechStart && frames[$0].time < speechEnd && loudness(at: frames[$0].time) > 0.05 }
        XCTAssertGreaterThan(before.count, 10)
        XCTAssertGreaterThan(after.count, 20)
        XCTAssertGreaterThan(loud.count, 30)
        let loudMean = loud.map { jaw[$0] }.reduce(0, +) / Float(loud.count)
        print(String(format: "stream: jawOpen mean %.3f over %d loud frames; max %.3f before, %.3f after the speech",
                     loudMean, loud.count, before.max()!, after.max()!))
        XCTAssertLessThan(before.max()!, 0.05, "mouth at rest before the speech")
        XCTAssertLessThan(after.max()!, 0.05, "mouth at rest once the stream ran dry")
        XCTAssertGreaterThan(loudMean, 0.15, "mouth moves while the speech is loud")
        // Not frozen while the queue is dry: the head keeps moving.
        let afterYaw = frames.filter { $0.time > speechEnd + 0.3 }.map(\.headYaw)
        XCTAssertGreaterThan(afterYaw.max()! - afterYaw.min()!, 1e-4, "the idle face keeps moving")
    }

    func testTheStreamThreadKeepsTheFaceGoingThroughUnderruns() throws {
        // No sound device: the monotonic clock paces 10 ms steps. 0.4 s of a loud tone arrives, then nothing.
        let queue = PCMSampleQueue()
        let tone: [Float] = (0..<6400).map { (i: Int) -> Float in
            let t: Double = Double(i) / 16000
            return Float(0.4 * sin(2 * Double.pi * 200 * t))
        }
        queue.write(tone)
        var motion = MotionOptions()
        motion.fps = 30
        let stream = try LivePCMStream(queue: queue, motion: motion, output: nil)
        XCTAssertNil(stream.frame(at: MonotonicClock.now()))
        stream.start()
        defer { stream.stop() }
        // Wait (bounded) until 1.5 s of stream time has been heard: well past the tone, into the dry queue.
        var last: (frame: MotionFrame, index: Int)?
        for _ in 0..<1000 {
            last = stream.frame(at: MonotonicClock.now())
            if let l = last, l.index >= 45 { break }
            usleep(10_000)
        }
        let shown = try XCTUnwrap(last)
        XCTAssertGreaterThanOrEqual(shown.index, 45, "frames keep coming after the tone ended")
        XCTAssertEqual(shown.frame.time, Double(shown.index) / 30, accuracy: 1e-9)
        XCTAssertGreaterThan(queue.underruns, 0)
        XCTAssertEqual(stream.underruns, 0, "no device, no device underruns")
        XCTAssertNil(stream.error)
        // What is heard at a moment is the frame for it: the position runs with the clock, behind by the delay.
        let now = MonotonicClock.now()
        XCTAssertEqual(stream.position(at: now + 1) - stream.position(at: now), 1, accuracy: 1e-9)
    }
}
