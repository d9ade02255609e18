/// The fixed map between avatar texture pixels and output pixels: the texture is scaled uniformly so it
/// covers the whole output ("cover"), centred; what sticks out on the longer side is cropped.
///
/// `output = texture * scale + offset`, both in pixel units whose pixel centres sit at half-integers.
struct CoverMapping: Sendable, Equatable {
    /// Output pixels per texture pixel: `max(outputWidth / textureWidth, outputHeight / textureHeight)`.
    let scale: Double
    /// Output position of the texture origin.
    let offset: SIMD2<Double>

    init(textureWidth: Int, textureHeight: Int, outputWidth: Int, outputHeight: Int) {
        let sx = Double(outputWidth) / Double(textureWidth)
        let sy = Double(outputHeight) / Double(textureHeight)
        scale = max(sx, sy)
        offset = SIMD2(
            Double(outputWidth) / 2 - Double(textureWidth) / 2 * scale,
            Double(outputHeight) / 2 - Double(textureHeight) / 2 * scale
        )
    }

    /// Texture → output position.
    func outputPosition(ofTexture p: SIMD2<Double>) -> SIMD2<Double> { p * scale + offset }

    /// Output → texture position.
    func texturePosition(ofOutput q: SIMD2<Double>) -> SIMD2<Double> { (q - offset) / scale }
}

/// 1/256-pixel output positions: the grid every triangle vertex is snapped to before rasterization, so
/// coverage is decided by exact integer arithmetic.
enum Subpixel {
    /// Fractional bits of a snapped coordinate.
    static let bits: Int64 = 8
    /// Units per output pixel.
    static let one: Int64 = 1 << bits
    /// Snapped coordinates are clamped to ±`limit` (±16384 pixels), which keeps every edge function
    /// product inside Int64 and far outside any output frame (at most 8192 pixels a side).
    static let limit: Int64 = 1 << 22

    /// Snaps an output coordinate (pixels, as Float) to the grid; non-finite values go to the limit.
    @inline(__always)
    static func snap(_ value: Float) -> Int64 {
        let scaled = (value * Float(one)).rounded()
        if !(scaled > -Float(limit)) { return -limit }
        if !(scaled < Float(limit)) { return limit }
        return Int64(scaled)
    }
}
