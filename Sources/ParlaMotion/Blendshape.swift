/// The 52 facial blendshapes as ARKit names and orders them.
///
/// "Left" and "Right" are the subject's own sides (the subject's left appears on the image's right),
/// matching ARKit and MediaPipe's `LEFT_EYE` landmark sets.
public enum Blendshape: Int, CaseIterable, Sendable, CustomStringConvertible {
    case eyeBlinkLeft, eyeLookDownLeft, eyeLookInLeft, eyeLookOutLeft, eyeLookUpLeft, eyeSquintLeft, eyeWideLeft
    case eyeBlinkRight, eyeLookDownRight, eyeLookInRight, eyeLookOutRight, eyeLookUpRight, eyeSquintRight, eyeWideRight
    case jawForward, jawLeft, jawRight, jawOpen
    case mouthClose, mouthFunnel, mouthPucker, mouthLeft, mouthRight
    case mouthSmileLeft, mouthSmileRight, mouthFrownLeft, mouthFrownRight
    case mouthDimpleLeft, mouthDimpleRight, mouthStretchLeft, mouthStretchRight
    case mouthRollLower, mouthRollUpper, mouthShrugLower, mouthShrugUpper
    case mouthPressLeft, mouthPressRight, mouthLowerDownLeft, mouthLowerDownRight, mouthUpperUpLeft, mouthUpperUpRight
    case browDownLeft, browDownRight, browInnerUp, browOuterUpLeft, browOuterUpRight
    case cheekPuff, cheekSquintLeft, cheekSquintRight, noseSneerLeft, noseSneerRight
    case tongueOut

    /// The name exactly as ARKit spells it (`"jawOpen"`).
    public var name: String { Blendshape.names[rawValue] }
    /// The ARKit name.
    public var description: String { name }

    /// The ARKit names in case order. (Spelled out: deriving them with `String(describing:)` would call
    /// `description` and recurse forever.)
    private static let names: [String] = [
        "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft",
        "eyeWideLeft",
        "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight",
        "eyeWideRight",
        "jawForward", "jawLeft", "jawRight", "jawOpen",
        "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
        "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
        "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
        "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
        "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
        "mouthUpperUpRight",
        "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
        "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight",
        "tongueOut",
    ]

    /// Looks a blendshape up by its ARKit name.
    public init?(name: String) {
        guard let shape = Blendshape.byName[name] else { return nil }
        self = shape
    }

    private static let byName: [String: Blendshape] =
        Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })
}

/// One weight in [0, 1] per ``Blendshape``, stored densely in ARKit order.
public struct BlendshapeWeights: Sendable, Equatable {
    /// The 52 weights in ``Blendshape`` raw-value order.
    public private(set) var values: [Float]

    /// All weights zero: the face at rest.
    public init() { values = [Float](repeating: 0, count: Blendshape.allCases.count) }

    /// The weight of `shape`; setting clamps to [0, 1].
    public subscript(shape: Blendshape) -> Float {
        get { values[shape.rawValue] }
        set { values[shape.rawValue] = min(max(newValue, 0), 1) }
    }
}
