/// The per-pixel buffers one frame is drawn into: colour (the output image), a coverage count and a depth.
///
/// A pixel whose coverage is 0 has not been drawn yet this frame (depth is then stale and ignored). A later
/// triangle replaces a drawn pixel only when it is strictly nearer (smaller depth), which resolves folds
/// (e.g. the nose passing over a cheek when the head turns) the way a depth test does.
struct RasterTarget {
    let width: Int
    let height: Int
    /// RGBA bytes packed little-endian, `width × height`.
    let color: UnsafeMutablePointer<UInt32>
    /// How many triangles covered each pixel this frame (saturating at 255).
    let coverage: UnsafeMutablePointer<UInt8>
    /// Depth of the pixel's current colour, texture pixels with 8 fractional bits.
    let depth: UnsafeMutablePointer<Int32>

    /// Fractional bits of stored depth.
    static let depthFractionBits: Int64 = 8

    /// Records one more cover of pixel `i` and reports whether a fragment at depth `z` should replace it.
    @inline(__always)
    func claim(_ i: Int, depth z: Int32) -> Bool {
        let count = coverage[i]
        coverage[i] = count &+ (count == 255 ? 0 : 1)
        if count == 0 || z < depth[i] {
            depth[i] = z
            return true
        }
        return false
    }
}

/// Per-triangle planes for the warp: the rest-pose sample position (u, v, in the sampler's fixed point)
/// and the depth, over the triangle's pixel box.
struct WarpPlanes {
    let minX: Int
    let minY: Int
    let u: FixedPlane
    let v: FixedPlane
    let z: FixedPlane
    /// How the triangle's pixels composite with the background plate (``FrameGeometry``; docs/frame-decoder.md,
    /// "Background").
    var composite = Composite.portrait

    enum Composite {
        /// The warped portrait `I_w` (no plate, or the formula provably leaves `I_w`).
        case portrait
        /// The formula (``BackgroundBlend``).
        case blend
        /// The plate at the identity position with alpha 255 (what the formula gives over pure background).
        case plate
    }

    /// Planes through the three vertices' sample positions (texture pixels − ½) and depths.
    init(_ t: TriangleRaster, u: SIMD3<Double>, v: SIMD3<Double>, z: SIMD3<Double>) {
        minX = t.minX
        minY = t.minY
        self.u = AffinePlane(t, u.x, u.y, u.z).fixed(fractionBits: TextureSampler.fractionBits)
        self.v = AffinePlane(t, v.x, v.y, v.z).fixed(fractionBits: TextureSampler.fractionBits)
        self.z = AffinePlane(t, z.x, z.y, z.z).fixed(fractionBits: RasterTarget.depthFractionBits)
    }
}

/// Fills the pixels of one face triangle's span: each takes the texture colour at its rest position, blended
/// with the background plate as the triangle's ``WarpPlanes/composite`` says.
struct WarpSpanShader {
    let target: RasterTarget
    let sampler: TextureSampler
    let planes: WarpPlanes
    let background: BackgroundBlend?

    @inline(__always)
    func shade(y: Int, x0: Int, x1: Int) {
        if planes.composite != .portrait, let background {
            if planes.composite == .blend {
                shadeBlending(y: y, x0: x0, x1: x1, background)
            } else {
                shadePlate(y: y, x0: x0, x1: x1, background)
            }
            return
        }
        // Locals, so the compiler need not reload them after every store.
        let color = target.color, coverage = target.coverage, depth = target.depth
        let sampler = self.sampler
        let du = planes.u.stepX, dv = planes.v.stepX, dz = planes.z.stepX
        let dx = x0 &- planes.minX, dy = y &- planes.minY
        var u = planes.u.value(dx: dx, dy: dy)
        var v = planes.v.value(dx: dx, dy: dy)
        var z = planes.z.value(dx: dx, dy: dy)
        var i = y &* target.width &+ x0
        let end = y &* target.width &+ x1
        while i <= end {
            let count = coverage[i]
            coverage[i] = count &+ (count == 255 ? 0 : 1)
            let z32 = Int32(truncatingIfNeeded: z)
            if count == 0 || z32 < depth[i] {
                depth[i] = z32
                color[i] = sampler.sample(u: u, v: v)
            }
            u &+= du
            v &+= dv
            z &+= dz
            i &+= 1
        }
    }
}

extension WarpSpanShader {
    /// ``shade(y:x0:x1:)`` with the background composite on every drawn pixel.
    func shadeBlending(y: Int, x0: Int, x1: Int, _ background: BackgroundBlend) {
        let dx = x0 - planes.minX, dy = y - planes.minY
        var u = planes.u.value(dx: dx, dy: dy)
        var v = planes.v.value(dx: dx, dy: dy)
        var z = planes.z.value(dx: dx, dy: dy)
        let row = y * target.width
        for x in x0...x1 {
            let i = row + x
            if target.claim(i, depth: Int32(truncatingIfNeeded: z)) {
                target.color[i] = background.composite(sampler, u: u, v: v, x: x, y: y)
            }
            u &+= planes.u.stepX
            v &+= planes.v.stepX
            z &+= planes.z.stepX
        }
    }
}

extension WarpSpanShader {
    /// ``shade(y:x0:x1:)`` for a triangle over pure background: each drawn pixel is the plate at its identity
    /// position, alpha 255.
    func shadePlate(y: Int, x0: Int, x1: Int, _ background: BackgroundBlend) {
        let color = target.color, coverage = target.coverage, depth = target.depth
        let plate = background.plate
        let du = background.identityU.stepX
        var u = background.identityU.value(dx: x0, dy: 0)
        let v = background.identityV.value(dx: 0, dy: y)
        let dz = planes.z.stepX
        var z = planes.z.value(dx: x0 &- planes.minX, dy: y &- planes.minY)
        var i = y &* target.width &+ x0
        let end = y &* target.width &+ x1
        while i <= end {
            let count = coverage[i]
            coverage[i] = count &+ (count == 255 ? 0 : 1)
            let z32 = Int32(truncatingIfNeeded: z)
            if count == 0 || z32 < depth[i] {
                depth[i] = z32
                color[i] = plate.sample(u: u, v: v) | 0xFF00_0000
            }
            u &+= du
            z &+= dz
            i &+= 1
        }
    }
}
