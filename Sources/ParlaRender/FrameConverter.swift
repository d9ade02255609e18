import ParlaMedia

/// Pixel layouts a decoded frame can be converted to.
public enum FramePixelFormat: String, Sendable, CaseIterable {
    /// 4 bytes a pixel: R, G, B, A (the decoder's own layout).
    case rgba
    /// 4 bytes a pixel, little-endian 0xXXRRGGBB: bytes B, G, R, X with X = 255 (DRM_FORMAT_XRGB8888).
    case xrgb8888
    /// Y plane (`width × height` bytes) then interleaved U, V at half resolution (`width × height / 2` bytes);
    /// BT.601 limited range (Y 16…235, Cb/Cr 16…240), chroma averaged over each 2×2 block, the same integer
    /// math as ParlaIO's `YUV420`. Needs even sides.
    case nv12

    /// Bytes of one `width × height` picture.
    public func byteCount(width: Int, height: Int) -> Int {
        self == .nv12 ? width * height * 3 / 2 : width * height * 4
    }
}

/// Quarter turns applied to the decoded frame, clockwise as seen by the viewer (portrait-mounted panels).
public enum FrameRotation: Int, Sendable, CaseIterable {
    case degrees0 = 0, degrees90 = 90, degrees180 = 180, degrees270 = 270

    /// Number of clockwise quarter turns.
    public var quarterTurns: Int { rawValue / 90 }
}

/// The output conversion (CPU reference of `Shaders/convert.comp`): rotate the decoded `sourceWidth ×
/// sourceHeight` RGBA frame, scale it to exactly `width × height` (the caller keeps the aspect ratio) with the
/// decoder's fixed-point bilinear rule, and write it in `format`.
///
/// Rotated frame R (`sourceHeight × sourceWidth` for 90°/270°): 90° R(x, y) = S(y, H−1−x), 180° R(x, y) =
/// S(W−1−x, H−1−y), 270° R(x, y) = S(W−1−y, x). Output pixel (x, y) samples R at
/// `(x + ½)·Rw/width − ½` (16 fractional bits, `origin + step·x`); unscaled output is an exact copy.
public struct FrameConverter: Sendable, Equatable {
    public let sourceWidth: Int
    public let sourceHeight: Int
    public let rotation: FrameRotation
    public let width: Int
    public let height: Int
    public let format: FramePixelFormat
    /// Sample position of output pixel (x, y) in the rotated frame: (originU + stepU·x, originV + stepV·y).
    public let originU: Int32, originV: Int32, stepU: Int32, stepV: Int32

    /// Throws a one-line ``FrameDecoderError`` for sizes outside 1…8192 or odd NV12 sides.
    public init(
        sourceWidth: Int, sourceHeight: Int, rotation: FrameRotation = .degrees0, width: Int, height: Int,
        format: FramePixelFormat
    ) throws {
        let sides = 1...CPUFrameDecoder.outputSides.upperBound
        guard sides.contains(width), sides.contains(height), sides.contains(sourceWidth), sides.contains(sourceHeight)
        else {
            throw FrameDecoderError(subject: "output", problem: "conversion \(sourceWidth)x\(sourceHeight) → \(width)x\(height): sides must be \(sides.lowerBound)...\(sides.upperBound)")
        }
        if format == .nv12, width % 2 != 0 || height % 2 != 0 {
            throw FrameDecoderError(subject: "output", problem: "NV12 needs even sides, got \(width)x\(height)")
        }
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.rotation = rotation
        self.width = width
        self.height = height
        self.format = format
        let rotatedWidth = rotation.quarterTurns % 2 == 1 ? sourceHeight : sourceWidth
        let rotatedHeight = rotation.quarterTurns % 2 == 1 ? sourceWidth : sourceHeight
        func axis(_ source: Int, _ target: Int) -> (Int32, Int32) {
            let ratio = Double(source) / Double(target)
            let unit = Double(TextureSampler.one)
            return (Int32(((0.5 * ratio - 0.5) * unit).rounded()), Int32((ratio * unit).rounded()))
        }
        (originU, stepU) = axis(rotatedWidth, width)
        (originV, stepV) = axis(rotatedHeight, height)
    }

    /// Bytes ``convert(_:into:)`` writes.
    public var byteCount: Int { format.byteCount(width: width, height: height) }

