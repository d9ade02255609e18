import XCTest
import ParlaMedia
import ParlaTestSupport
@testable import ParlaMotion

/// The batch composer analyses the audio once: the network's log-mel and jaw levels come from the head analysis's
/// features. These shortcuts must give exactly what the separate analyses give.
final class SharedAnalysisTests: XCTestCase {
    func testFrontEndFramesFromTheFeaturesEqualTheFrontEnd() throws {
        let speech = try MotionTestAudio.speechFixture()
        var inputs: [[Float]] = [speech.samples, Array(speech.samples.prefix(16_001 + 37))]
        for (seed, count) in [(1, 1), (2, 199), (3, 200), (4, 401), (5, 561), (6, 4_813)] as [(UInt64, Int)] {
            inputs.append(Array(MotionTestAudio.whiteNoise(seconds: 1, rmsDB: -20, seed: seed).prefix(count)))
        }
        let frontEnd = VisemeFrontEnd()
        let extractor = try SpeechFeatureExtractor(sampleRate: 16_000)
        for samples in inputs {
            let audio = AudioBuffer(sampleRate: 16_000, samples: samples)
            let shared = try XCTUnwrap(frontEnd.frames(from: extractor.extract(samples), of: audio), "\(samples.count)")
            XCTAssertEqual(shared, frontEnd.analyse(samples), "\(samples.count) samples")
        }
        // Another rate is analysed differently: no shortcut.
        let rate = 22_050
        let other = AudioBuffer(sampleRate: rate, samples: Array(speech.samples.prefix(rate)))
        XCTAssertNil(frontEnd.frames(from: try SpeechFeatureExtractor(sampleRate: rate).extract(other.samples), of: other))
    }

    func testTheDefaultComposerEqualsThePublicVisemePath() throws {
        let audio = try MotionTestAudio.speechFixture()
        let net = try VisemeNet.bundled()
        for fps in [30.0, 25] {
            var options = MotionOptions()
            options.fps = fps
            let composer = MotionComposer(options: options)
            let shared = composer.frames(for: audio)
            let separate = composer.frames(for: audio, visemes: net.track(for: audio))
            XCTAssertEqual(shared, separate, "\(fps) fps")
            XCTAssertGreaterThan(shared.map { $0.blendshapes[.jawOpen] }.max() ?? 0, 0.3)
        }
    }
}
