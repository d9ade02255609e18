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
        let right = try frames { $0.controls.gaze = SIMD2(0.8, 0) }
        let up = try frames { $0.controls.gaze = SIMD2(0, 0.6) }
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
        XCTAssertThrowsError(try frames { $0.controls.gaze = SIMD2(1.5, 0) })
    }

    func testHeadDistanceSetsTheScale() throws {
        let far = try frames { $0.controls.headDistance = 2 }
        XCTAssertTrue(far.allSatisfy { $0.scale == 0.5 })
        XCTAssertTrue(try frames { _ in }.allSatisfy { $0.scale == 1 })
        XCTAssertThrowsError(try frames { $0.controls.headDistance = 0.2 })
    }

    func testEmotionsAddTheirExpressionScaledByIntensity() throws {
        let base = try frames { _ in }
        let happy = try frames { $0.controls.emotion = .happy }
        let halfHappy = try frames { $0.controls.emotion = .happy; $0.controls.intensity = 0.5 }
        let sad = try frames { $0.controls.emotion = .sad }
        let angry = try frames { $0.controls.emotion = .angry }
        let surprised = try frames { $0.controls.emotion = .surprised }
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
        let still = try frames { $0.controls.still = true }
        XCTAssertTrue(still.allSatisfy { $0.headYaw == 0 && $0.headPitch == 0 && $0.headRoll == 0 && $0.translation == .zero })
        XCTAssertGreaterThan(still.map { $0.blendshapes[.jawOpen] }.max()!, 0.3, "the mouth still moves")
        let base = try frames { _ in }, double = try frames { $0.controls.motionScale = 2 }
        func range(_ f: [MotionFrame]) -> Float { f.map(\.headYaw).max()! - f.map(\.headYaw).min()! }
        XCTAssertGreaterThan(range(double), 1.3 * range(base))
        let zero = try frames { $0.controls.motionScale = 0 }
        XCTAssertTrue(zero.allSatisfy { $0.headYaw == 0 && $0.blendshapes[.browInnerUp] == 0 })
    }

    func testSeedChangesHeadAndBlinksButNotTheMouth() throws {
        let a = try frames { $0.seed = 1 }, b = try frames { $0.seed = 2 }
        XCTAssertNotEqual(a.map(\.headYaw), b.map(\.headYaw))
        XCTAssertEqual(a.map { $0.blendshapes[.jawOpen] }, b.map { $0.blendshapes[.jawOpen] })
        XCTAssertEqual(a, try frames { $0.seed = 1 })
    }

    /// The live engine applies the same controls to frames composed with the defaults: the result is the frame
    /// composed with those controls (eyes keep the frame's own saccade, emotion, head turn, distance).
    func testLiveControlsGiveTheComposedFrames() throws {
        var controls = MotionControls()
        controls.emotion = .happy
        controls.intensity = 0.7
        controls.gaze = SIMD2(0.4, -0.2)
        controls.headDistance = 2
        let plain = try frames { _ in }
        let composed = try frames { $0.controls = controls }
        XCTAssertEqual(plain.count, composed.count)
        var worst: Float = 0
        for (p, c) in zip(plain, composed) {
            let live = controls.applyLive(to: p)
            for shape in Blendshape.allCases { worst = max(worst, abs(live.blendshapes[shape] - c.blendshapes[shape])) }
            worst = max(worst, abs(live.headYaw - c.headYaw), abs(live.headPitch - c.headPitch), abs(live.scale - c.scale))
        }
        XCTAssertLessThan(worst, 1e-5)
        // Still and motion scale act on the head of the frame shown.
        var still = MotionControls()
        still.still = true
        for frame in plain {
            let held: MotionFrame = still.applyLive(to: frame)
            let angles: [Float] = [held.headYaw, held.headPitch, held.headRoll, held.translation.x, held.translation.y]
            XCTAssertEqual(angles, [0, 0, 0, 0, 0])
        }
        var double = MotionControls()
        double.motionScale = 2
        let moving = try XCTUnwrap(plain.first { abs($0.headRoll) > 1e-4 })
        XCTAssertEqual(double.applyLive(to: moving).headRoll, 2 * moving.headRoll, accuracy: 1e-7)
    }

    /// One type for every way in: its JSON (`PUT /controls`) names gaze as gazeX / gazeY, fills what is missing
    /// with the defaults, and ``MotionControls/validate()`` names the value out of range.
    func testJSONAndValidation() throws {
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: JSONEncoder().encode(MotionControls())) as? [String: Any])
        XCTAssertEqual(Set(json.keys), Set(MotionControls.fieldNames))
        XCTAssertEqual(Set(MotionControls.fieldNames), ["emotion", "intensity", "gazeX", "gazeY", "headDistance", "motionScale", "still"])
        let partial = try JSONDecoder().decode(MotionControls.self, from: Data(#"{"gazeX": 0.3, "emotion": "sad"}"#.utf8))
        var expected = MotionControls()
        expected.gaze = SIMD2(0.3, 0)
        expected.emotion = .sad
        XCTAssertEqual(partial, expected)
        XCTAssertThrowsError(try JSONDecoder().decode(MotionControls.self, from: Data(#"{"emotion": "bored"}"#.utf8)))
        let cases: [(WritableKeyPath<MotionControls, Float>, Float, String)] = [
            (\.intensity, 1.5, "emotion intensity 1.5 must be between 0 and 1"),
            (\.headDistance, 0.2, "head distance 0.2 must be between 0.5 and 3"),
            (\.motionScale, 5, "motion scale 5.0 must be between 0 and 4"),
            (\.motionScale, .nan, "motion scale nan must be between 0 and 4"),
        ]
        for (path, value, message) in cases {
            var c = MotionControls()
            c[keyPath: path] = value
            XCTAssertThrowsError(try c.validate()) { XCTAssertEqual("\($0)", "motion options: " + message) }
        }
        var c = MotionControls()
        c.gaze = SIMD2(0, -1.5)
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("gaze 0.0,-1.5 must be within −1…1"), "\($0)") }
        XCTAssertNoThrow(try MotionControls().validate())
    }
}
