import ParlaMedia

/// The background composite (docs/frame-decoder.md, "Background"): with `I_w` the portrait and `B_w` the
/// background plate sampled at a pixel's warped position, `α_w` the person mask there (the plate's alpha) and
/// `B_id` the plate at the pixel's identity (cover) position,
/// `out = I_w + (B_id − B_w) · (255 − α_w) / 255` per colour channel (integer, rounded half away from zero,
/// clamped to 0…255); alpha is `I_w`'s. Since the portrait is `α F + (1 − α) B`, this is `α_w F_w + (1 − α_w) B_id`:
/// the person moves, the background stays where it was.
struct BackgroundBlend {
    let plate: TextureSampler
    let identityU: FixedPlane
    let identityV: FixedPlane
    /// Per texel (x, y): what the 2×2 block a bilinear sample at (x + fraction, y + fraction) reads holds
    /// (clamp-to-edge neighbours): ``person`` (mask 255 in all four), ``background`` (mask 0, plate RGB = texture
    /// RGB, texture alpha 255 in all four), else ``mixed``. A sample in a person block is `I_w`, one in a
    /// background block `B_id` with alpha 255, exactly what the formula gives; only mixed blocks need it.
    let blocks: UnsafeMutableBufferPointer<UInt8>
    static let mixed: UInt8 = 0, background: UInt8 = 1, person: UInt8 = 2

    /// Prepares the plate's sampler and block classes; free with ``deallocate()``.
    init(texture: RGBAImage, plate image: RGBAImage, identityU: FixedPlane, identityV: FixedPlane) {
        plate = TextureSampler(texture: image)
        self.identityU = identityU
        self.identityV = identityV
        let w = image.width, h = image.height
        var texel = [UInt8](repeating: Self.mixed, count: w * h)
        for i in 0..<(w * h) {
            let o = 4 * i, alpha = image.pixels[o + 3]
            if alpha == 255 {
                texel[i] = Self.person
            } else if alpha == 0 && texture.pixels[o + 3] == 255 {
                let same: Bool = image.pixels[o] == texture.pixels[o] && image.pixels[o + 1] == texture.pixels[o + 1]
                    && image.pixels[o + 2] == texture.pixels[o + 2]
                if same { texel[i] = Self.background }
            }
        }
        blocks = .allocate(capacity: w * h)
        for y in 0..<h {
            for x in 0..<w {
                let x1 = min(x + 1, w - 1), y1 = min(y + 1, h - 1)
                let four = [texel[y * w + x], texel[y * w + x1], texel[y1 * w + x], texel[y1 * w + x1]]
                blocks[y * w + x] = four.allSatisfy { $0 == four[0] } ? four[0] : Self.mixed
            }
        }
    }

    func deallocate() { plate.deallocate(); blocks.deallocate() }

    /// The composited colour of output pixel (x, y) whose warped sample position is (u, v); `portrait` samples
    /// `I_w`. Takes the shortcut of the sample's block class, and skips the identity sample where the mask is 255.
    @inline(__always)
    func composite(_ portrait: TextureSampler, u: Int64, v: Int64, x: Int, y: Int) -> UInt32 {
        let uc = min(max(u, 0), plate.maxU), vc = min(max(v, 0), plate.maxV)
        let block = blocks[Int(truncatingIfNeeded: vc >> TextureSampler.fractionBits) &* plate.width
            &+ Int(truncatingIfNeeded: uc >> TextureSampler.fractionBits)]
        if block == Self.person { return portrait.sample(u: u, v: v) }
        if block == Self.background {
            return plate.sample(u: identityU.value(dx: x, dy: 0), v: identityV.value(dx: 0, dy: y)) | 0xFF00_0000
        }
        return composite(portrait.sample(u: u, v: v), u: u, v: v, x: x, y: y)
    }

    /// The composited colour of output pixel (x, y) whose warped sample position is (u, v) and whose portrait
    /// sample is `portrait`: the formula, skipping the identity sample where the mask is 255.
    @inline(__always)
    func composite(_ portrait: UInt32, u: Int64, v: Int64, x: Int, y: Int) -> UInt32 {
        let warped = plate.sample(u: u, v: v)
        if warped >> 24 == 255 { return portrait }
        let identity = plate.sample(u: identityU.value(dx: x, dy: 0), v: identityV.value(dx: 0, dy: y))
        return Self.mix(portrait, warped: warped, identity: identity)
    }

    /// `portrait + (identity − warped) · (255 − warped.alpha) / 255` on the colour channels of RGBA words
    /// (little-endian), rounded half away from zero and clamped; alpha from `portrait`. Plain integer code: the
    /// one formula both backends use (shade.comp has the same lines).
    @inline(__always)
    static func mix(_ portrait: UInt32, warped: UInt32, identity: UInt32) -> UInt32 {
        let keep = 255 - Int32(warped >> 24)
        @inline(__always) func channel(_ shift: UInt32) -> UInt32 {
            let i = Int32((portrait >> shift) & 0xFF)
            let t = (Int32((identity >> shift) & 0xFF) - Int32((warped >> shift) & 0xFF)) * keep
            let r = t >= 0 ? (t + 127) / 255 : -((127 - t) / 255)
            return UInt32(min(max(i + r, 0), 255)) << shift
        }
        return (portrait & 0xFF00_0000) | channel(0) | channel(8) | channel(16)
    }
}
