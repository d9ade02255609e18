import Foundation
import ParlaFace
import ParlaMedia
import ParlaMotion
import ParlaTestSupport

/// A cartoon avatar built in code that satisfies the ``Avatar`` contract: a square texture (patterned
/// background, skin, eyes, lips), the face-mesh lip landmarks at their MediaPipe indices, rings of vertices
/// on rays from the mouth centre out to the texture border, and a small rig (jawOpen and a few others).
///
/// Vertex rings: inner lips (the mouth opening) → outer lips (ring 1) → rings 2–4 on the face (head weight
/// 1, 1, ½) → a background ring (weight 0) → the border with its four corners (weight 0). The band between the
/// background ring and the border never moves, so its pixels must equal the texture in every frame.
struct SyntheticAvatar {
    let avatar: Avatar
    let side: Int
    let mouthCentre: SIMD2<Float>
    /// Vertex indices of the background ring and the border (both never move).
    let staticVertices: [Int]
    /// Pixels (x, y) of the texture that lie in the static band between the background ring and the border.
    let staticPixels: [SIMD2<Int>]

    /// Ray fractions of rings 2, 3, 4 and the background ring between the outer lips and the border.
    static let ringFractions: [Float] = [0.18, 0.38, 0.6, 0.82]
    static let ringHeadWeights: [Float] = [1, 1, 0.5, 0]

    /// - Parameters:
    ///   - side: texture side in pixels.
    ///   - restGap: opening between the inner lips at rest, as a fraction of the side (0 = closed lips).
    init(side: Int, restGap: Float = 0.012, extraRig: [RigTarget] = []) {
        self.side = side
        let t = Float(side)
        let centre = SIMD2<Float>(t * 0.5, t * 0.62)
        mouthCentre = centre
        let innerHalfWidth = t * 0.15, outerHalfWidth = t * 0.18
        let lipThickness = t * 0.045
        var vertices = [SIMD3<Float>](repeating: SIMD3(centre.x, centre.y, 0), count: FaceTopology.landmarkCount + FaceTopology.irisCount)
        func put(_ i: Int, _ p: SIMD2<Float>) { vertices[i] = SIMD3(p.x, p.y, Self.depth(p, centre: centre, side: t)) }

        // Inner and outer lip contours, corner to corner (image left to right).
        func arc(_ i: Int, halfWidth: Float, height: Float, sign: Float) -> SIMD2<Float> {
            let f = Float(i) / 10
            return SIMD2(centre.x - halfWidth + 2 * halfWidth * f, centre.y + sign * height * sin(Float.pi * f))
        }
        let innerGap = restGap * t * 0.5
        for i in 0...10 {
            put(FaceTopology.innerLipUpper[i], arc(i, halfWidth: innerHalfWidth, height: innerGap, sign: -1))
            put(FaceTopology.innerLipLower[i], arc(i, halfWidth: innerHalfWidth, height: innerGap, sign: 1))
            put(FaceTopology.outerLipUpper[i], arc(i, halfWidth: outerHalfWidth, height: innerGap + lipThickness, sign: -1))
            put(FaceTopology.outerLipLower[i], arc(i, halfWidth: outerHalfWidth, height: innerGap + lipThickness * 1.2, sign: 1))
        }
        // Ring 1 in angular order: upper outer lip left→right, then lower outer lip right→left.
        let ring1 = FaceTopology.outerLipUpper + FaceTopology.outerLipLower[1...9].reversed()
        let used = Set(FaceTopology.innerLipUpper + FaceTopology.innerLipLower + ring1)
        var spare = (0..<FaceTopology.landmarkCount).filter { !used.contains($0) }.makeIterator()

        // Rays from the mouth centre through ring 1 to the border square.
        var rings: [[Int]] = [ring1]
        var borderPoints = [SIMD2<Float>]()
        for j in ring1 {
            let p = SIMD2(vertices[j].x, vertices[j].y)
            borderPoints.append(Self.borderHit(from: centre, through: p, side: t))
        }
        var headWeights = [Float](repeating: 1, count: vertices.count)
        for (r, fraction) in Self.ringFractions.enumerated() {
            var ring = [Int]()
            for (k, j) in ring1.enumerated() {
                let p = SIMD2(vertices[j].x, vertices[j].y)
                let q = p + (borderPoints[k] - p) * fraction
                let index: Int
                if r < 3 {
                    index = spare.next()!
                } else {
                    index = vertices.count
                    vertices.append(.zero)
                    headWeights.append(0)
                }
                put(index, q)
                headWeights[index] = Self.ringHeadWeights[r]
                ring.append(index)
            }
            rings.append(ring)
        }
        // Border: the ray hits plus the four corners, in angular order around the mouth centre.
        var border = [Int]()
        let corners: [SIMD2<Float>] = [SIMD2(0, 0), SIMD2(t, 0), SIMD2(t, t), SIMD2(0, t)]
        var all: [(angle: Float, point: SIMD2<Float>, ray: Int?)] = borderPoints.enumerated().map {
            (Self.angle($0.element - centre), $0.element, $0.offset)
        }
        all += corners.map { (Self.angle($0 - centre), $0, nil) }
        all.sort { $0.angle < $1.angle }
        var rayToBorder = [Int](repeating: -1, count: ring1.count)
        for entry in all {
            let index = vertices.count
            vertices.append(SIMD3(entry.point.x, entry.point.y, 0))
            headWeights.append(0)
            border.append(index)
            if let ray = entry.ray { rayToBorder[ray] = index }
        }
        let borderByRay = rayToBorder

        var triangles = [SIMD3<UInt32>]()
        func tri(_ a: Int, _ b: Int, _ c: Int) { triangles.append(SIMD3(UInt32(a), UInt32(b), UInt32(c))) }
        func quad(_ a: Int, _ b: Int, _ c: Int, _ d: Int) { tri(a, b, c); tri(a, c, d) }
        for i in 0..<10 {
            let iu = FaceTopology.innerLipUpper, il = FaceTopology.innerLipLower
            let ou = FaceTopology.outerLipUpper, ol = FaceTopology.outerLipLower
            quad(iu[i], iu[i + 1], ou[i + 1], ou[i])
            quad(il[i], ol[i], ol[i + 1], il[i + 1])
        }
        let n = ring1.count
        for r in 0..<(rings.count - 1) {
            for k in 0..<n {
                let k1 = (k + 1) % n
                quad(rings[r][k], rings[r][k1], rings[r + 1][k1], rings[r + 1][k])
            }
        }
        // Last ring → border: fan from the ring vertex over the border vertices between two rays.
        let last = rings[rings.count - 1]
        let position = Dictionary(uniqueKeysWithValues: border.enumerated().map { ($0.element, $0.offset) })
        for k in 0..<n {
            let k1 = (k + 1) % n
            let from = position[borderByRay[k]]!, to = position[borderByRay[k1]]!
            var path = [border[from]]
            var p = from
            while p != to { p = (p + 1) % border.count; path.append(border[p]) }
            for m in 0..<(path.count - 1) { tri(last[k], path[m], path[m + 1]) }
            tri(last[k], path[path.count - 1], last[k1])
        }

        let staticSet = rings[rings.count - 1] + border
        staticVertices = staticSet
        // Static pixels: inside the texture and outside the polygon of the background ring.
        let polygon = last.map { SIMD2(vertices[$0].x, vertices[$0].y) }
        var band = [SIMD2<Int>]()
        for y in 0..<side {
            for x in 0..<side where !Self.inside(SIMD2(Float(x) + 0.5, Float(y) + 0.5), polygon, margin: 1.5) {
                band.append(SIMD2(x, y))
            }
        }
        staticPixels = band

        var rig = [Self.jawOpen(vertices: vertices, rings: rings, centre: centre, side: t)]
        rig.append(RigTarget(name: "notAnARKitName", indices: [UInt32(FaceTopology.innerLipLower[5])], deltas: [SIMD3(0, 40, 0)]))
        rig += extraRig
        avatar = Avatar(
            texture: Self.texture(side: side, vertices: vertices, centre: centre),
            vertices: vertices, triangles: triangles, headWeights: headWeights,
            headPivot: SIMD3(centre.x, t * 0.45, t * 0.25), rig: rig, metadata: ["name": "synthetic"])
    }

