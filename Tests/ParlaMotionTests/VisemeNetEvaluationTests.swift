import XCTest
import ParlaMedia
import ParlaTestSupport
@testable import ParlaMotion

/// Tools/eval-lipsync runs this with PARLA_LIPSYNC_DIR set to a folder of held-out `NAME.wav` + `NAME.labels`
/// (one class index per 10 ms frame) and prints the figures; without the variable it is skipped.
final class VisemeNetEvaluationTests: XCTestCase {
    func testEvaluateHeldOutVoices() throws {
        guard let dir = ProcessInfo.processInfo.environment["PARLA_LIPSYNC_DIR"] else {
            throw XCTSkip("set PARLA_LIPSYNC_DIR (Tools/eval-lipsync does)")
        }
        let net = try VisemeNet.bundled()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".wav") }.sorted()
        XCTAssertFalse(names.isEmpty, "no WAV files in \(dir)")
        // Both precisions on the same utterances in this one process; int8 (the default) first.
        var totals = [VisemeNet.Precision: LipsyncScores]()
        var byVoice = [String: LipsyncScores]()
        var seconds = 0.0, cpu = [VisemeNet.Precision: Double]()
        for name in names {
            let base = (dir as NSString).appendingPathComponent(String(name.dropLast(4)))
            let audio = try MotionTestAudio.readWAV16(URL(fileURLWithPath: base + ".wav"))
            let labels = try String(contentsOfFile: base + ".labels", encoding: .utf8)
                .split(separator: " ").compactMap { Int($0).flatMap(Viseme.init(rawValue:)) }
            seconds += Double(audio.samples.count) / 16_000
            for precision in VisemeNet.Precision.allCases {
                let start = DispatchTime.now().uptimeNanoseconds
                let frontEnd = VisemeFrontEnd().analyse(audio.samples)
                let track = net.posteriors(logMel: frontEnd.logMel, precision: precision)
                let mouth = Coarticulation.apply(posteriors: track.values, levels: frontEnd.levelDB)
                cpu[precision, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                let s = LipsyncScores.score(labels: labels, track: track, mouth: mouth, levels: frontEnd.levelDB)
                totals[precision, default: LipsyncScores()].merge(s)
                if precision == .int8 {
                    let voice = String(name.dropLast(4).split(separator: "_", maxSplits: 1).last ?? "")
                    byVoice[voice, default: LipsyncScores()].merge(s)
                }
            }
        }
        print("held-out: \(names.count) utterances, \(String(format: "%.1f", seconds / 60)) min, \(byVoice.count) voices")
        for precision in VisemeNet.Precision.allCases {
            print("VisemeNet \(precision.rawValue):")
            print(totals[precision]!.report)
        }
        let q = totals[.int8]!, f = totals[.fp32]!
        print(String(format: "int8 − fp32: accuracy %+.2f points, onsets matched %+.2f points, onset error %+.2f ms, "
                     + "closures %+.2f points, lag %+d ms", 100 * (q.frameAccuracy - f.frameAccuracy),
                     100 * (q.onsetMatchRate - f.onsetMatchRate), q.meanOnsetErrorMs - f.meanOnsetErrorMs,
                     100 * (q.closureHitRate - f.closureHitRate), q.bestLagMs - f.bestLagMs))
        print("int8 per voice:")
        for (voice, s) in byVoice.sorted(by: { $0.key < $1.key }) {
            print(String(format: "  %-16@ accuracy %.1f %%, onset error %.1f ms, closures %d/%d", voice as NSString,
                         100 * s.frameAccuracy, s.meanOnsetErrorMs, s.closureHits, s.closures))
        }
        for precision in VisemeNet.Precision.allCases {
            print(String(format: "front end + VisemeNet %@ + coarticulation: %.1f× real time (one core, batch, wall clock)",
                         precision.rawValue, seconds / cpu[precision]!))
        }
    }

    /// `parla live --mic` as a viewer sees it, on the same held-out utterances: the microphone's composer (10 ms
    /// coarticulation look-ahead) as it was (frames at n / fps, `videoGrid`, 10 ms capture periods), with 5 ms periods,
    /// and as it is (frames on the newest hop, 5 ms periods); a 60 Hz panel whose loop, after each flip, draws the newest frame out by then and shows it at
    /// the next vblank (the vblank phase moves 7 ms per utterance; decode time left out, the same for both). Prints
    /// per timing and fps: p/b/m segments whose closure reaches the screen and the mean time from the segment's
    /// start to the first closed picture; the lag of the shown lip opening behind the speech energy.
    func testMicrophoneTimingOnHeldOutVoices() throws {
        guard let dir = ProcessInfo.processInfo.environment["PARLA_LIPSYNC_DIR"] else {
            throw XCTSkip("set PARLA_LIPSYNC_DIR (Tools/eval-lipsync does)")
        }
        let net = try VisemeNet.bundled()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".wav") }.sorted()
        XCTAssertFalse(names.isEmpty, "no WAV files in \(dir)")
        struct Tally {
            var segments = 0, hits = 0, delay = 0.0, pictures = 0, pictureDelay = 0.0, vblanks = 0, age = 0.0
            var correlation = [Double](repeating: 0, count: 301)
        }
        let configurations: [(timing: StreamingMotionComposer.FrameTiming, fps: Double, period: Int)] = [
            (.videoGrid, 30, 160), (.videoGrid, 30, 80), (.newestHop, 30, 80), (.videoGrid, 60, 160), (.videoGrid, 60, 80), (.newestHop, 60, 80),
        ]
        var tallies = [Tally](repeating: Tally(), count: configurations.count)
        let refresh = 1.0 / 60
        for (u, name) in names.enumerated() {
            let base = (dir as NSString).appendingPathComponent(String(name.dropLast(4)))
            let audio = try MotionTestAudio.readWAV16(URL(fileURLWithPath: base + ".wav"))
            let labels = try String(contentsOfFile: base + ".labels", encoding: .utf8)
                .split(separator: " ").compactMap { Int($0).flatMap(Viseme.init(rawValue:)) }
            let levels = VisemeFrontEnd().analyse(audio.samples).levelDB
            let phase = Double(u * 7 % 17) / 1000
            for (c, (timing, fps, period)) in configurations.enumerated() {
                var options = MotionOptions()
                options.fps = fps
                var composer = try StreamingMotionComposer(options: options, net: net, mouthLookAhead: Coarticulation.lowLatencyLookAhead,
                                                           timing: timing)
                var frames = [(ready: Double, time: Double, opening: Double)]()
                var i = 0
                while i < audio.samples.count {
                    let end = min(audio.samples.count, i + period)
                    for f in composer.push(samples16k: Array(audio.samples[i..<end])) {
                        frames.append((Double(end) / 16_000, f.time, Double(f.blendshapes[.jawOpen] - f.blendshapes[.mouthClose])))
                    }
                    i = end
                }
                let tail = Double(audio.samples.count) / 16_000
                for f in composer.finish() { frames.append((tail, f.time, Double(f.blendshapes[.jawOpen] - f.blendshapes[.mouthClose]))) }
                // The picture on screen from vblank v on: the newest frame out by the vblank before.
                var shown = [(time: Double, opening: Double)]()
                var next = 0, current = 0.0
                var v = phase
                while v < tail + 0.5 {
                    let before = next
                    while next < frames.count, frames[next].ready <= v - refresh { current = frames[next].opening; next += 1 }
                    shown.append((v, current))
                    if next > 0, frames[next - 1].ready < tail {
                        // What --stats measures: a new picture's flip minus its frame's time; and the age of whatever
                        // is on screen at every vblank.
                        if next > before {
                            tallies[c].pictures += 1
                            tallies[c].pictureDelay += v - frames[next - 1].time
                        }
                        tallies[c].vblanks += 1
                        tallies[c].age += v - frames[next - 1].time
                    }
                    v += refresh
                }
                func opening(at t: Double) -> Double {
                    let k = Int(((t - phase) / refresh).rounded(.down))
                    return k < 0 ? 0 : shown[min(k, shown.count - 1)].opening
                }
                // p/b/m segments: the first closed picture from the segment's start to 300 ms after its end.
                var k = 0
                while k < labels.count {
                    guard labels[k] == .pp else { k += 1; continue }
                    var j = k
                    while j < labels.count, labels[j] == .pp { j += 1 }
                    let start = Double(k) * 0.01, stop = Double(j) * 0.01 + 0.3
                    tallies[c].segments += 1
                    if let hit = shown.first(where: { $0.time >= start && $0.time <= stop && $0.opening <= 0.02 }) {
                        tallies[c].hits += 1
                        tallies[c].delay += hit.time - start
                    }
                    k = j
                }
                // Lag (0 … 300 ms, 1 ms steps) of the shown opening behind the speech energy (per hop, linearly
                // interpolated to 1 ms), both mean removed.
                let hops = min(labels.count, levels.count)
                let amplitude = levels.prefix(hops).map { Double(pow(10, max($0, -90) / 20)) }
                let n = (hops - 1) * 10
                let energy = (0..<n).map { m -> Double in
                    let k = m / 10, f = Double(m % 10) / 10
                    return amplitude[k] * (1 - f) + amplitude[k + 1] * f
                }
                let seen = (0..<(n + 300)).map { opening(at: Double($0) * 0.001) }
                let me = energy.reduce(0, +) / Double(n), mo = seen.reduce(0, +) / Double(seen.count)
                let e = energy.map { $0 - me }, o = seen.map { $0 - mo }
                let ne = sqrt(e.map { $0 * $0 }.reduce(0, +)) + 1e-12, no = sqrt(o.prefix(n).map { $0 * $0 }.reduce(0, +)) + 1e-12
                for lag in 0...300 {
                    var acc = 0.0
                    for t in 0..<n { acc += e[t] * o[t + lag] }
                    tallies[c].correlation[lag] += acc / (ne * no)
                }
            }
        }
        print("live --mic on a 60 Hz panel (\(names.count) utterances; photon = the vblank after the one the frame was out by, decode left out):")
        for (c, (timing, fps, period)) in configurations.enumerated() {
            let t = tallies[c]
            let best = t.correlation.indices.max(by: { t.correlation[$0] < t.correlation[$1] })!
            print(String(format: "  %-9@ %2.0f fps, %2d ms periods: sound-to-photon %.1f ms at a picture's first flip, %.1f ms mean age on screen; p/b/m on screen %d/%d (%.1f %%), first closed picture %.1f ms "
                         + "after the segment start; opening %d ms behind the energy (r = %.2f)", "\(timing)" as NSString, fps, period / 16,
                         1000 * t.pictureDelay / Double(max(1, t.pictures)), 1000 * t.age / Double(max(1, t.vblanks)), t.hits, t.segments,
                         100 * Double(t.hits) / Double(max(1, t.segments)), 1000 * t.delay / Double(max(1, t.hits)), best,
                         t.correlation[best] / Double(names.count)))
        }
        XCTAssertGreaterThan(tallies.map(\.segments).min() ?? 0, 0)
    }
}
