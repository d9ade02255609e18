/// One triangle ready for rasterization: integer edge functions on the 1/256-pixel grid, the top-left
/// fill rule, and a pixel bounding box clipped to the output.
///
/// A pixel (x, y) is covered when its centre `((x + ½)·256, (y + ½)·256)` satisfies `E_i ≥ bias_i` for all three
/// edges, where `E_i = a_i·px + b_i·py + c_i` is exact in Int64 and positive inside. `bias_i` is 0 for a
/// left edge (`a > 0`) or a top edge (`a == 0, b > 0`, y grows downwards) and 1 otherwise, so a centre on an
/// edge shared by two triangles belongs to exactly one of them.
///
/// This file holds the setup and the plain reference rasterizer (a per-pixel test over the bounding box);
/// `TriangleWarp+Scanline.swift` holds the fast span rasterizer that must cover exactly the same pixels.
struct TriangleRaster {
    /// Vertices (1/256 pixel), in positive (`area2 > 0`) order.
    let p0: SIMD2<Int64>, p1: SIMD2<Int64>, p2: SIMD2<Int64>
    /// Twice the signed area, in (1/256 pixel)², always positive.
    let area2: Int64
    /// Edge i is opposite vertex i: E0 runs p1→p2, E1 runs p2→p0, E2 runs p0→p1.
    let a: SIMD3<Int64>
    let b: SIMD3<Int64>
    let c: SIMD3<Int64>
    let bias: SIMD3<Int64>
    /// Pixel bounding box clipped to the output, inclusive; `minX > maxX` or `minY > maxY` when empty.
    let minX: Int, maxX: Int, minY: Int, maxY: Int

    /// Sets up the triangle p0, p1, p2 (which must already be in positive order, `area2 > 0`) for an
    /// output of `width × height` pixels. Returns nil for zero or negative area.
    init?(_ p0: SIMD2<Int64>, _ p1: SIMD2<Int64>, _ p2: SIMD2<Int64>, width: Int, height: Int) {
        let area2 = Self.doubleSignedArea(p0, p1, p2)
        guard area2 > 0 else { return nil }
        self.p0 = p0; self.p1 = p1; self.p2 = p2
        self.area2 = area2
        func edge(_ from: SIMD2<Int64>, _ to: SIMD2<Int64>) -> (Int64, Int64, Int64) {
            // E(p) = (to.x − from.x)(p.y − from.y) − (to.y − from.y)(p.x − from.x)
            let ea = from.y - to.y
            let eb = to.x - from.x
            let ec = -(ea * from.x + eb * from.y)
            return (ea, eb, ec)
        }
        let e0 = edge(p1, p2), e1 = edge(p2, p0), e2 = edge(p0, p1)
        a = SIMD3(e0.0, e1.0, e2.0)
        b = SIMD3(e0.1, e1.1, e2.1)
        c = SIMD3(e0.2, e1.2, e2.2)
        func edgeBias(_ ea: Int64, _ eb: Int64) -> Int64 { (ea > 0 || (ea == 0 && eb > 0)) ? 0 : 1 }
        bias = SIMD3(edgeBias(e0.0, e0.1), edgeBias(e1.0, e1.1), edgeBias(e2.0, e2.1))

        // Pixel centres inside [lo, hi] (1/256 pixel): x with lo ≤ 256x + 128 ≤ hi.
        let half = Subpixel.one / 2
        func firstPixel(_ lo: Int64) -> Int64 { Self.ceilDiv(lo - half, Subpixel.one) }
        func lastPixel(_ hi: Int64) -> Int64 { Self.floorDiv(hi - half, Subpixel.one) }
        minX = Int(max(firstPixel(min(p0.x, p1.x, p2.x)), 0))
        maxX = Int(min(lastPixel(max(p0.x, p1.x, p2.x)), Int64(width - 1)))
        minY = Int(max(firstPixel(min(p0.y, p1.y, p2.y)), 0))
        maxY = Int(min(lastPixel(max(p0.y, p1.y, p2.y)), Int64(height - 1)))
    }

    var isEmpty: Bool { minX > maxX || minY > maxY }

    /// Twice the signed area of p0, p1, p2; positive when p0→p1→p2 turns clockwise on screen (y down).
    static func doubleSignedArea(_ p0: SIMD2<Int64>, _ p1: SIMD2<Int64>, _ p2: SIMD2<Int64>) -> Int64 {
        (p1.x - p0.x) * (p2.y - p0.y) - (p1.y - p0.y) * (p2.x - p0.x)
    }

