/// An 8-bit RGBA image, rows top to bottom, tightly packed (`width * 4` bytes per row), straight alpha.
///
/// This is the one picture type shared by every layer: decoders produce it, the face analysis reads it,
/// the avatar stores its texture in it, the frame decoder writes it and the sinks encode it.
public struct RGBAImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `width * height * 4` bytes: R, G, B, A per pixel.
    public var pixels: [UInt8]

    /// Creates an image filled with one colour (opaque black by default).
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 255)) {
        precondition(width >= 0 && height >= 0, "negative image size")
        self.width = width
        self.height = height
        var p = [UInt8](repeating: 0, count: width * height * 4)
        if width * height > 0 {
            for i in stride(from: 0, to: p.count, by: 4) {
                p[i] = fill.0; p[i + 1] = fill.1; p[i + 2] = fill.2; p[i + 3] = fill.3
            }
        }
        self.pixels = p
    }

    /// Wraps existing RGBA bytes; `pixels.count` must be `width * height * 4`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 4, "RGBA buffer size does not match \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
