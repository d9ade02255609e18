/// Planes of one mouth-strip triangle for the interior: distance below the upper and above the lower inner
/// lip (output pixels), position across the mouth and the interior's weight.
struct MouthPlanes {
    let minX: Int
    let minY: Int
    let gapBelowUpper: AffinePlane
    let gapAboveLower: AffinePlane
    let across: AffinePlane
    let weight: AffinePlane

    @inline(__always)
    static func value(_ p: AffinePlane, _ dx: Double, _ dy: Double) -> Double {
        p.origin + p.stepX * dx + p.stepY * dy
    }
}

/// Fills the pixels of one mouth-strip triangle: the portrait's own inner-mouth pixels mapped through the
/// lip motion (exactly the portrait at rest; background composite as for face triangles), blended towards the drawn interior by
/// `weight × clamp(min(dUp, dLo), 0, 1)` — the interior weight grows with the opening beyond its rest size,
/// and the second factor is the 1-pixel anti-aliased edge along the lips.
struct MouthSpanShader {
    let target: RasterTarget
    let sampler: TextureSampler
    let background: BackgroundBlend?
    let planes: WarpPlanes
    let mouth: MouthPlanes
    let mouthWidth: Float
    let drawsInterior: Bool

    @inline(__always)
    func shade(y: Int, x0: Int, x1: Int) {
        let dx = x0 - planes.minX, dy = y - planes.minY
        var u = planes.u.value(dx: dx, dy: dy)
        var v = planes.v.value(dx: dx, dy: dy)
        var z = planes.z.value(dx: dx, dy: dy)
        let row = y * target.width
        for x in x0...x1 {
            let i = row + x
            if target.claim(i, depth: Int32(truncatingIfNeeded: z)) {
                var portrait = sampler.sample(u: u, v: v)
                if planes.composite != .portrait, let background {  // .plate is the formula's result too
                    portrait = background.composite(portrait, u: u, v: v, x: x, y: y)
                }
                target.color[i] = drawsInterior ? blendInterior(portrait, x: x, y: y) : portrait
            }
            u &+= planes.u.stepX
            v &+= planes.v.stepX
            z &+= planes.z.stepX
        }
    }

    /// The portrait pixel blended with the drawn interior at pixel (x, y); unchanged where the weight is 0.
    @inline(__always)
    func blendInterior(_ portrait: UInt32, x: Int, y: Int) -> UInt32 {
        let dx = Double(x - mouth.minX), dy = Double(y - mouth.minY)
        let opening = min(max(MouthPlanes.value(mouth.weight, dx, dy), 0), 1)
        if !(opening > 0) { return portrait }
        let up = MouthPlanes.value(mouth.gapBelowUpper, dx, dy)
        let lo = MouthPlanes.value(mouth.gapAboveLower, dx, dy)
        let alpha = Float(opening * min(max(min(up, lo), 0), 1))
        if !(alpha > 0) { return portrait }
        let s = Float(MouthPlanes.value(mouth.across, dx, dy))
        let inside = MouthShading.color(dUp: Float(up), dLo: Float(lo), s: s, width: mouthWidth)
        let base = TextureSampler.lanes(portrait)
        let drawn = SIMD4(inside.x, inside.y, inside.z, 255)
        let mixed = base + (drawn - base) * alpha + 0.5
        return TextureSampler.pack(mixed.clamped(lowerBound: SIMD4(repeating: 0), upperBound: SIMD4(repeating: 255)))
    }
}
