import Foundation

/// An expression offset (``MotionControls/emotion``).
public enum MotionEmotion: String, Sendable, CaseIterable, Codable {
    case neutral, happy, sad, angry, surprised

    /// Blendshape offsets at intensity 1 (added, then clamped to [0, 1]).
    public var offsets: [(Blendshape, Float)] {
        switch self {
        case .neutral: []
        case .happy: [(.mouthSmileLeft, 0.45), (.mouthSmileRight, 0.45), (.cheekSquintLeft, 0.3), (.cheekSquintRight, 0.3),
                      (.eyeSquintLeft, 0.15), (.eyeSquintRight, 0.15)]
        case .sad: [(.mouthFrownLeft, 0.45), (.mouthFrownRight, 0.45), (.browInnerUp, 0.5), (.browDownLeft, 0.1),
                    (.browDownRight, 0.1), (.mouthPressLeft, 0.1), (.mouthPressRight, 0.1)]
        case .angry: [(.browDownLeft, 0.6), (.browDownRight, 0.6), (.eyeSquintLeft, 0.3), (.eyeSquintRight, 0.3),
                      (.noseSneerLeft, 0.25), (.noseSneerRight, 0.25), (.mouthPressLeft, 0.25), (.mouthPressRight, 0.25)]
        case .surprised: [(.browInnerUp, 0.6), (.browOuterUpLeft, 0.6), (.browOuterUpRight, 0.6), (.eyeWideLeft, 0.5),
                          (.eyeWideRight, 0.5), (.jawOpen, 0.08)]
        }
    }

    /// Head pitch offset in degrees at intensity 1 (sad looks down, surprised lifts the chin).
    public var pitchDegrees: Float {
        switch self {
        case .sad: 3
        case .surprised: -2
        case .angry: 1.5
        default: 0
        }
    }

    /// Parses `name` or `name:intensity` (intensity 0…1). Nil when either part is invalid.
    public static func parse(_ text: String) -> (MotionEmotion, Float)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let emotion = MotionEmotion(rawValue: String(parts[0]).lowercased()) else { return nil }
        guard parts.count == 2 else { return (emotion, 1) }
        guard let value = Float(parts[1]), value.isFinite, value >= 0, value <= 1 else { return nil }
        return (emotion, value)
    }
}

/// The settings a user or a controller chooses for the face: mood, where the eyes look, how far the head is, how much
/// it moves. One type for every way in: `parla render --emotion/--gaze/--head-distance/--motion-scale/--still`
/// (through ``MotionOptions/controls``), `PUT /controls` of `parla serve` (JSON: `emotion`, `intensity`, `gazeX`,
/// `gazeY`, `headDistance`, `motionScale`, `still`) and the live engine, which applies them to every frame it shows.
///
/// * **Gaze**: eyeLook blendshapes point the eyes at ``gaze`` (x → eyeLookOutLeft/eyeLookInRight for x > 0,
///   eyeLookInLeft/eyeLookOutRight for x < 0; y → eyeLookUp / eyeLookDown), plus saccades: seeded jumps of up to
///   0.08 every Erlang(2, 1.4 s) (at least 0.35 s apart), each reached in 30 ms. The head turns a quarter of the way
///   (yaw 6°, pitch 4° at full gaze) unless ``still``.
/// * **Head distance**: `scale = 1 / headDistance`.
/// * **Emotion**: ``MotionEmotion/offsets`` × intensity added to the blendshapes, ``MotionEmotion/pitchDegrees`` ×
///   intensity to the head pitch (unless still). The mouth shapes stay on top: a smile is added to the viseme shapes.
/// * **Motion scale / still**: scale head motion and brows when composing (``HeadMotion``); applied live
///   (``applyLive(to:)``), they scale the head's angles and translation of frames already composed.
public struct MotionControls: Sendable, Equatable, Codable {
    /// An expression on top of whatever drives the face.
    public var emotion: MotionEmotion = .neutral
    /// 0 … 1: how strongly ``emotion`` shows.
    public var intensity: Float = 1
    /// Where the eyes look, x right / y up in the image, each in [−1, 1] (about ±25° / ±20°); (0, 0) is the
    /// camera. Saccades jitter around it.
    public var gaze: SIMD2<Float> = .zero
    /// Distance of the head from the camera relative to the portrait (1 = as photographed, 2 = twice as far,
    /// half the size), 0.5 … 3.
    public var headDistance: Float = 1
    /// Scales head motion (and brows when composing), 0 … 4; 0 = none, 1 = natural.
    public var motionScale: Float = 1
    /// No head motion at all (blinks, brows and mouth still animate).
    public var still = false

    /// The defaults: neutral, looking at the camera, as photographed, natural motion.
    public init() {}

    /// Throws ``MotionError/invalidOptions(_:)`` naming the first value out of range.
    public func validate() throws {
        func check(_ v: Float, _ range: ClosedRange<Float>, _ what: String, _ spelled: String) throws {
            guard v.isFinite, range.contains(v) else { throw MotionError.invalidOptions("\(what) \(v) must be between \(spelled)") }
        }
        try check(intensity, 0...1, "emotion intensity", "0 and 1")
        guard gaze.x.isFinite, gaze.y.isFinite, abs(gaze.x) <= 1, abs(gaze.y) <= 1 else {
            throw MotionError.invalidOptions("gaze \(gaze.x),\(gaze.y) must be within −1…1 on both axes")
        }
        try check(headDistance, 0.5...3, "head distance", "0.5 and 3")
        try check(motionScale, 0...4, "motion scale", "0 and 4")
    }

    // MARK: - JSON (`PUT /controls`): gaze as gazeX / gazeY

