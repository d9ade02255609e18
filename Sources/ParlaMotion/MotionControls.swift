import Foundation

/// An expression offset (``MotionOptions/emotion``).
public enum MotionEmotion: String, Sendable, CaseIterable {
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

/// The control layer applied after the drivers: gaze with saccades, head distance, emotion. Deterministic in
/// (frame times, options).
///
/// * **Gaze**: eyeLook blendshapes point the eyes at ``MotionOptions/gaze`` (x → eyeLookOutLeft/eyeLookInRight
///   for x > 0, eyeLookInLeft/eyeLookOutRight for x < 0; y → eyeLookUp / eyeLookDown), plus saccades: seeded
///   jumps of up to 0.08 every Erlang(2, 1.4 s) (at least 0.35 s apart), each reached in 30 ms. The head turns
///   a quarter of the way (yaw 6°, pitch 4° at full gaze) unless ``MotionOptions/still``.
/// * **Head distance**: `scale = 1 / headDistance`.
/// * **Emotion**: ``MotionEmotion/offsets`` × intensity added to the blendshapes, ``MotionEmotion/pitchDegrees`` × intensity
///   to the head pitch (unless still). The mouth shapes stay on top: a smile is added to the viseme shapes.
public struct MotionControls: Sendable {
    /// The options whose controls are applied.
    public let options: MotionOptions

    /// Controls for `options`.
    public init(options: MotionOptions) { self.options = options }

    /// Applies the controls to frames in time order.
    public func apply(to frames: inout [MotionFrame]) {
        guard let last = frames.last else { return }
        let saccades = Self.saccades(duration: last.time + 1, seed: options.seed)
        for n in frames.indices { apply(to: &frames[n], saccades: saccades) }
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
        let offset = previous + (current.1 - previous) * u
        let gaze = simd_clamp(options.gaze + offset, SIMD2(repeating: -1), SIMD2(repeating: 1))
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
        let k = min(max(options.emotionIntensity.isFinite ? options.emotionIntensity : 0, 0), 1)
        for (shape, value) in options.emotion.offsets { w[shape] = w[shape] + k * value }
        frame.blendshapes = w
        if !options.still {
            let degrees = Float.pi / 180
            frame.headYaw += 6 * degrees * options.gaze.x
            frame.headPitch += -4 * degrees * options.gaze.y + k * options.emotion.pitchDegrees * degrees
        }
        let distance = options.headDistance.isFinite ? min(max(options.headDistance, 0.5), 3) : 1
        frame.scale = 1 / distance
    }
}

@inline(__always) private func simd_clamp(_ x: SIMD2<Float>, _ lo: SIMD2<Float>, _ hi: SIMD2<Float>) -> SIMD2<Float> {
    x.clamped(lowerBound: lo, upperBound: hi)
}