    /// Converts `image` (which must be `sourceWidth × sourceHeight`) into `out` (at least ``byteCount`` bytes).
    public func convert(_ image: RGBAImage, into out: UnsafeMutableRawBufferPointer) throws {
        guard image.width == sourceWidth, image.height == sourceHeight else {
            throw FrameDecoderError(subject: "output", problem: "conversion expects a \(sourceWidth)x\(sourceHeight) frame, got \(image.width)x\(image.height)")
        }
        guard out.count >= byteCount else {
            throw FrameDecoderError(subject: "output", problem: "conversion needs \(byteCount) bytes, the buffer holds \(out.count)")
        }
        image.pixels.withUnsafeBufferPointer { src in
            let bytes = out.bindMemory(to: UInt8.self)
            switch format {
            case .rgba, .xrgb8888:
                for y in 0..<height {
                    for x in 0..<width {
                        let c = pixel(src, x, y), o = (y * width + x) * 4
                        if format == .rgba {
                            bytes[o] = UInt8(c.x); bytes[o + 1] = UInt8(c.y); bytes[o + 2] = UInt8(c.z); bytes[o + 3] = UInt8(c.w)
                        } else {
                            bytes[o] = UInt8(c.z); bytes[o + 1] = UInt8(c.y); bytes[o + 2] = UInt8(c.x); bytes[o + 3] = 255
                        }
                    }
                }
            case .nv12:
                for y in 0..<height {
                    for x in 0..<width {
                        let c = pixel(src, x, y)
                        let luma: Int32 = (66 * c.x + 129 * c.y + 25 * c.z + 128) >> 8 + 16
                        bytes[y * width + x] = UInt8(luma)
                    }
                }
                let chroma = width * height
                for cy in stride(from: 0, to: height, by: 2) {
                    for cx in stride(from: 0, to: width, by: 2) {
                        let sum = pixel(src, cx, cy) &+ pixel(src, cx + 1, cy) &+ pixel(src, cx, cy + 1) &+ pixel(src, cx + 1, cy + 1)
                        let m = (sum &+ 2) / 4
                        let u: Int32 = (-38 * m.x - 74 * m.y + 112 * m.z + 128) >> 8 + 128
                        let v: Int32 = (112 * m.x - 94 * m.y - 18 * m.z + 128) >> 8 + 128
                        let o = chroma + (cy / 2) * width + cx
                        bytes[o] = UInt8(clamping: u)
                        bytes[o + 1] = UInt8(clamping: v)
                    }
                }
            }
        }
    }

    /// Texel (x, y) of the rotated frame.
    @inline(__always)
    private func rotatedTexel(_ src: UnsafeBufferPointer<UInt8>, _ x: Int, _ y: Int) -> SIMD4<Int32> {
        let w = sourceWidth, h = sourceHeight
        let s: (Int, Int)
        switch rotation {
        case .degrees0: s = (x, y)
        case .degrees90: s = (y, h - 1 - x)
        case .degrees180: s = (w - 1 - x, h - 1 - y)
        case .degrees270: s = (w - 1 - y, x)
        }
        let o = (s.1 * w + s.0) * 4
        return SIMD4(Int32(src[o]), Int32(src[o + 1]), Int32(src[o + 2]), Int32(src[o + 3]))
    }

    /// Output pixel (x, y) before the format conversion: the decoder's fixed-point bilinear rule on the rotated frame.
    @inline(__always)
    private func pixel(_ src: UnsafeBufferPointer<UInt8>, _ x: Int, _ y: Int) -> SIMD4<Int32> {
        let rotatedWidth = rotation.quarterTurns % 2 == 1 ? sourceHeight : sourceWidth
        let rotatedHeight = rotation.quarterTurns % 2 == 1 ? sourceWidth : sourceHeight
        let u = min(max(Int(originU) + Int(stepU) * x, 0), (rotatedWidth - 1) << 16)
        let v = min(max(Int(originV) + Int(stepV) * y, 0), (rotatedHeight - 1) << 16)
        let wx = Int32(((u & 0xffff) + 128) >> 8), wy = Int32(((v & 0xffff) + 128) >> 8)
        let x0 = u >> 16, y0 = v >> 16
        let x1 = min(x0 + 1, rotatedWidth - 1), y1 = min(y0 + 1, rotatedHeight - 1)
        let top = rotatedTexel(src, x0, y0) &* (256 - wx) &+ rotatedTexel(src, x1, y0) &* wx
        let bottom = rotatedTexel(src, x0, y1) &* (256 - wx) &+ rotatedTexel(src, x1, y1) &* wx
        return (top &* (256 - wy) &+ bottom &* wy &+ 32768) &>> 16
    }
}
