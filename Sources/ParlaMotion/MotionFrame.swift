/// What the face does at one instant: the single interface between drivers (audio, text, camera, CSV)
/// and frame decoders.
///
/// Head angles are in radians in the camera frame of the portrait: `pitch > 0` tips the chin down (a nod),
/// `yaw > 0` turns the face toward the subject's left (the image's right), `roll > 0` tilts the head
/// clockwise as seen in the image. `translation` is in units of the output frame's width and height
/// (x right, y down); `scale` 1 is the portrait's own framing.
public struct MotionFrame: Sendable, Equatable {
    /// Seconds on the audio timeline (the audio clock is master).
    public var time: Double
    /// The 52 ARKit expression weights.
    public var blendshapes: BlendshapeWeights
    /// Radians; positive tips the chin down.
    public var headPitch: Float
    /// Radians; positive turns toward the subject's left.
    public var headYaw: Float
    /// Radians; positive tilts clockwise in the image.
    public var headRoll: Float
    /// Offset in output frame widths and heights (x right, y down).
    public var translation: SIMD2<Float>
    /// 1 is the portrait's own framing.
    public var scale: Float

    /// The face at rest at `time`: no expression, no head motion.
    public init(time: Double) {
        self.time = time
        self.blendshapes = BlendshapeWeights()
        self.headPitch = 0
        self.headYaw = 0
        self.headRoll = 0
        self.translation = .zero
        self.scale = 1
    }
}
