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
        var total = LipsyncScores()
        var byVoice = [String: LipsyncScores]()
        var seconds = 0.0, cpu = 0.0
        for name in names {
            let base = (dir as NSString).appendingPathComponent(String(name.dropLast(4)))
            let audio = try MotionTestAudio.readWAV16(URL(fileURLWithPath: base + ".wav"))
            let labels = try String(contentsOfFile: base + ".labels", encoding: .utf8)
                .split(separator: " ").compactMap { Int($0).flatMap(Viseme.init(rawValue:)) }
            let start = DispatchTime.now().uptimeNanoseconds
            let frontEnd = VisemeFrontEnd().analyse(audio.samples)
            let track = net.posteriors(logMel: frontEnd.logMel)
            let mouth = Coarticulation.apply(posteriors: track.values, levels: frontEnd.levelDB)
            cpu += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            seconds += Double(audio.samples.count) / 16_000
            let s = LipsyncScores.score(labels: labels, track: track, mouth: mouth, levels: frontEnd.levelDB)
            total.merge(s)
            let voice = String(name.dropLast(4).split(separator: "_", maxSplits: 1).last ?? "")
            byVoice[voice, default: LipsyncScores()].merge(s)
        }
        print("held-out: \(names.count) utterances, \(String(format: "%.1f", seconds / 60)) min, \(byVoice.count) voices")
        print(total.report)
        for (voice, s) in byVoice.sorted(by: { $0.key < $1.key }) {
            print(String(format: "  %-16@ accuracy %.1f %%, onset error %.1f ms, closures %d/%d", voice as NSString,
                         100 * s.frameAccuracy, s.meanOnsetErrorMs, s.closureHits, s.closures))
        }
        print(String(format: "front end + VisemeNet + coarticulation: %.1f× real time (one core, batch)", seconds / cpu))
    }
}