    /// Depth: a dome over the face, nearer to the camera (negative) at the middle.
    static func depth(_ p: SIMD2<Float>, centre: SIMD2<Float>, side: Float) -> Float {
        let d = (p - SIMD2(centre.x, side * 0.45)) / (side * 0.42)
        return -side * 0.12 * max(0, 1 - (d * d).sum())
    }

    static func angle(_ d: SIMD2<Float>) -> Float { atan2(d.y, d.x) }

    /// Where the ray from `origin` through `p` leaves the square [0, side]².
    static func borderHit(from origin: SIMD2<Float>, through p: SIMD2<Float>, side: Float) -> SIMD2<Float> {
        let d = p - origin
        var t = Float.infinity
        if d.x > 0 { t = min(t, (side - origin.x) / d.x) }
        if d.x < 0 { t = min(t, -origin.x / d.x) }
        if d.y > 0 { t = min(t, (side - origin.y) / d.y) }
        if d.y < 0 { t = min(t, -origin.y / d.y) }
        return origin + d * t
    }

    /// jawOpen: the lower lip drops (most in the middle), the corners a little, and every ring below follows
    /// along its ray with a fading amount — monotone along each ray, so no triangle folds.
    static func jawOpen(vertices: [SIMD3<Float>], rings: [[Int]], centre: SIMD2<Float>, side: Float) -> RigTarget {
        var indices = [UInt32](), deltas = [SIMD3<Float>]()
        let drop = side * 0.16
        func add(_ i: Int, _ amount: Float) {
            guard amount > 0 else { return }
            indices.append(UInt32(i)); deltas.append(SIMD3(0, drop * amount, side * 0.01 * amount))
        }
        let corner: Float = 0.15
        var rayAmount = [Float]()
        // Ring 1 order: outer upper lip 0…10 (corners at 0 and 10, upper lip does not move), then lower 9…1.
        for k in 0..<rings[0].count {
            if k == 0 || k == 10 { rayAmount.append(corner) } else if k < 10 { rayAmount.append(0) } else {
                let i = 20 - k
                rayAmount.append(0.35 + 0.65 * sin(Float.pi * Float(i) / 10))
            }
        }
        for i in 1...9 { add(FaceTopology.innerLipLower[i], 0.35 + 0.65 * sin(Float.pi * Float(i) / 10)) }
        add(FaceTopology.innerLipLower[0], corner)
        add(FaceTopology.innerLipLower[10], corner)
        let fades: [Float] = [1, 0.75, 0.45, 0.15, 0]
        for (r, ring) in rings.enumerated() {
            for (k, i) in ring.enumerated() { add(i, fades[r] * rayAmount[k]) }
        }
        return RigTarget(name: "jawOpen", indices: indices, deltas: deltas)
    }

