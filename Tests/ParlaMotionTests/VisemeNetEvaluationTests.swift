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
}
