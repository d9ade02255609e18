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
    public var blendshapes: BlendshapeWeights
    public var headPitch: Float
    public var headYaw: Float
    public var headRoll: Float
    public var translation: SIMD2<Float>
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