    /// Centre of pixel index `i` on the 1/256 grid.
    @inline(__always)
    static func centre(_ i: Int) -> Int64 { Int64(i) * Subpixel.one + Subpixel.one / 2 }

    /// The three edge functions at the centre of pixel (x, y).
    @inline(__always)
    func edgeValues(x: Int, y: Int) -> SIMD3<Int64> {
        a &* Self.centre(x) &+ b &* Self.centre(y) &+ c
    }

    /// Whether the centre of pixel (x, y) is covered (fill rule included).
    func covers(x: Int, y: Int) -> Bool {
        let e = edgeValues(x: x, y: y) &- bias
        return e.x >= 0 && e.y >= 0 && e.z >= 0
    }

    /// Reference rasterizer: tests every pixel of the bounding box and reports each covered pixel as a
    /// span of one, row by row, left to right.
    func forEachSpanReference(_ body: (_ y: Int, _ x0: Int, _ x1: Int) -> Void) {
        if isEmpty { return }
        for y in minY...maxY {
            for x in minX...maxX where covers(x: x, y: y) {
                body(y, x, x)
            }
        }
    }

    /// ⌊n / d⌋ for d > 0.
    @inline(__always)
    static func floorDiv(_ n: Int64, _ d: Int64) -> Int64 {
        let q = n / d
        return (n % d != 0 && n < 0) ? q - 1 : q
    }

    /// ⌈n / d⌉ for d > 0.
    @inline(__always)
    static func ceilDiv(_ n: Int64, _ d: Int64) -> Int64 { -floorDiv(-n, d) }
}

/// An attribute interpolated linearly over a triangle (barycentric interpolation of its three vertex
/// values), stored as its value at the centre of the bounding box's first pixel and its steps per pixel.
struct AffinePlane {
    var origin: Double
    var stepX: Double
    var stepY: Double

    /// The plane through values v0, v1, v2 at the triangle's vertices; steps are clamped to ±2^24 per pixel
    /// so a sliver cannot produce absurd numbers.
    init(_ t: TriangleRaster, _ v0: Double, _ v1: Double, _ v2: Double) {
        let dx1 = Double(t.p1.x - t.p0.x), dy1 = Double(t.p1.y - t.p0.y)
        let dx2 = Double(t.p2.x - t.p0.x), dy2 = Double(t.p2.y - t.p0.y)
        let area = Double(t.area2)
        let d1 = v1 - v0, d2 = v2 - v0
        let perUnitX = (d1 * dy2 - d2 * dy1) / area
        let perUnitY = (d2 * dx1 - d1 * dx2) / area
        let limit = Double(1 << 24)
        stepX = min(max(perUnitX * Double(Subpixel.one), -limit), limit)
        stepY = min(max(perUnitY * Double(Subpixel.one), -limit), limit)
        let ox = Double(TriangleRaster.centre(t.minX) - t.p0.x) / Double(Subpixel.one)
        let oy = Double(TriangleRaster.centre(t.minY) - t.p0.y) / Double(Subpixel.one)
        origin = v0 + stepX * ox + stepY * oy
    }

    /// The plane in fixed point with `fractionBits` fractional bits (values clamped to ±2^40).
    func fixed(fractionBits: Int64) -> FixedPlane {
        let unit = Double(Int64(1) << fractionBits)
        func q(_ v: Double) -> Int64 {
            let s = (v * unit).rounded()
            let limit = Double(Int64(1) << 56)
            return s.isNaN ? 0 : Int64(min(max(s, -limit), limit))
        }
        return FixedPlane(origin: q(origin), stepX: q(stepX), stepY: q(stepY))
    }
}

/// An ``AffinePlane`` in fixed point: the value at pixel (x, y) of a triangle whose box starts at
/// (minX, minY) is exactly `origin + stepX·(x − minX) + stepY·(y − minY)`, so stepping along a span gives
/// the same integers as evaluating each pixel directly.
struct FixedPlane {
    var origin: Int64
    var stepX: Int64
    var stepY: Int64

    @inline(__always)
    func value(dx: Int, dy: Int) -> Int64 {
        origin &+ stepX &* Int64(dx) &+ stepY &* Int64(dy)
    }
}