    /// The picture: a patterned background, a skin ellipse, eyes, lips and a dark slit between them.
    static func texture(side: Int, vertices: [SIMD3<Float>], centre: SIMD2<Float>) -> RGBAImage {
        let t = Float(side)
        let innerPolygon = (FaceTopology.innerLipUpper + FaceTopology.innerLipLower.reversed()).map {
            SIMD2(vertices[$0].x, vertices[$0].y)
        }
        let outerPolygon = (FaceTopology.outerLipUpper + FaceTopology.outerLipLower.reversed()).map {
            SIMD2(vertices[$0].x, vertices[$0].y)
        }
        var image = RGBAImage(width: side, height: side)
        for y in 0..<side {
            for x in 0..<side {
                let p = SIMD2(Float(x) + 0.5, Float(y) + 0.5)
                // Background: diagonal stripes and a grid, saturated blue-green (far from any mouth colour).
                var c = SIMD3<Float>(40 + 60 * p.x / t, 110 + 50 * sin(p.y * 0.21), 170 + 40 * cos((p.x + p.y) * 0.13))
                if x % 8 == 0 || y % 8 == 0 { c *= 0.7 }
                let face = (p - SIMD2(t * 0.5, t * 0.5)) / SIMD2(t * 0.34, t * 0.42)
                if (face * face).sum() < 1 {
                    let shade = 1 - 0.25 * (face * face).sum()
                    c = SIMD3(222, 170, 135) * shade + SIMD3(12 * sin(p.x * 0.7), 8 * sin(p.y * 0.9), 0)
                    for eyeX in [t * 0.37, t * 0.63] {
                        let e = (p - SIMD2(eyeX, t * 0.4)) / SIMD2(t * 0.07, t * 0.035)
                        if (e * e).sum() < 1 { c = SIMD3(245, 240, 235) }
                        let iris = (p - SIMD2(eyeX, t * 0.4)) / (t * 0.025)
                        if (iris * iris).sum() < 1 { c = SIMD3(60, 90, 50) }
                    }
                    if inside(p, outerPolygon, margin: 0) { c = SIMD3(185, 70, 80) + SIMD3(0, 10 * sin(p.x), 0) }
                    if inside(p, innerPolygon, margin: 0.6) { c = SIMD3(70, 25, 30) }
                }
                let i = (y * side + x) * 4
                image.pixels[i] = UInt8(min(max(c.x, 0), 255))
                image.pixels[i + 1] = UInt8(min(max(c.y, 0), 255))
                image.pixels[i + 2] = UInt8(min(max(c.z, 0), 255))
                image.pixels[i + 3] = 255
            }
        }
        return image
    }

    /// Even-odd point-in-polygon test, widened (margin > 0) or narrowed by `margin` pixels via edge distance.
    static func inside(_ p: SIMD2<Float>, _ polygon: [SIMD2<Float>], margin: Float) -> Bool {
        var crossings = false
        var nearest = Float.infinity
        for k in 0..<polygon.count {
            let a = polygon[k], b = polygon[(k + 1) % polygon.count]
            if (a.y > p.y) != (b.y > p.y) {
                let x = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x)
                if p.x < x { crossings.toggle() }
            }
            let ab = b - a
            let len2 = max((ab * ab).sum(), 1e-12)
            let f = min(max(((p - a) * ab).sum() / len2, 0), 1)
            let d = p - (a + ab * f)
            nearest = min(nearest, (d * d).sum().squareRoot())
        }
        if margin > 0 { return crossings || nearest <= margin }
        if margin < 0 { return crossings && nearest >= -margin }
        return crossings
    }
}
