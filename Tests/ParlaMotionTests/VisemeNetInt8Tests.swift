import XCTest
import ParlaKernels
import ParlaMedia
import ParlaModel
import ParlaTestSupport
@testable import ParlaMotion

/// The bundled VisemeNet's int8 path: the same bytes on every CPU (golden checksum, compared on x86-64 here and on
/// aarch64 by Board/test-arm64), and close to the fp32 path it was calibrated against.
final class VisemeNetInt8Tests: XCTestCase {
    /// 400 frames of log-mel from integer arithmetic only (the seeded generator), so the input bytes are the same
    /// everywhere; normalisation and quantization are single IEEE operations, the layers integer only.
    private func fixedLogMel() -> [Float] {
        var rng = SeededGenerator(seed: 0x515E)
        var values = [Float]()
        for t in 0..<400 {
            // A loudness envelope that comes and goes (speech-like level changes) plus per-band noise.
            let level: Float = Float((t / 40) % 3) * 3 - 3
            for _ in 0..<80 {
                let noise: Float = Float(Int(rng.next() % 801)) / 100
                let base: Float = -9 + level
                values.append(base + noise - 4)
            }
        }
        return values
    }

    /// The golden checksum of the bundled model's int8 logits on the fixed input. It changes only when the model
    /// file or the integer arithmetic changes; a different value on another CPU means the int8 path is not bit-exact
    /// there. (Regenerating the model with Tools/quantize-visemenet changes it: update the constant with the new
    /// value this test prints.)
    func testInt8LogitsMatchTheGoldenChecksumOnAFixedInput() throws {
        let net = try VisemeNet.bundled()
        let logMel = fixedLogMel()
        let logits = net.int8Logits(logMel: logMel)
        XCTAssertEqual(logits.count, 400 * 16)
        let crc = logits.withUnsafeBytes { CRC32.checksum($0) }
        let distinct = Set(logits).count
        print("VisemeNet int8 logits: CRC-32 \(String(crc, radix: 16)), \(distinct) distinct values (\(Int8KernelPath.best))")
        XCTAssertGreaterThan(distinct, 40, "the fixed input must exercise the logits' range")
        XCTAssertEqual(crc, 0x0E7B_8B47, "int8 logits differ from the golden bytes")
        // Streaming gives the same bytes (20 ms pushes, the live composer's).
        var stream = net.makeStream(precision: .int8)
        stream.int8Logits = []
        var posteriors = [Float]()
        for k in stride(from: 0, to: 400, by: 2) { stream.push(logMel: Array(logMel[(k * 80)..<((k + 2) * 80)]), into: &posteriors) }
        stream.finish(into: &posteriors)
        XCTAssertEqual(stream.int8Logits, logits)
        XCTAssertEqual(posteriors, net.posteriors(logMel: logMel).values)
    }

    /// On the committed speech clip the int8 posteriors stay close to fp32's: the same most likely viseme on nearly
    /// every frame and a small mean difference.
    func testInt8PosteriorsAreCloseToFloatOnSpeech() throws {
        let net = try VisemeNet.bundled()
        let audio = try MotionTestAudio.readWAV16(Fixtures.url("motion/speech_en_16k.wav"))
        let mel = VisemeFrontEnd().analyse(audio.samples).logMel
        let q = net.posteriors(logMel: mel, precision: .int8), f = net.posteriors(logMel: mel, precision: .fp32)
        XCTAssertEqual(q.frameCount, f.frameCount)
        var same = 0, diff: Float = 0
        for k in 0..<q.frameCount {
            let a = q.values[(k * 16)..<((k + 1) * 16)], b = f.values[(k * 16)..<((k + 1) * 16)]
            if a.indices.max(by: { a[$0] < a[$1] }) == b.indices.max(by: { b[$0] < b[$1] }) { same += 1 }
            diff += zip(a, b).map { abs($0 - $1) }.reduce(0, +) / 16
        }
        let agreement = Double(same) / Double(q.frameCount), meanDiff = diff / Float(q.frameCount)
        print(String(format: "int8 vs fp32 on speech_en_16k: argmax agreement %.3f, mean |Δp| %.4f over %d frames",
                     agreement, meanDiff, q.frameCount))
        XCTAssertGreaterThan(agreement, 0.93)
        XCTAssertLessThan(meanDiff, 0.01)
    }
}
