import Foundation
import ParlaFace
import ParlaIO
import ParlaMedia
import ParlaMotion
import ParlaTestSupport
import ParlaVoice
import XCTest
@testable import ParlaRuntime

/// What reaches the speaker is the source, not the 16 kHz mono analysis copy: every playback path (`parla live
/// --audio`, `parla say` live, `--pcm-*` streams, and `parla serve`'s utterances and PCM stream) plays a clip with a
/// 10 kHz tone (above the analysis copy's 8 kHz Nyquist frequency) through ALSA's `file` plugin, and the recorded
/// file must hold the tone, at the rate and channel count the device was opened with, left and right apart.
final class PlaybackFidelityTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try Fixtures.temporaryDirectory()
        let conf = """
        pcm.parla_out {
            type file
            slave.pcm { type null }
            file "\(directory.appendingPathComponent("out.raw").path)"
            format "raw"
        }
        """
        let url = directory.appendingPathComponent("asound.conf")
        try conf.write(to: url, atomically: true, encoding: .utf8)
        setenv("ALSA_CONFIG_PATH", url.path, 1)
    }

    override func tearDownWithError() throws {
        unsetenv("ALSA_CONFIG_PATH")
        try? FileManager.default.removeItem(at: directory)
    }

    /// The recording, interleaved, as floats (÷ 32768).
    func recorded() throws -> [Float] {
        let data = try Data(contentsOf: directory.appendingPathComponent("out.raw"))
        return data.withUnsafeBytes { $0.bindMemory(to: Int16.self).map { Float(Int16(littleEndian: $0)) / 32768 } }
    }

    /// Amplitude of the `frequency` component of `x` (Hann-windowed Goertzel): a sine of amplitude A at that
    /// frequency gives A.
    func amplitude(_ x: ArraySlice<Float>, rate: Int, frequency: Double) -> Double {
        let n = x.count
        let w = 2 * Double.pi * frequency / Double(rate)
        let coefficient = 2 * cos(w)
        var s1 = 0.0, s2 = 0.0, windowSum = 0.0
        for (i, v) in x.enumerated() {
            let window = 0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(n - 1))
            windowSum += window
            let s = Double(v) * window + coefficient * s1 - s2
            s2 = s1
            s1 = s
        }
        let real = s1 - s2 * cos(w), imaginary = s2 * sin(w)
        return 2 * (real * real + imaginary * imaginary).squareRoot() / windowSum
    }

    /// Channel `c` of interleaved `x`, frames `range`.
    func channel(_ x: [Float], _ c: Int, of channels: Int, frames range: Range<Int>) -> ArraySlice<Float> {
        ArraySlice(range.map { x[$0 * channels + c] })
    }

    /// Left: 0.3 · 300 Hz + 0.2 · 10 kHz; right: 0.3 · 1 kHz. 16-bit values as floats.
    func stereoTones(rate: Int, seconds: Double) -> InterleavedAudio {
        let frames = Int(seconds * Double(rate))
        var samples = [Float]()
        for i in 0..<frames {
            let t = Double(i) / Double(rate)
            let left = 0.3 * sin(2 * Double.pi * 300 * t) + 0.2 * sin(2 * Double.pi * 10_000 * t)
            let right = 0.3 * sin(2 * Double.pi * 1_000 * t)
            samples += [Float(Int16((left * 32768).rounded())) / 32768, Float(Int16((right * 32768).rounded())) / 32768]
        }
        return InterleavedAudio(sampleRate: rate, channels: 2, samples: samples)
    }

    /// A 16-bit PCM WAV of `audio`.
    func writeWAV(_ audio: InterleavedAudio, to url: URL) throws {
        var out = [UInt8]()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out += $0 } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { out += $0 } }
        let bytes = audio.samples.count * 2
        out += Array("RIFF".utf8); u32(36 + bytes); out += Array("WAVEfmt ".utf8); u32(16); u16(1); u16(audio.channels)
        u32(audio.sampleRate); u32(audio.sampleRate * audio.channels * 2); u16(audio.channels * 2); u16(16)
        out += Array("data".utf8); u32(bytes)
        for s in audio.samples { withUnsafeBytes(of: PCMConversion.int16(s).littleEndian) { out += $0 } }
        try Data(out).write(to: url)
    }

    /// Checks the left/right tones of ``stereoTones(rate:seconds:)`` in `frames` of the recording.
    func assertStereoTones(_ x: [Float], rate: Int, channels: Int, frames: Range<Int>, _ what: String) {
        let left = channel(x, 0, of: channels, frames: frames), right = channel(x, 1, of: channels, frames: frames)
        XCTAssertEqual(amplitude(left, rate: rate, frequency: 10_000), 0.2, accuracy: 0.01, "\(what): the 10 kHz tone on the left")
        XCTAssertEqual(amplitude(left, rate: rate, frequency: 300), 0.3, accuracy: 0.01, "\(what): 300 Hz on the left")
        XCTAssertEqual(amplitude(right, rate: rate, frequency: 1_000), 0.3, accuracy: 0.01, "\(what): 1 kHz on the right")
        XCTAssertLessThan(amplitude(right, rate: rate, frequency: 10_000), 0.002, "\(what): the right channel is not the left")
        XCTAssertLessThan(amplitude(left, rate: rate, frequency: 1_000), 0.002, "\(what): the left channel is not the right")
    }

    // MARK: - parla live --audio, parla say (live)

    func testClipPlaysAtItsOwnRateAndChannels() throws {
        let clip = stereoTones(rate: 44_100, seconds: 0.5)
        let wav = directory.appendingPathComponent("tones.wav")
        try writeWAV(clip, to: wav)
        do {
            let (stream, line) = try LiveJob.clipPlayback(device: "parla_out", audio: wav, loop: false)
            XCTAssertTrue(line.hasPrefix("audio: ALSA 'parla_out' at 44100 Hz, 2 channel(s), period 441 frames"), line)
            XCTAssertEqual(stream.sampleRate, 44_100)
            stream.start()
            for _ in 0..<400 where stream.latestSample.framesWritten < clip.frameCount + 4410 { usleep(10_000) }
            stream.stop()
            XCTAssertNil(stream.error)
        }
        let x = try recorded()
        // Every sample as in the file (16-bit in, 16-bit out), then silence.
        XCTAssertGreaterThanOrEqual(x.count, clip.samples.count + 2 * 4410)
        XCTAssertEqual(Array(x.prefix(clip.samples.count)), clip.samples)
        XCTAssertTrue(x[clip.samples.count...].allSatisfy { $0 == 0 })
        assertStereoTones(x, rate: 44_100, channels: 2, frames: 0..<clip.frameCount, "--audio")
    }

    func testSpokenTextKeepsItsSibilants() throws {
        // `parla say` live writes the speech as a WAV at the voice's rate and plays it like --audio.
        let speech = try SpeechSynthesizer.shared.synthesize("Sister Suzie sells sea shells, so she says.", options: VoiceOptions())
        XCTAssertEqual(speech.audio.sampleRate, 22_050)
        let wav = directory.appendingPathComponent("speech.wav")
        try SayLive.writeSpeech(speech, to: wav)
        do {
            let (stream, line) = try LiveJob.clipPlayback(device: "parla_out", audio: wav, loop: false)
            XCTAssertTrue(line.contains("at 22050 Hz, 1 channel(s)"), line)
            stream.start()
            for _ in 0..<800 where stream.latestSample.framesWritten < speech.audio.samples.count + 2205 { usleep(10_000) }
            stream.stop()
        }
        let x = try recorded()
        let written = try WAVFile.read(contentsOf: wav).samples
        XCTAssertEqual(Array(x.prefix(written.count)), written, "the speech reaches the device sample for sample")
        // The s sounds above 8 kHz (what a 16 kHz copy cannot carry) are there: 8.5–10.5 kHz holds a share of the
        // energy, measured on 50 ms pieces.
        func highShare(_ y: [Float], rate: Int) -> Double {
            var high = 0.0, all = 0.0
            let n = rate / 20
            for start in stride(from: 0, to: y.count - n, by: n) {
                let piece = y[start..<(start + n)]
                all += piece.reduce(0.0) { $0 + Double($1 * $1) } / Double(n)
                for f in stride(from: 8_500.0, through: 10_500, by: 250) {
                    high += pow(amplitude(piece, rate: rate, frequency: f), 2) / 2
                }
            }
            return high / max(all, 1e-12)
        }
        let played = highShare(Array(x.prefix(written.count)), rate: 22_050)
        let analysisCopy = highShare(Resampler.resample(AudioBuffer(sampleRate: 16_000, samples: Resampler.resample(AudioBuffer(sampleRate: 22_050, samples: written), to: 16_000).samples), to: 22_050).samples, rate: 22_050)
        print(String(format: "say: share of the energy at 8.5-10.5 kHz: %.2e played, %.2e through a 16 kHz copy", played, analysisCopy))
        XCTAssertGreaterThan(played, 1e-4)
        XCTAssertGreaterThan(played, 1000 * analysisCopy)
    }

    // MARK: - parla live --pcm-*

    /// Waits until `frames` at `rate` have surely been written: the stream thread runs at the wall clock's pace (the
    /// null PCM never blocks; the thread stays within 250 ms ahead of the clock), so wait their time and a margin.
    func waitForFrames(_ frames: Int, rate: Int) {
        usleep(UInt32((Double(frames) / Double(rate) + 0.3) * 1e6))
    }

    func testStreamPlaysAtTheStreamsRateAndChannels() throws {
        let tones = stereoTones(rate: 44_100, seconds: 0.6)
        let queue = PCMSampleQueue(seconds: 10, sampleRate: 44_100, channels: 2)
        queue.write(tones.samples)
        var motion = MotionOptions()
        motion.fps = 30
        var delay = 0
        do {
            // As `parla live --pcm-stdin s16le:44100:2` opens the device.
            let playback = try ALSAPlayback(device: "parla_out", sampleRate: 44_100, channels: 2)
            let line = LiveJob.describe(playback, source: 44_100, 2)
            XCTAssertTrue(line.hasPrefix("audio: ALSA 'parla_out' at 44100 Hz, 2 channel(s), period "), line)
            XCTAssertFalse(line.contains("resampled") || line.contains("mapped"), line)
            let stream = try LivePCMStream(queue: queue, motion: motion, output: playback)
            delay = Int((stream.delaySeconds * 44_100).rounded())
            // The composer's look-ahead and the analysis resampler's (44.1 → 16 kHz), in frames of the stream.
            let lookAhead = StreamingMotionComposer.latency(fps: 30) + ResamplerDesign(inputRate: 44_100, outputRate: 16_000).halfWidth / 44_100
            XCTAssertEqual(delay, Int((lookAhead * 44_100).rounded(.up)))
            let start = MonotonicClock.now()
            stream.start()
            waitForFrames(delay + tones.frameCount + 4410, rate: 44_100)
            // The clock counts frames at the device's rate: what is heard now is the time since the start, less the
            // look-ahead delay, give or take what the device holds and the thread's lead over the clock (the null PCM
            // paces nothing; the thread stays at most 0.4 s ahead). Counting the frames at 16 kHz would put it at
            // 2.8 times that.
            let now = MonotonicClock.now()
            let heard = stream.position(at: now)
            let elapsed = now - start - stream.delaySeconds
            XCTAssertGreaterThan(heard, elapsed - 0.3, "position \(heard) s after \(elapsed) s")
            XCTAssertLessThan(heard, elapsed + 0.5, "position \(heard) s after \(elapsed) s")
            stream.stop()
            XCTAssertNil(stream.error)
        }
        let x = try recorded()
        XCTAssertGreaterThanOrEqual(x.count, 2 * (delay + tones.frameCount))
        XCTAssertTrue(x.prefix(2 * delay).allSatisfy { $0 == 0 }, "the look-ahead delay is silence")
        XCTAssertEqual(Array(x[(2 * delay)..<(2 * (delay + tones.frameCount))]), tones.samples, "the stream, sample for sample")
        assertStereoTones(x, rate: 44_100, channels: 2, frames: delay..<(delay + tones.frameCount), "--pcm-*")
    }

    func testStreamIsResampledWhenTheDeviceRunsAtAnotherRate() throws {
        // A 22050 Hz mono TTS on a device that runs 48 kHz stereo only (opened so here, as if it had refused 22050).
        let rate = 22_050
        let tone = (0..<(rate / 2)).map { Float(Int16((0.25 * sin(2 * Double.pi * 10_000 * Double($0) / Double(rate)) * 32768).rounded())) / 32768 }
        let queue = PCMSampleQueue(seconds: 10, sampleRate: rate, channels: 1)
        queue.write(tone)
        var motion = MotionOptions()
        motion.fps = 30
        var delay = 0
        do {
            let playback = try ALSAPlayback(device: "parla_out", sampleRate: 48_000, channels: 2)
            let line = LiveJob.describe(playback, source: rate, 1)
            XCTAssertTrue(line.hasPrefix("audio: ALSA 'parla_out' at 48000 Hz, 2 channel(s), period "), line)
            XCTAssertTrue(line.hasSuffix(", resampled from 22050 Hz, 1 channel(s) mapped"), line)
            let stream = try LivePCMStream(queue: queue, motion: motion, output: playback)
            delay = Int((stream.delaySeconds * Double(rate)).rounded())
            stream.start()
            waitForFrames(delay + tone.count + rate / 5, rate: rate)
            stream.stop()
            XCTAssertNil(stream.error)
        }
        let x = try recorded()
        // The same as converting the played stream (delay, tone, silence) in one go.
        let played = [Float](repeating: 0, count: delay) + tone + [Float](repeating: 0, count: rate / 5)
        let expected = InterleavedAudio(sampleRate: rate, channels: 1, samples: played).converted(toRate: 48_000, channels: 2)
        let compared = 2 * ((delay + tone.count) * 48_000 / rate)
        XCTAssertGreaterThanOrEqual(x.count, compared)
        XCTAssertEqual(Array(x.prefix(compared)), expected.samples.prefix(compared).map { Float(PCMConversion.int16($0)) / 32768 })
        let frames = (delay * 48_000 / rate + 480)..<((delay + tone.count) * 48_000 / rate - 480)
        for c in 0..<2 {
            XCTAssertEqual(amplitude(channel(x, c, of: 2, frames: frames), rate: 48_000, frequency: 10_000), 0.25, accuracy: 0.01, "channel \(c)")
        }
    }

    // MARK: - parla serve

    static let avatar: Avatar = {
        let url = Fixtures.url("grace_hopper.jpg")
        let image = try! PortraitPreparation.decode(url)
        return try! PortraitPreparation.avatar(from: image, analysis: PortraitPreparation.analyze(image, source: url), source: url)
    }()

    /// Runs a headless engine playing on `parla_out` for `seconds` after `prepare` queued its sound.
    func runEngine(seconds: Double, _ prepare: (FaceEngine) throws -> Void) throws {
        var configuration = FaceEngine.Configuration()
        configuration.size = 64
        configuration.idleSeconds = 1
        configuration.audioDevice = "parla_out"
        let engine = try FaceEngine(configuration: configuration, avatar: Self.avatar, name: "grace")
        try prepare(engine)
        let stop = StopSignal(handlingSignals: false)
        let done = DispatchSemaphore(value: 0)
        final class Failure: @unchecked Sendable { var error: Error? }
        let failure = Failure()
        Thread {
            do { try engine.run(stop: stop) } catch { failure.error = error }
            done.signal()
        }.start()
        usleep(UInt32(seconds * 1e6))
        stop.trigger()
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success)
        XCTAssertNil(failure.error)
    }

    /// The first frame of `x` (interleaved, `channels`) that is not silent.
    func firstSound(_ x: [Float], channels: Int) -> Int? {
        x.firstIndex { $0 != 0 }.map { $0 / channels }
    }

    func testServeUtterancePlaysTheWAVNotTheAnalysisCopy() throws {
        // `POST /speak` with a 44.1 kHz stereo WAV: the engine's device runs 48 kHz stereo.
        let clip = stereoTones(rate: 44_100, seconds: 0.6)
        let wav = directory.appendingPathComponent("speak.wav")
        try writeWAV(clip, to: wav)
        var utterance: Utterance?
        try runEngine(seconds: 1.6) { engine in
            let u = try engine.utterance(sound: try WAVFile.readInterleaved(contentsOf: wav))
            XCTAssertEqual(u.audio.sampleRate, 16_000, "the mouth is composed from the 16 kHz copy")
            XCTAssertEqual(u.sound, clip)
            utterance = u
            _ = try engine.enqueue(u, interrupt: false)
        }
        XCTAssertNotNil(utterance)
        let x = try recorded()
        XCTAssertEqual(EngineAudio.preferredRate, 48_000)
        let start = try XCTUnwrap(firstSound(x, channels: 2), "nothing was played")
        let frames = start + 2_400..<(start + 26_000)   // inside the 0.6 s (28 800 frames at 48 kHz)
        XCTAssertGreaterThanOrEqual(x.count / 2, frames.upperBound)
        assertStereoTones(x, rate: 48_000, channels: 2, frames: frames, "serve /speak")
    }

    func testServeStreamPlaysAtTheStreamsQuality() throws {
        // WebSocket PCM (`/ws?format=s16le:22050:1`) into the engine's stream.
        let rate = 22_050
        let tone = (0..<(rate * 6 / 10)).map { Float(Int16((0.25 * sin(2 * Double.pi * 10_000 * Double($0) / Double(rate)) * 32768).rounded())) / 32768 }
        try runEngine(seconds: 1.6) { engine in
            let queue = try engine.streamQueue(sampleRate: rate, channels: 1)
            XCTAssertEqual(queue.sampleRate, rate)
            queue.write(tone)
            XCTAssertEqual(queue.receivedSeconds, 0.6, accuracy: 1e-9)
        }
        let x = try recorded()
        let start = try XCTUnwrap(firstSound(x, channels: 2), "nothing was played")
        let frames = start + 2_400..<(start + 26_000)
        XCTAssertGreaterThanOrEqual(x.count / 2, frames.upperBound)
        for c in 0..<2 {
            XCTAssertEqual(amplitude(channel(x, c, of: 2, frames: frames), rate: 48_000, frequency: 10_000), 0.25, accuracy: 0.01, "channel \(c)")
        }
    }
}
