import ParlaMedia

/// Bilinear texture lookups in fixed point: the one sampling rule of the decoder.
///
/// A sample position is in texture pixels measured from the centre of pixel (0, 0) — `texture position − 0.5`
/// — with 16 fractional bits (``fractionBits``). It is clamped to the texture (clamp-to-edge), the fraction is
/// rounded to a weight `w ∈ 0...256`, and each channel is
/// `((p00·(256−wx) + p01·wx)·(256−wy) + (p10·(256−wx) + p11·wx)·wy + 32768) >> 16`.
/// At an integer position this returns the texel exactly.
struct TextureSampler {
    static let fractionBits: Int64 = 16
    static let one: Int64 = 1 << fractionBits

    let width: Int
    let height: Int
    /// The texture widened to 16 bits a channel, with its last column and row repeated once
    /// (`(width+1) × (height+1)` texels), so the right and lower neighbours of any clamped position exist
    /// without a branch and two neighbours load as one `SIMD8<UInt16>`.
    let texels: UnsafeMutableBufferPointer<SIMD4<UInt16>>
    let stride: Int
    let maxU: Int64
    let maxV: Int64

    /// Copies `texture` into a padded buffer that the caller frees with ``deallocate()``.
    init(texture: RGBAImage) {
        width = texture.width
        height = texture.height
        stride = width + 1
        texels = .allocate(capacity: stride * (height + 1))
        maxU = Int64(width - 1) << Self.fractionBits
        maxV = Int64(height - 1) << Self.fractionBits
        texture.pixels.withUnsafeBytes { raw in
            for y in 0...height {
                let sy = min(y, height - 1)
                for x in 0...width {
                    let sx = min(x, width - 1)
                    let o = (sy * width + sx) * 4
                    texels[y * stride + x] = SIMD4(UInt16(raw[o]), UInt16(raw[o + 1]), UInt16(raw[o + 2]), UInt16(raw[o + 3]))
                }
            }
        }
    }

    func deallocate() { texels.deallocate() }

    /// The bilinear sample at fixed-point position (u, v), as RGBA bytes packed little-endian in a UInt32.
    /// Integer lanes: each texel pair loads as one `SIMD8<UInt16>`, is weighted horizontally in 16-bit lanes
    /// (sums ≤ 65280) and vertically in 32-bit lanes — the integer formula exactly (see
    /// ``TextureSampler/referenceSample(_:u:v:)``).
    @inline(__always)
    func sample(u: Int64, v: Int64) -> UInt32 {
        let uc = min(max(u, 0), maxU)
        let vc = min(max(v, 0), maxV)
        let wx = UInt16(truncatingIfNeeded: ((uc & (Self.one - 1)) &+ 128) >> 8)
        let wy = UInt32(truncatingIfNeeded: ((vc & (Self.one - 1)) &+ 128) >> 8)
        let index = Int(truncatingIfNeeded: vc >> Self.fractionBits) &* stride
            &+ Int(truncatingIfNeeded: uc >> Self.fractionBits)
        let base = UnsafeRawPointer(texels.baseAddress! + index)
        let top = base.loadUnaligned(as: SIMD8<UInt16>.self)
        let bottom = base.loadUnaligned(fromByteOffset: stride &* 8, as: SIMD8<UInt16>.self)
        let a = 256 - wx
        let weights = SIMD8<UInt16>(a, a, a, a, wx, wx, wx, wx)
        let upperPair = top &* weights, lowerPair = bottom &* weights
        let upper = SIMD4<UInt32>(truncatingIfNeeded: upperPair.lowHalf &+ upperPair.highHalf)
        let lower = SIMD4<UInt32>(truncatingIfNeeded: lowerPair.lowHalf &+ lowerPair.highHalf)
        let mixed = (upper &* (256 - wy) &+ lower &* wy &+ 32768) &>> 16
        return unsafeBitCast(SIMD4<UInt8>(truncatingIfNeeded: mixed), to: UInt32.self)
    }

    /// Unpacks RGBA bytes to four float lanes.
    @inline(__always)
    static func lanes(_ pixel: UInt32) -> SIMD4<Float> {
        SIMD4<Float>(SIMD4<Int32>(truncatingIfNeeded: unsafeBitCast(pixel, to: SIMD4<UInt8>.self)))
    }

    /// Packs four lanes in 0..<256 (truncating toward zero) back into RGBA bytes.
    @inline(__always)
    static func pack(_ lanes: SIMD4<Float>) -> UInt32 {
        // Lane by lane: the generic SIMD float → integer conversion is not vectorized and is very slow.
        UInt32(Int32(lanes[0])) | UInt32(Int32(lanes[1])) << 8 | UInt32(Int32(lanes[2])) << 16
            | UInt32(Int32(lanes[3])) << 24
    }

    /// Plain per-channel integer version of ``sample(u:v:)`` on an unpadded image; the tests compare the two.
    static func referenceSample(_ image: RGBAImage, u: Int64, v: Int64) -> UInt32 {
        let uc = min(max(u, 0), Int64(image.width - 1) << fractionBits)
        let vc = min(max(v, 0), Int64(image.height - 1) << fractionBits)
        let x0 = Int(uc >> fractionBits), y0 = Int(vc >> fractionBits)
        let x1 = min(x0 + 1, image.width - 1), y1 = min(y0 + 1, image.height - 1)
        let wx = Int((uc & (one - 1)) + 128) >> 8
        let wy = Int((vc & (one - 1)) + 128) >> 8
        var result: UInt32 = 0
        for c in 0..<4 {
            func texel(_ x: Int, _ y: Int) -> Int { Int(image.pixels[(y * image.width + x) * 4 + c]) }
            let top = texel(x0, y0) * (256 - wx) + texel(x1, y0) * wx
            let bottom = texel(x0, y1) * (256 - wx) + texel(x1, y1) * wx
            let value = (top * (256 - wy) + bottom * wy + 32768) >> 16
            result |= UInt32(value) << (8 * UInt32(c))
        }
        return result
    }
}
