import XCTest
import ParlaMedia
import ParlaTestSupport
@testable import ParlaMotion

/// The bundled VisemeNet on real synthesized speech, and the default composer path built on it.
final class VisemeNetSpeechTests: XCTestCase {
    /// (start, end, viseme) rows of papa_mama_baba.phonemes.tsv.
    private func papaTiming() throws -> [(Double, Double, Viseme)] {
        try String(contentsOf: Fixtures.url("motion/papa_mama_baba.phonemes.tsv"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
                let f = line.split(separator: "\t")
                return (Double(f[0])!, Double(f[1])!, Viseme(name: String(f[3]))!)
            }
    }

    func testTheBundledModelLoadsWithItsProvenance() throws {
        let net = try VisemeNet.bundled()
        XCTAssertEqual(net.bandCount, 80)
        XCTAssertLessThanOrEqual(net.lookAheadFrames * 10, 60)
        XCTAssertGreaterThan(net.parameterCount, 100_000)
        XCTAssertTrue(net.metadataJSON.contains("espeak-ng"))
        XCTAssertTrue(net.metadataJSON.contains("MBROLA"))
    }

    func testPapaMamaBabaClosesTheLipsOnEveryPBMAndOpensOnTheVowels() throws {
        let audio = try MotionTestAudio.readWAV16(Fixtures.url("motion/papa_mama_baba_16k.wav"))
        let timing = try papaTiming()
        XCTAssertEqual(timing.filter { $0.2 == .pp }.count, 6)
        for fps in [25.0, 30] {
            var options = MotionOptions()
            options.fps = fps
            let frames = MotionComposer(options: options).frames(for: audio)
            let gap = frames.map { $0.blendshapes[.jawOpen] - $0.blendshapes[.mouthClose] }
            // Every p/b/m, and every vowel of at least 80 ms (a 44 ms schwa between two bilabials may stay closed).
            for (start, end, viseme) in timing where viseme == .pp || (viseme == .aa && end - start >= 0.08) {
                let inside = frames.indices.filter { frames[$0].time >= start - 0.5 / fps && frames[$0].time <= end + 0.5 / fps }
                XCTAssertFalse(inside.isEmpty)
                if viseme == .pp {
                    XCTAssertLessThanOrEqual(inside.map { gap[$0] }.min()!, 0.02,
                                             "fps \(fps): lips did not close for the p/b/m at \(start)")
                } else {
                    XCTAssertGreaterThan(inside.map { gap[$0] }.max()!, 0.2, "fps \(fps): vowel at \(start) did not open")
                }
            }
        }
    }

    func testTheMicrophoneLookAheadStillClosesEveryPBMAndIs40MsSooner() throws {
        let audio = try MotionTestAudio.readWAV16(Fixtures.url("motion/papa_mama_baba_16k.wav"))
        let timing = try papaTiming()
        let fps = 30.0
        var options = MotionOptions()
        options.fps = fps
        let look = Coarticulation.lowLatencyLookAhead
        XCTAssertEqual(StreamingMotionComposer.latency(fps: fps) - StreamingMotionComposer.latency(fps: fps, mouthLookAhead: look),
                       0.04, accuracy: 1e-9)
        var live = try StreamingMotionComposer(options: options, mouthLookAhead: look)
        var frames = [MotionFrame]()
        var i = 0
        while i < audio.samples.count {
            let pushed = min(audio.samples.count, i + 160)
            frames += live.push(samples16k: Array(audio.samples[i..<pushed]))
            let due = Int(((Double(pushed) / 16_000 - StreamingMotionComposer.latency(fps: fps, mouthLookAhead: look)) * fps).rounded(.down)) + 1
            XCTAssertGreaterThanOrEqual(frames.count, due, "after \(pushed) samples")
            i = pushed
        }
        frames += live.finish()
        let gap: [Float] = frames.map { $0.blendshapes[.jawOpen] - $0.blendshapes[.mouthClose] }
        for (start, end, viseme) in timing where viseme == .pp || (viseme == .aa && end - start >= 0.08) {
            let inside = frames.indices.filter { frames[$0].time >= start - 0.5 / fps && frames[$0].time <= end + 0.5 / fps }
            XCTAssertFalse(inside.isEmpty)
            if viseme == .pp {
                XCTAssertLessThanOrEqual(inside.map { gap[$0] }.min()!, 0.02, "lips did not close for the p/b/m at \(start)")
            } else {
                XCTAssertGreaterThan(inside.map { gap[$0] }.max()!, 0.2, "vowel at \(start) did not open")
            }
        }
    }

    /// `--mic`'s composer (frames on the newest hop): each frame is out the moment its hop's audio is, 62.5 ms after
    /// its time at any fps and never earlier; `fps` frames a second; every p/b/m closes on a frame and the vowels
    /// open, with 5 ms pushes as the capture thread makes them.
    func testNewestHopFramesAreOutAsSoonAsTheirHopAndStillCloseEveryPBM() throws {
        let audio = try MotionTestAudio.readWAV16(Fixtures.url("motion/papa_mama_baba_16k.wav"))
        let timing = try papaTiming()
        let look = Coarticulation.lowLatencyLookAhead
        for fps in [24.0, 25, 30, 50, 60] {
            let latency = StreamingMotionComposer.latency(fps: fps, mouthLookAhead: look, timing: .newestHop)
            XCTAssertEqual(latency, 0.0625, accuracy: 1e-12, "12.5 ms window + 40 ms network + 10 ms coarticulation, nothing for the frame")
            var options = MotionOptions()
            options.fps = fps
            var live = try StreamingMotionComposer(options: options, mouthLookAhead: look, timing: .newestHop)
            var frames = [MotionFrame]()
            var i = 0
            while i < audio.samples.count {
                let pushed = min(audio.samples.count, i + 80)
                frames += live.push(samples16k: Array(audio.samples[i..<pushed]))
                // Hop h's mouth needs the samples up to h·160 + 1000 (= h·10 ms + 62.5 ms), no more.
                let lastHop = (pushed - 1000) / 160
                let due = pushed < 1000 ? 0 : (0...lastHop).filter { StreamingMotionComposer.hopHasFrame($0, fps: fps) }.count
                XCTAssertEqual(frames.count, due, "fps \(fps), after \(pushed) samples")
                i = pushed
            }
            frames += live.finish()
            // Frame n on the first hop at or after n / fps.
            for (n, frame) in frames.enumerated() {
                XCTAssertEqual(frame.time, (Double(n) / fps * 100 - 1e-9).rounded(.up) / 100, accuracy: 1e-12, "fps \(fps) frame \(n)")
            }
            XCTAssertEqual(Double(frames.count), Double(audio.samples.count) / 16_000 * fps, accuracy: 1.5)
            let gap: [Float] = frames.map { $0.blendshapes[.jawOpen] - $0.blendshapes[.mouthClose] }
            for (start, end, viseme) in timing where viseme == .pp || (viseme == .aa && end - start >= 0.08) {
                // A closure shows on the frames up to one frame interval after its hops.
                let inside = frames.indices.filter { frames[$0].time >= start - 0.01 && frames[$0].time <= end + 1 / fps + 0.01 }
                XCTAssertFalse(inside.isEmpty)
                if viseme == .pp {
                    XCTAssertLessThanOrEqual(inside.map { gap[$0] }.min()!, 0.02, "fps \(fps): lips did not close for the p/b/m at \(start)")
                } else {
                    XCTAssertGreaterThan(inside.map { gap[$0] }.max()!, 0.2, "fps \(fps): vowel at \(start) did not open")
                }
            }
        }
    }

    /// With frames on the newest hop, a frame's mouth is its hop's coarticulation output (the batch one for the
    /// microphone's look-ahead) and its closure the maximum over every hop since the previous frame, so a closure on a
    /// hop between two frames (24 fps: 40–50 ms apart) still shows on the next one.
    func testNewestHopFramesShowTheirHopAndEveryClosureHop() throws {
        let audio = try MotionTestAudio.readWAV16(Fixtures.url("motion/papa_mama_baba_16k.wav"))
        var options = MotionOptions()
        options.fps = 24
        options.controls.still = true
        var live = try StreamingMotionComposer(options: options, mouthLookAhead: Coarticulation.lowLatencyLookAhead, timing: .newestHop)
        var frames = live.push(samples16k: audio.samples)
        frames += live.finish()
        // The per-hop mouth of the same audio through the batch front end, network and coarticulation.
        let fe = VisemeFrontEnd().analyse(audio.samples)
        let net = try VisemeNet.bundled()
        let track = net.posteriors(logMel: fe.logMel)
        let hops = track.frameCount
        let mouth = Coarticulation.apply(posteriors: track.values, levels: Array(fe.levelDB.prefix(hops)),
                                         lookAhead: Coarticulation.lowLatencyLookAhead)
        var previous = -1
        var closedHops = 0
        for frame in frames {
            let hop = Int((frame.time * 100).rounded())
            XCTAssertEqual(frame.blendshapes[.jawOpen], mouth.value(.jaw, at: hop), "hop \(hop)")
            let closure = ((previous + 1)...hop).map { mouth.closure(at: $0) }.max()!
            if closure > 0 { closedHops += 1 }
            XCTAssertEqual(frame.blendshapes[.mouthClose], max(mouth.value(.lipsClosed, at: hop), closure) * mouth.value(.jaw, at: hop),
                           accuracy: 1e-6, "hop \(hop)")
            previous = hop
        }
        XCTAssertGreaterThanOrEqual(previous, hops - 5, "frames up to the last hop (24 fps: one every 4–5 hops)")
        XCTAssertGreaterThan(closedHops, 5)
    }

    /// Streaming frames, with either timing, do not depend on how the audio is chunked, also past the hops and
    /// saccades the composer drops (14 s of speech, random chunks against one push; the eyes once differed in the
    /// last bit when a trim dropped the saccade a blend starts from).
    func testStreamingFramesDoNotDependOnChunking() throws {
        let speech = try MotionTestAudio.speechFixture().samples
        let samples: [Float] = speech + speech + speech
        var options = MotionOptions()
        options.fps = 30
        for timing in [StreamingMotionComposer.FrameTiming.videoGrid, .newestHop] {
            func composer() throws -> StreamingMotionComposer {
                try StreamingMotionComposer(options: options, mouthLookAhead: Coarticulation.lowLatencyLookAhead, timing: timing)
            }
            var whole = try composer()
            let reference = whole.push(samples16k: samples) + whole.finish()
            var chunked = try composer()
            var frames = [MotionFrame]()
            var rng = SeededGenerator(seed: 9)
            var i = 0
            while i < samples.count {
                let end = min(samples.count, i + Int.random(in: 1...700, using: &rng))
                frames += chunked.push(samples16k: Array(samples[i..<end]))
                i = end
            }
            frames += chunked.finish()
            XCTAssertEqual(Double(frames.count), Double(samples.count) / 16_000 * 30, accuracy: 1.5, "\(timing)")
            XCTAssertEqual(frames.count, reference.count, "\(timing)")
            for n in 0..<min(frames.count, reference.count) where frames[n] != reference[n] {
                XCTFail("\(timing): frame \(n) at \(frames[n].time) s differs")
                break
            }
        }
    }

    func testSilenceGivesAClosedStillMouth() throws {
        for samples in [[Float](repeating: 0, count: 48_000), MotionTestAudio.whiteNoise(seconds: 3, rmsDB: -60, seed: 4)] {
            let frames = MotionComposer(options: MotionOptions()).frames(for: AudioBuffer(sampleRate: 16_000, samples: samples))
            XCTAssertEqual(frames.count, 90)
            for f in frames {
                for shape in MotionTestMetrics.mouthShapes { XCTAssertEqual(f.blendshapes[shape], 0, "\(shape) at \(f.time)") }
            }
        }
    }

    func testStreamingComposerGivesTheBatchMouth() throws {
        let audio = try MotionTestAudio.speechFixture()
        var options = MotionOptions()
        options.controls.still = true
        let batch = MotionComposer(options: options).frames(for: audio)
        var rng = SeededGenerator(seed: 3)
        var live = try StreamingMotionComposer(options: options)
        var frames = [MotionFrame]()
        var i = 0
        while i < audio.samples.count {
            let n = Int.random(in: 1...900, using: &rng)
            let pushed = min(audio.samples.count, i + n)
            frames += live.push(samples16k: Array(audio.samples[i..<pushed]))
            // Every frame whose time + the documented latency has been reached is out.
            let due = Int(((Double(pushed) / 16_000 - StreamingMotionComposer.latency(fps: 30)) * 30).rounded(.down)) + 1
            XCTAssertGreaterThanOrEqual(frames.count, due, "after \(pushed) samples")
            i = pushed
        }
        frames += live.finish()
        XCTAssertGreaterThanOrEqual(frames.count, batch.count - 1)
        let mouth: [Blendshape] = [.jawOpen, .mouthClose, .mouthFunnel, .mouthPucker, .mouthStretchLeft, .mouthLowerDownLeft]
        for n in 0..<min(frames.count, batch.count) {
            XCTAssertEqual(frames[n].time, batch[n].time, accuracy: 1e-12)
            for shape in mouth { XCTAssertEqual(frames[n].blendshapes[shape], batch[n].blendshapes[shape], "\(shape) frame \(n)") }
        }
        XCTAssertGreaterThan(frames.map { $0.blendshapes[.jawOpen] }.max()!, 0.3)
        XCTAssertGreaterThan(frames.map { $0.blendshapes[.eyeBlinkLeft] }.max()!, 0.9, "the live face blinks")
    }
}
