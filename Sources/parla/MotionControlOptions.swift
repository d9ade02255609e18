import ArgumentParser
import Foundation
import ParlaMotion

/// The motion controls (`MotionControls`) as flags, shared by `parla render` and `parla live`.
struct MotionControlOptions: ParsableArguments {
    @Option(help: "Scale of head motion and expression (0 = none, 1 = natural).")
    var motionScale: Float = 1

    @Flag(help: "No head motion (mouth and blinks still move).")
    var still = false

    @Option(help: "Where the eyes look: x,y in -1…1 (x right, y up in the picture; 0,0 = the camera).")
    var gaze: String = "0,0"

    @Option(help: "Head distance from the camera relative to the portrait (0.5…3; 2 = twice as far, half the size).")
    var headDistance: Float = 1

    @Option(help: "Expression: neutral, happy, sad, angry or surprised, optionally :intensity 0…1 (happy:0.5).")
    var emotion: String = "neutral"

    func validate() throws {
        _ = try controls()
    }

    /// The controls the flags ask for; a flag out of range is a validation error naming it.
    func controls() throws -> MotionControls {
        guard motionScale >= 0, motionScale <= 4 else { throw ValidationError("--motion-scale must be between 0 and 4") }
        guard headDistance >= 0.5, headDistance <= 3 else { throw ValidationError("--head-distance must be between 0.5 and 3") }
        guard let expression = MotionEmotion.parse(emotion) else {
            throw ValidationError("--emotion must be neutral, happy, sad, angry or surprised, optionally :intensity 0…1")
        }
        var c = MotionControls()
        c.motionScale = motionScale
        c.still = still
        c.gaze = try Self.parseGaze(gaze)
        c.headDistance = headDistance
        (c.emotion, c.intensity) = expression
        return c
    }

    /// `x,y` with both in −1…1.
    static func parseGaze(_ text: String) throws -> SIMD2<Float> {
        let parts = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let x = parts[0], let y = parts[1], abs(x) <= 1, abs(y) <= 1 else {
            throw ValidationError("--gaze must be x,y with both between -1 and 1 (e.g. 0.3,-0.1)")
        }
        return SIMD2(x, y)
    }
}