    enum CodingKeys: String, CodingKey, CaseIterable {
        case emotion, intensity, gazeX, gazeY, headDistance, motionScale, still
    }

    /// The JSON field names.
    public static let fieldNames: [String] = CodingKeys.allCases.map(\.rawValue)

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MotionControls()
        emotion = try c.decodeIfPresent(MotionEmotion.self, forKey: .emotion) ?? d.emotion
        intensity = try c.decodeIfPresent(Float.self, forKey: .intensity) ?? d.intensity
        gaze = SIMD2(try c.decodeIfPresent(Float.self, forKey: .gazeX) ?? 0, try c.decodeIfPresent(Float.self, forKey: .gazeY) ?? 0)
        headDistance = try c.decodeIfPresent(Float.self, forKey: .headDistance) ?? d.headDistance
        motionScale = try c.decodeIfPresent(Float.self, forKey: .motionScale) ?? d.motionScale
        still = try c.decodeIfPresent(Bool.self, forKey: .still) ?? d.still
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(emotion, forKey: .emotion)
        try c.encode(intensity, forKey: .intensity)
        try c.encode(gaze.x, forKey: .gazeX)
        try c.encode(gaze.y, forKey: .gazeY)
        try c.encode(headDistance, forKey: .headDistance)
        try c.encode(motionScale, forKey: .motionScale)
        try c.encode(still, forKey: .still)
    }

    // MARK: - Applying

    /// Applies the controls to frames in time order while composing (saccades seeded by `seed`).
    public func apply(to frames: inout [MotionFrame], seed: UInt64) {
        guard let last = frames.last else { return }
        let saccades = Self.saccades(duration: last.time + 1, seed: seed)
        for n in frames.indices { apply(to: &frames[n], saccades: saccades) }
    }

    /// Applies the controls to a frame composed with the default ones (the live engine's utterances, idle, stream
    /// and outside frames), so a change shows on the next frame whatever is speaking: the head's angles and
    /// translation are scaled by ``motionScale`` (0 when ``still``), the eyes keep the frame's own saccade on top
    /// of ``gaze``, and gaze, emotion and distance act as when composing.
    public func applyLive(to frame: MotionFrame) -> MotionFrame {
        var f = frame
        let m: Float = still ? 0 : motionScale
        f.headPitch *= m
        f.headYaw *= m
        f.headRoll *= m
        f.translation *= m
        let w = f.blendshapes
        let saccade = SIMD2<Float>(w[.eyeLookOutLeft] - w[.eyeLookInLeft], w[.eyeLookUpLeft] - w[.eyeLookDownLeft])
        apply(to: &f, offset: saccade)
        return f
    }

    /// Saccade targets: (time, offset) pairs, the first at 0 with no offset.
    static func saccades(duration: Double, seed: UInt64) -> [(Double, SIMD2<Float>)] {
        var rng = MotionRandom(seed: seed, stream: 0x5ACC)
        var out: [(Double, SIMD2<Float>)] = [(0, .zero)]
        var t = rng.uniform(0.3...1.5)
        while t < duration {
            let offset = SIMD2<Float>(Float(rng.uniform(-0.08...0.08)), Float(rng.uniform(-0.05...0.05)))
            out.append((t, offset))
            t += max(0.35, rng.erlang(shape: 2, mean: 1.4))
        }
        return out
    }

    /// Applies the controls to one frame, with a saccade list from ``saccades(duration:seed:)``.
    func apply(to frame: inout MotionFrame, saccades: [(Double, SIMD2<Float>)]) {
        let t = frame.time
        // The saccade in force and the one before it, blended over 30 ms.
        var index = 0
        while index + 1 < saccades.count, saccades[index + 1].0 <= t { index += 1 }
        let current = saccades[index]
        let previous = index > 0 ? saccades[index - 1].1 : current.1
        let u = Float(min(max((t - current.0) / 0.03, 0), 1))
        apply(to: &frame, offset: previous + (current.1 - previous) * u)
    }

    /// Eyes at ``gaze`` + `offset` (a saccade), emotion, the head's turn toward the gaze, distance.
    func apply(to frame: inout MotionFrame, offset: SIMD2<Float>) {
        let gaze = simd_clamp(self.gaze + offset, SIMD2(repeating: -1), SIMD2(repeating: 1))
        var w = frame.blendshapes
        let x = gaze.x, y = gaze.y
        w[.eyeLookOutLeft] = max(x, 0)
        w[.eyeLookInRight] = max(x, 0)
        w[.eyeLookInLeft] = max(-x, 0)
        w[.eyeLookOutRight] = max(-x, 0)
        w[.eyeLookUpLeft] = max(y, 0)
        w[.eyeLookUpRight] = max(y, 0)
        w[.eyeLookDownLeft] = max(-y, 0)
        w[.eyeLookDownRight] = max(-y, 0)
        let k = min(max(intensity.isFinite ? intensity : 0, 0), 1)
        for (shape, value) in emotion.offsets { w[shape] = w[shape] + k * value }
        frame.blendshapes = w
        if !still {
            let degrees = Float.pi / 180
            frame.headYaw += 6 * degrees * self.gaze.x
            frame.headPitch += -4 * degrees * self.gaze.y + k * emotion.pitchDegrees * degrees
        }
        let distance = headDistance.isFinite ? min(max(headDistance, 0.5), 3) : 1
        frame.scale = 1 / distance
    }
}

@inline(__always) private func simd_clamp(_ x: SIMD2<Float>, _ lo: SIMD2<Float>, _ hi: SIMD2<Float>) -> SIMD2<Float> {
    x.clamped(lowerBound: lo, upperBound: hi)
}
