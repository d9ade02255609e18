import ParlaMotion

/// A mood the face shows on top of whatever drives it.
public enum Emotion: String, CaseIterable, Codable, Sendable {
    case neutral, happy, sad, angry, surprised

    /// The ARKit weights of the full-intensity expression (mouth weights stay small so speech still reads).
    var weights: [(Blendshape, Float)] {
        switch self {
        case .neutral: []
        case .happy: [(.mouthSmileLeft, 0.6), (.mouthSmileRight, 0.6), (.cheekSquintLeft, 0.4), (.cheekSquintRight, 0.4),
                      (.eyeSquintLeft, 0.2), (.eyeSquintRight, 0.2)]
        case .sad: [(.browInnerUp, 0.7), (.mouthFrownLeft, 0.5), (.mouthFrownRight, 0.5), (.eyeLookDownLeft, 0.15),
                    (.eyeLookDownRight, 0.15)]
        case .angry: [(.browDownLeft, 0.8), (.browDownRight, 0.8), (.noseSneerLeft, 0.4), (.noseSneerRight, 0.4),
                      (.mouthPressLeft, 0.3), (.mouthPressRight, 0.3), (.eyeSquintLeft, 0.3), (.eyeSquintRight, 0.3)]
        case .surprised: [(.browInnerUp, 0.8), (.browOuterUpLeft, 0.8), (.browOuterUpRight, 0.8), (.eyeWideLeft, 0.7),
                          (.eyeWideRight, 0.7), (.jawOpen, 0.15)]
        }
    }
}

/// Settings a controller changes while the face runs (`PUT /controls`): mood, where the eyes look, how far the
/// head is, how much it moves. Applied to every motion frame just before it is drawn, so a change shows on the
/// next frame whatever is speaking.
public struct FaceControls: Codable, Sendable, Equatable {
    /// The mood.
    public var emotion: Emotion = .neutral
    /// How strongly the mood shows, 0…1.
    public var intensity: Float = 0.6
    /// Gaze: x right (as seen in the picture), y up, each −1…1; 0, 0 looks at the camera.
    public var gazeX: Float = 0
    public var gazeY: Float = 0
    /// Apparent distance of the head: 1 is the portrait's framing, 2 twice as far (smaller), 0.5 closer.
    public var headDistance: Float = 1
    /// Scales head motion (0 = none, 1 = natural, up to 4).
    public var motionScale: Float = 1
    /// No head motion at all (mouth, blinks, brows still move).
    public var still = false

    public init() {}

    /// Throws a one-line error naming the first value out of range.
    public func validate() throws {
        func check(_ v: Float, _ range: ClosedRange<Float>, _ name: String) throws {
            guard v.isFinite, range.contains(v) else { throw RuntimeError("\(name) \(v) is outside \(range.lowerBound)…\(range.upperBound)") }
        }
        try check(intensity, 0...1, "intensity")
        try check(gazeX, -1...1, "gazeX")
        try check(gazeY, -1...1, "gazeY")
        try check(headDistance, 0.5...3, "headDistance")
        try check(motionScale, 0...4, "motionScale")
    }

    /// The frame as these controls change it.
    public func apply(to frame: MotionFrame) -> MotionFrame {
        var f = frame
        for (shape, weight) in emotion.weights {
            f.blendshapes[shape] = max(f.blendshapes[shape], weight * intensity)
        }
        // Gaze: the subject's left eye looks "out" when looking to the picture's right.
        if gazeX > 0 {
            f.blendshapes[.eyeLookOutLeft] = max(f.blendshapes[.eyeLookOutLeft], gazeX)
            f.blendshapes[.eyeLookInRight] = max(f.blendshapes[.eyeLookInRight], gazeX)
        } else if gazeX < 0 {
            f.blendshapes[.eyeLookInLeft] = max(f.blendshapes[.eyeLookInLeft], -gazeX)
            f.blendshapes[.eyeLookOutRight] = max(f.blendshapes[.eyeLookOutRight], -gazeX)
        }
        if gazeY > 0 {
            f.blendshapes[.eyeLookUpLeft] = max(f.blendshapes[.eyeLookUpLeft], gazeY)
            f.blendshapes[.eyeLookUpRight] = max(f.blendshapes[.eyeLookUpRight], gazeY)
        } else if gazeY < 0 {
            f.blendshapes[.eyeLookDownLeft] = max(f.blendshapes[.eyeLookDownLeft], -gazeY)
            f.blendshapes[.eyeLookDownRight] = max(f.blendshapes[.eyeLookDownRight], -gazeY)
        }
        let m = still ? 0 : motionScale
        f.headPitch *= m
        f.headYaw *= m
        f.headRoll *= m
        f.translation *= m
        f.scale = frame.scale / headDistance
        return f
    }
}
