import XCTest
import ParlaTestSupport
@testable import ParlaRender

/// The span rasterizer against the per-pixel reference, and the fill rule on shared edges.
final class TriangleWarpTests: XCTestCase {
    /// Every pixel the rasterizer reports, in order.
    private func pixels(_ t: TriangleRaster, reference: Bool) -> [SIMD2<Int>] {
        var out = [SIMD2<Int>]()
        let body: (Int, Int, Int) -> Void = { y, x0, x1 in
            XCTAssertLessThanOrEqual(x0, x1)
            for x in x0...x1 { out.append(SIMD2(x, y)) }
        }
        if reference { t.forEachSpanReference(body) } else { t.forEachSpan(body) }
        return out
    }

    /// Puts a triangle's vertices in positive order, as the decoder does.
    private func raster(_ a: SIMD2<Int64>, _ b: SIMD2<Int64>, _ c: SIMD2<Int64>, _ w: Int, _ h: Int) -> TriangleRaster? {
        TriangleRaster.doubleSignedArea(a, b, c) < 0
            ? TriangleRaster(a, c, b, width: w, height: h) : TriangleRaster(a, b, c, width: w, height: h)
    }

    func testScanlineCoversExactlyTheReferencePixelsOnRandomTriangles() {
        var rng = SeededGenerator(seed: 11)
        var nonEmpty = 0
        for trial in 0..<3000 {
            let w = Int.random(in: 1...53, using: &rng), h = Int.random(in: 1...47, using: &rng)
            func coordinate(_ side: Int) -> Int64 {
                let span = Int64(side) * Subpixel.one
                // Mostly inside, some far outside; some on the exact pixel-centre or integer grid.
                var v = Int64.random(in: (-span / 2)...(span * 3 / 2), using: &rng)
                if trial % 5 == 0 { v = (v / Subpixel.one) * Subpixel.one + Subpixel.one / 2 }
                if trial % 7 == 0 { v = (v / Subpixel.one) * Subpixel.one }
                return v
            }
            var a = SIMD2(coordinate(w), coordinate(h))
            var b = SIMD2(coordinate(w), coordinate(h))
            var c = SIMD2(coordinate(w), coordinate(h))
            switch trial % 6 {
            case 1: c = a &+ (b &- a) &* 3 / 2  // degenerate: collinear
            case 2: c = b  // degenerate: repeated vertex
            case 3: c = a &+ (b &- a) / 2 &+ SIMD2(1, -1)  // sliver
            case 4: b = SIMD2(a.x + Int64.random(in: 0...3000, using: &rng), a.y); c.y = a.y + 7  // thin, horizontal
            case 5: a = SIMD2(-Subpixel.limit, 10); b = SIMD2(Subpixel.limit, 600)  // huge
            default: break
            }
            guard let t = raster(a, b, c, w, h) else {
                XCTAssertLessThanOrEqual(abs(TriangleRaster.doubleSignedArea(a, b, c)), 0)
                continue
            }
            let fast = pixels(t, reference: false), slow = pixels(t, reference: true)
            XCTAssertEqual(fast, slow, "trial \(trial): \(a) \(b) \(c) in \(w)x\(h)")
            if !slow.isEmpty { nonEmpty += 1 }
            if fast != slow { return }
        }
        XCTAssertGreaterThan(nonEmpty, 800)
    }

    /// A jittered grid of triangles sharing edges covers every pixel of the frame exactly once.
    func testSharedEdgesHaveNeitherGapsNorDoubleCover() {
        var rng = SeededGenerator(seed: 5)
        for (w, h, cells) in [(37, 29, 5), (64, 64, 9), (101, 33, 13)] {
            // Grid points from one pixel outside the frame to one outside, jittered inside.
            var points = [[SIMD2<Int64>]]()
            for j in 0...cells {
                var row = [SIMD2<Int64>]()
                for i in 0...cells {
                    var x = Double(i) / Double(cells) * Double(w + 2) - 1
                    var y = Double(j) / Double(cells) * Double(h + 2) - 1
                    if i > 0 && i < cells { x += Double.random(in: -0.3...0.3, using: &rng) * Double(w) / Double(cells) }
                    if j > 0 && j < cells { y += Double.random(in: -0.3...0.3, using: &rng) * Double(h) / Double(cells) }
                    // Some vertices sit exactly on pixel centres or pixel corners.
                    if (i + j) % 3 == 0 { x = x.rounded() + 0.5; y = y.rounded() + 0.5 }
                    row.append(SIMD2(Int64(x * 256), Int64(y * 256)))
                }
                points.append(row)
            }
            for reference in [false, true] {
                var count = [Int](repeating: 0, count: w * h)
                for j in 0..<cells {
                    for i in 0..<cells {
                        let p00 = points[j][i], p10 = points[j][i + 1], p01 = points[j + 1][i], p11 = points[j + 1][i + 1]
                        let split = (i + j) % 2 == 0
                        let tris = split ? [(p00, p10, p11), (p00, p11, p01)] : [(p00, p10, p01), (p10, p11, p01)]
                        for (a, b, c) in tris {
                            guard let t = raster(a, b, c, w, h) else { continue }
                            for p in pixels(t, reference: reference) { count[p.y * w + p.x] += 1 }
                        }
                    }
                }
                XCTAssertEqual(count.filter { $0 != 1 }.count, 0, "\(w)x\(h) reference=\(reference)")
            }
        }
    }

    /// The affine planes reproduce barycentric interpolation of the vertex values at covered pixels.
    func testAffinePlaneMatchesBarycentricInterpolation() {
        var rng = SeededGenerator(seed: 3)
        var checked = 0
        for _ in 0..<300 {
            let w = 41, h = 37
            let a = SIMD2(Int64.random(in: 0...(41 * 256), using: &rng), Int64.random(in: 0...(37 * 256), using: &rng))
            let b = SIMD2(Int64.random(in: 0...(41 * 256), using: &rng), Int64.random(in: 0...(37 * 256), using: &rng))
            let c = SIMD2(Int64.random(in: 0...(41 * 256), using: &rng), Int64.random(in: 0...(37 * 256), using: &rng))
            guard let t = raster(a, b, c, w, h) else { continue }
            let values = SIMD3<Double>(Double.random(in: -50...50, using: &rng), Double.random(in: -50...50, using: &rng),
                                       Double.random(in: -50...50, using: &rng))
            let plane = AffinePlane(t, values.x, values.y, values.z)
            let fixed = plane.fixed(fractionBits: 16)
            t.forEachSpan { y, x0, x1 in
                for x in x0...x1 {
                    let e = t.edgeValues(x: x, y: y)
                    let lambda = SIMD3<Double>(Double(e.x), Double(e.y), Double(e.z)) / Double(t.area2)
                    let expected = (lambda * values).sum()
                    let viaPlane = plane.origin + plane.stepX * Double(x - t.minX) + plane.stepY * Double(y - t.minY)
                    XCTAssertEqual(viaPlane, expected, accuracy: 1e-6)
                    XCTAssertEqual(Double(fixed.value(dx: x - t.minX, dy: y - t.minY)) / 65536, expected, accuracy: 1e-3)
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 10000)
    }
}
