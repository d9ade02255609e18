import XCTest
import ParlaMedia
import ParlaTestSupport
@testable import ParlaMotion

/// Each control changes the output as docs/motion.md says.
final class MotionControlsTests: XCTestCase {
    /// The speech fixture and its VisemeNet track, computed once (``MotionComposer/frames(for:)`` is
    /// `frames(for: audio, visemes: net.track(for: audio))`; the controls act after that).
    private static let clip: (AudioBuffer, VisemeTrack)? = {
        guard let audio = try? MotionTestAudio.speechFixture(), let net = try? VisemeNet.bundled() else { return nil }
        return (audio, net.track(for: audio))
    }()

    private func frames(_ change: (inout MotionOptions) -> Void) throws -> [MotionFrame] {
        var options = MotionOptions()
        change(&options)
        let (audio, track) = try XCTUnwrap(Self.clip)
        let composer = MotionComposer(options: options)
        _ = try composer.checkedFrames(for: AudioBuffer(sampleRate: 16_000, samples: [0]))   // validates the options
        return composer.frames(for: audio, visemes: track)
    }

    private func mean(_ frames: [MotionFrame], _ value: (MotionFrame) -> Float) -> Float {
        frames.map(value).reduce(0, +) / Float(frames.count)
    }

    func testGazeTurnsTheEyesAndSomewhatTheHead() throws {
        let base = try frames { _ in }
        let right = try frames { $0.gaze = SIMD2(0.8, 0) }
        let up = try frames { $0.gaze = SIMD2(0, 0.6) }
        XCTAssertGreaterThan(mean(right) { $0.blendshapes[.eyeLookOutLeft] }, 0.7)
        XCTAssertGreaterThan(mean(right) { $0.blendshapes[.eyeLookInRight] }, 0.7)
        XCTAssertEqual(mean(right) { $0.blendshapes[.eyeLookInLeft] }, 0, accuracy: 0.01)
        XCTAssertGreaterThan(mean(up) { $0.blendshapes[.eyeLookUpLeft] }, 0.5)
        // The head follows a quarter of the way: 6° of yaw at full gaze, minus 4° of pitch looking up.
        let expectedYaw: Float = 0.8 * 6 * Float.pi / 180
        XCTAssertEqual(mean(right) { $0.headYaw } - mean(base) { $0.headYaw }, expectedYaw, accuracy: 1e-4)
        let expectedPitch: Float = -0.6 * 4 * Float.pi / 180
        XCTAssertEqual(mean(up) { $0.headPitch } - mean(base) { $0.headPitch }, expectedPitch, accuracy: 1e-4)
        // Saccades: the eyes do not sit still at the target.
        let eyes = base.map { $0.blendshapes[.eyeLookOutLeft] + $0.blendshapes[.eyeLookInLeft] }
        XCTAssertGreaterThan(Set(eyes).count, 3)
        XCTAssertThrowsError(try frames { $0.gaze = SIMD2(1.5, 0) })
    }

    func testHeadDistanceSetsTheScale() throws {
        let far = try frames { $0.headDistance = 2 }
        XCTAssertTrue(far.allSatisfy { $0.scale == 0.5 })
        XCTAssertTrue(try frames { _ in }.allSatisfy { $0.scale == 1 })
        XCTAssertThrowsError(try frames { $0.headDistance = 0.2 })
    }

    func testEmotionsAddTheirExpressionScaledByIntensity() throws {
        let base = try frames { _ in }
        let happy = try frames { $0.emotion = .happy }
        let halfHappy = try frames { $0.emotion = .happy; $0.emotionIntensity = 0.5 }
        let sad = try frames { $0.emotion = .sad }
        let angry = try frames { $0.emotion = .angry }
        let surprised = try frames { $0.emotion = .surprised }
        func smile(_ f: [MotionFrame]) -> Float { mean(f) { $0.blendshapes[.mouthSmileLeft] } }
        XCTAssertGreaterThan(smile(happy) - smile(base), 0.35)
        XCTAssertEqual(smile(halfHappy) - smile(base), (smile(happy) - smile(base)) / 2, accuracy: 0.03)
        XCTAssertGreaterThan(mean(sad) { $0.blendshapes[.mouthFrownLeft] }, 0.4)
        XCTAssertGreaterThan(mean(sad) { $0.headPitch }, mean(base) { $0.headPitch })
        XCTAssertGreaterThan(mean(angry) { $0.blendshapes[.browDownLeft] }, 0.5)
        XCTAssertGreaterThan(mean(surprised) { $0.blendshapes[.eyeWideLeft] }, 0.45)
        // The mouth still speaks under an emotion.
        XCTAssertGreaterThan(happy.map { $0.blendshapes[.jawOpen] }.max()!, 0.3)
        XCTAssertEqual(MotionEmotion.parse("sad:0.25")?.1, 0.25)
        XCTAssertNil(MotionEmotion.parse("bored"))
        XCTAssertNil(MotionEmotion.parse("happy:2"))
    }

    func testStillAndMotionScale() throws {
        let still = try frames { $0.still = true }
        XCTAssertTrue(still.allSatisfy { $0.headYaw == 0 && $0.headPitch == 0 && $0.headRoll == 0 && $0.translation == .zero })
        XCTAssertGreaterThan(still.map { $0.blendshapes[.jawOpen] }.max()!, 0.3, "the mouth still moves")
        let base = try frames { _ in }, double = try frames { $0.motionScale = 2 }
        func range(_ f: [MotionFrame]) -> Float { f.map(\.headYaw).max()! - f.map(\.headYaw).min()! }
        XCTAssertGreaterThan(range(double), 1.3 * range(base))
        let zero = try frames { $0.motionScale = 0 }
        XCTAssertTrue(zero.allSatisfy { $0.headYaw == 0 && $0.blendshapes[.browInnerUp] == 0 })
    }

    func testSeedChangesHeadAndBlinksButNotTheMouth() throws {
        let a = try frames { $0.seed = 1 }, b = try frames { $0.seed = 2 }
        XCTAssertNotEqual(a.map(\.headYaw), b.map(\.headYaw))
        XCTAssertEqual(a.map { $0.blendshapes[.jawOpen] }, b.map { $0.blendshapes[.jawOpen] })
        XCTAssertEqual(a, try frames { $0.seed = 1 })
    }
}
