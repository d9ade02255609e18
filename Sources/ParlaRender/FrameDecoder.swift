import ParlaFace
import ParlaMedia
import ParlaMotion

/// Turns an avatar and a ``MotionFrame`` into a picture. The CPU reference and the GLES backend both
/// implement it and follow the one algorithm documented in docs/frame-decoder.md.
public protocol FrameDecoder: AnyObject {
    /// Output width and height in pixels.
    var width: Int { get }
    var height: Int { get }
    /// Draws `frame` into `output`, which must be `width × height`; reuses internal buffers (no per-frame allocation).
    func decode(_ frame: MotionFrame, into output: inout RGBAImage) throws
}
