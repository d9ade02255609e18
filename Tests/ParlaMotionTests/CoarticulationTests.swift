import XCTest
import ParlaMedia
import ParlaTestSupport
@testable import ParlaMotion

final class CoarticulationTests: XCTestCase {
    /// "papa mama" as timed visemes: PP 60 ms, aa 140 ms, alternating, after 200 ms of silence.
    private func papaEvents() -> [VisemeEvent] {
        var events = [VisemeEvent]()
        var t = 0.2
        for _ in 0..<4 {
            events.append(VisemeEvent(.pp, start: t, duration: 0.06)); t += 0.06
            events.append(VisemeEvent(.aa, start: t, duration: 0.14)); t += 0.14
        }
        return events
    }

    private func tone(seconds: Double) -> AudioBuffer {
        AudioBuffer(sampleRate: 16_000, samples: (0..<Int(seconds * 16_000)).map { 0.2 * sin(Float($0) * 0.1) })
    }

    func testEveryPPEventClosesTheLipsOnAVideoFrameAndVowelsOpen() {
        let events = papaEvents()
        let audio = tone(seconds: 1.4)
        for fps in [25.0, 30, 60] {
            var options = MotionOptions()
            options.fps = fps
            let frames = MotionComposer(options: options).frames(for: audio, visemes: VisemeTrack(events: events, duration: 1.4))
            for event in events {
                let inside = frames.filter { abs($0.time - (event.start + event.duration / 2)) <= max(event.duration / 2, 0.5 / fps) + 1e-9 }
                XCTAssertFalse(inside.isEmpty)
                let gap = inside.map { $0.blendshapes[.jawOpen] - $0.blendshapes[.mouthClose] }
                if event.viseme == .pp {
                    XCTAssertLessThanOrEqual(gap.min()!, 1e-6, "fps \(fps): no closure at \(event.start)")
                } else {
                    XCTAssertGreaterThan(gap.max()!, 0.3, "fps \(fps): vowel at \(event.start) did not open")
                }
            }
        }
    }

    func testStreamEqualsBatch() {
        var rng = SystemRandomNumberGenerator()
        let n = 300
        var posteriors = [Float]()
        for _ in 0..<n {
            var row = (0..<16).map { _ in Float.random(in: 0...1, using: &rng) }
            let s = row.reduce(0, +)
            row = row.map { $0 / s }
            posteriors += row
        }
        let levels = (0..<n).map { _ in Float.random(in: -80 ... -10, using: &rng) }
        let batch = Coarticulation.apply(posteriors: posteriors, levels: levels)
        XCTAssertEqual(batch.count, n)
        var stream = Coarticulation.Stream()
        var out = Coarticulation.Output()
        var k = 0
        while k < n {
            let step = Int.random(in: 1...7, using: &rng)
            for j in k..<min(n, k + step) {
                stream.push(posteriors: posteriors[(j * 16)..<((j + 1) * 16)], level: levels[j], into: &out)
            }
            XCTAssertEqual(out.count, max(0, min(n, k + step) - Coarticulation.standardLookAhead))
            k += step
        }
        stream.finish(into: &out)
        XCTAssertEqual(out, batch)
    }

    func testEveryLookAheadStreamsItsOwnBatchAndShorterOnesAnswerSooner() {
        var rng = SeededGenerator(seed: 11)
        let n = 157
        var posteriors = [Float]()
        for _ in 0..<n {
            let row: [Float] = (0..<16).map { _ in Float.random(in: 0...1, using: &rng) }
            let s: Float = row.reduce(0, +)
            posteriors += row.map { $0 / s }
        }
        let levels: [Float] = (0..<n).map { _ in Float.random(in: -70 ... -10, using: &rng) }
        let standard = Coarticulation.apply(posteriors: posteriors, levels: levels)
        for look in 0...Coarticulation.standardLookAhead {
            let batch = Coarticulation.apply(posteriors: posteriors, levels: levels, lookAhead: look)
            XCTAssertEqual(batch.count, n)
            var stream = Coarticulation.Stream(lookAhead: look)
            var out = Coarticulation.Output()
            for j in 0..<n {
                stream.push(posteriors: posteriors[(j * 16)..<((j + 1) * 16)], level: levels[j], into: &out)
                XCTAssertEqual(out.count, max(0, j + 1 - look), "look-ahead \(look): output lags input by exactly \(look) hops")
            }
            stream.finish(into: &out)
            XCTAssertEqual(out, batch, "look-ahead \(look)")
            // The closure column reads ±1 hop only: identical for every look-ahead of at least one hop.
            if look >= 1 {
                for k in 0..<n { XCTAssertEqual(batch.closure(at: k), standard.closure(at: k), "hop \(k), look-ahead \(look)") }
            }
            if look < Coarticulation.standardLookAhead { XCTAssertNotEqual(batch, standard, "look-ahead \(look) changes the blend") }
        }
    }

    func testSilenceGivesAnExactlyClosedStillMouth() {
        let track = VisemeTrack(frameCount: 200)
        let frames = MotionComposer(options: MotionOptions()).frames(for: tone(seconds: 2), visemes: track)
        for f in frames {
            for shape in [Blendshape.jawOpen, .mouthClose, .mouthFunnel, .mouthPucker, .mouthStretchLeft, .mouthLowerDownLeft] {
                XCTAssertEqual(f.blendshapes[shape], 0)
            }
        }
    }
}
