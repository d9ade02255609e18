import ParlaMedia

/// The avatar's background plate: the portrait with the person removed, so the decoder can show what lies behind
/// the head when the head moves (docs/frame-decoder.md, "Background").
///
/// Pixels outside the person region (mask ≥ ``personThreshold``, grown by ``dilation`` px so the soft fringe counts
/// as person) keep the portrait's colour exactly; pixels inside are filled from the surrounding background by a
/// push-pull pyramid (every filled colour is a weighted mean of background pixels: smooth, and never a person
/// colour). The alpha channel carries the person mask (0 = background, 255 = person), set to 0 outside the grown
/// region: there the plate is the portrait and the pixel counts as pure background.
public enum BackgroundPlate {
    /// Mask value from which a pixel belongs to the person region that gets inpainted (≈ probability 0.1).
    public static let personThreshold: UInt8 = 26
    /// Pixels the person region grows by (Chebyshev distance) before inpainting.
    public static let dilation = 3

    /// The plate for `texture` and its person `mask` (same size): RGB = background, A = mask (0 outside the
    /// grown person region).
    public static func make(texture: RGBAImage, mask: PersonMask) -> RGBAImage {
        precondition(mask.width == texture.width && mask.height == texture.height, "background plate: mask size")
        let w = texture.width, h = texture.height
        let region = personRegion(mask, dilation: dilation)
        var known = [Float](repeating: 0, count: w * h)
        var colour = [SIMD3<Float>](repeating: .zero, count: w * h)
        for i in 0..<(w * h) where !region[i] {
            known[i] = 1
            colour[i] = SIMD3(Float(texture.pixels[4 * i]), Float(texture.pixels[4 * i + 1]), Float(texture.pixels[4 * i + 2]))
        }
        let filled = pushPull(colour: colour, weight: known, width: w, height: h)
        var pixels = texture.pixels
        for i in 0..<(w * h) {
            if region[i] {
                let c = filled[i]
                pixels[4 * i] = UInt8(min(max(c.x.rounded(), 0), 255))
                pixels[4 * i + 1] = UInt8(min(max(c.y.rounded(), 0), 255))
                pixels[4 * i + 2] = UInt8(min(max(c.z.rounded(), 0), 255))
            }
            pixels[4 * i + 3] = region[i] ? mask.values[i] : 0
        }
        return RGBAImage(width: w, height: h, pixels: pixels)
    }

    /// Pixels at or above ``personThreshold``, grown by `dilation` px (a square window, done as two 1-D passes).
    static func personRegion(_ mask: PersonMask, dilation: Int) -> [Bool] {
        let w = mask.width, h = mask.height
        let seed = mask.values.map { $0 >= personThreshold }
        var rows = [Bool](repeating: false, count: w * h)
        for y in 0..<h {
            for x in 0..<w where seed[y * w + x] {
                for xx in max(0, x - dilation)...min(w - 1, x + dilation) { rows[y * w + xx] = true }
            }
        }
        var grown = [Bool](repeating: false, count: w * h)
        for y in 0..<h {
            for x in 0..<w where rows[y * w + x] {
                for yy in max(0, y - dilation)...min(h - 1, y + dilation) { grown[yy * w + x] = true }
            }
        }
        return grown
    }

    /// Push-pull fill: `colour` counts where `weight` is 1 and is unknown where it is 0. Push: halve the picture
    /// repeatedly, summing weight-premultiplied colours and weights over 2×2 blocks (weights capped at 1). Pull:
    /// from the coarsest level back up, each pixel keeps its own premultiplied colour and takes the rest,
    /// `(1 − weight)`, from the coarser level (bilinear, pixel centres aligned). With no known pixel at all the
    /// result is black.
    static func pushPull(colour: [SIMD3<Float>], weight: [Float], width: Int, height: Int) -> [SIMD3<Float>] {
        struct Level { var w: Int; var h: Int; var c: [SIMD3<Float>]; var a: [Float] }
        var levels = [Level(w: width, h: height, c: zip(colour, weight).map { $0 * $1 }, a: weight)]
        while levels.last!.w > 1 || levels.last!.h > 1 {
            let fine = levels.last!
            let w = (fine.w + 1) / 2, h = (fine.h + 1) / 2
            var c = [SIMD3<Float>](repeating: .zero, count: w * h), a = [Float](repeating: 0, count: w * h)
            for y in 0..<h {
                for x in 0..<w {
                    var sc = SIMD3<Float>.zero, sa: Float = 0
                    for yy in (2 * y)...min(2 * y + 1, fine.h - 1) {
                        for xx in (2 * x)...min(2 * x + 1, fine.w - 1) {
                            sc += fine.c[yy * fine.w + xx]
                            sa += fine.a[yy * fine.w + xx]
                        }
                    }
                    // Normalize to a mean colour with weight min(sum, 1), kept premultiplied.
                    if sa > 0 {
                        let capped = min(sa, 1)
                        c[y * w + x] = sc / sa * capped
                        a[y * w + x] = capped
                    }
                }
            }
            levels.append(Level(w: w, h: h, c: c, a: a))
        }
        // Pull: the coarsest level's colour (normalized), then refine level by level.
        var coarse = levels.last!
        coarse.c = zip(coarse.c, coarse.a).map { $1 > 0 ? $0 / $1 : .zero }
        for k in stride(from: levels.count - 2, through: 0, by: -1) {
            let fine = levels[k]
            var out = [SIMD3<Float>](repeating: .zero, count: fine.w * fine.h)
            for y in 0..<fine.h {
                let sy = min(max((Float(y) + 0.5) / 2 - 0.5, 0), Float(coarse.h - 1))
                let y0 = Int(sy), y1 = min(y0 + 1, coarse.h - 1), fy = sy - Float(y0)
                for x in 0..<fine.w {
                    let sx = min(max((Float(x) + 0.5) / 2 - 0.5, 0), Float(coarse.w - 1))
                    let x0 = Int(sx), x1 = min(x0 + 1, coarse.w - 1), fx = sx - Float(x0)
                    let c00: SIMD3<Float> = coarse.c[y0 * coarse.w + x0], c01: SIMD3<Float> = coarse.c[y0 * coarse.w + x1]
                    let c10: SIMD3<Float> = coarse.c[y1 * coarse.w + x0], c11: SIMD3<Float> = coarse.c[y1 * coarse.w + x1]
                    let top: SIMD3<Float> = c00 + (c01 - c00) * fx
                    let bottom: SIMD3<Float> = c10 + (c11 - c10) * fx
                    let up: SIMD3<Float> = top + (bottom - top) * fy
                    let i = y * fine.w + x
                    out[i] = fine.c[i] + up * (1 - fine.a[i])
                }
            }
            coarse = Level(w: fine.w, h: fine.h, c: out, a: [Float](repeating: 1, count: fine.w * fine.h))
        }
        return coarse.c
    }
}
