/// The lips as MediaPipe's mesh builds them: four rings of 20 points around the mouth opening (the inner-lip
/// contour, two rings between, the outer-lip contour). Each ring has a corner point on either side; between
/// them run 9 upper-lip and 9 lower-lip points. Found from the triangle topology, so it holds for every face.
enum LipRows {
    /// Upper-lip rows, inner contour first; each runs from the subject's right corner to the left one.
    static let upper: [[Int]] = rows.upper
    /// Lower-lip rows, inner contour first, right to left.
    static let lower: [[Int]] = rows.lower
    /// Corner points per ring (inner first) on the subject's right and left.
    static let rightCorners: [Int] = rows.right
    static let leftCorners: [Int] = rows.left

    private static let rows: (upper: [[Int]], lower: [[Int]], right: [Int], left: [Int]) = {
        var neighbours = [Set<Int>](repeating: [], count: FaceTopology.landmarkCount)
        for t in FaceTopology.triangles {
            let a = Int(t.x), b = Int(t.y), c = Int(t.z)
            neighbours[a].formUnion([b, c]); neighbours[b].formUnion([a, c]); neighbours[c].formUnion([a, b])
        }
        let innerU = FaceTopology.innerLipUpper, innerL = FaceTopology.innerLipLower
        var upper = [Array(innerU.dropFirst().dropLast())], lower = [Array(innerL.dropFirst().dropLast())]
        var right = [innerU[0]], left = [innerU[innerU.count - 1]]
        var seen = Set(innerU + innerL)
        for _ in 1..<4 {
            // The next ring: unseen neighbours of the previous ring.
            let previous = upper[upper.count - 1] + lower[lower.count - 1] + [right[right.count - 1], left[left.count - 1]]
            var ring = Set<Int>()
            for v in previous { ring.formUnion(neighbours[v].subtracting(seen)) }
            seen.formUnion(ring)
            // Its corners touch the previous corners; its upper chain touches the previous upper chain.
            func corner(adjacentTo c: Int) -> Int { ring.filter { neighbours[c].contains($0) }.min { a, b in
                neighbours[a].intersection(ring).count < neighbours[b].intersection(ring).count || a < b
            } ?? c }
            let r = corner(adjacentTo: right[right.count - 1]), l = corner(adjacentTo: left[left.count - 1])
            func chain(from start: Int, touching previousChain: [Int]) -> [Int] {
                let previousSet = Set(previousChain)
                var path = [start]
                var current = start
                while true {
                    let candidates = neighbours[current].intersection(ring).subtracting(path)
                    if candidates.contains(l) && path.count > 1 { break }
                    guard let next = candidates.filter({ $0 != l && !neighbours[$0].isDisjoint(with: previousSet) }).min()
                            ?? candidates.filter({ $0 != l }).min() else { break }
                    path.append(next)
                    current = next
                }
                return Array(path.dropFirst())
            }
            upper.append(chain(from: r, touching: upper[upper.count - 1]))
            lower.append(chain(from: r, touching: lower[lower.count - 1]))
            right.append(r)
            left.append(l)
        }
        return (upper, lower, right, left)
    }()
}

/// Coordinates over the lips, so lip targets move whole rows of the (very thin) lip triangles together.
///
/// Every lip point is on the upper lip, the lower lip or a corner column (``LipRows``). Each has `across`
/// (-1 at the subject's right outer corner, +1 at the left, from its position) and `depth` (0 on the inner
/// contour … 1 on the outer one, by ring).
struct LipCoordinates {
    enum Part: Equatable {
        case upper, lower, corner
    }

    var part: [Int: Part] = [:]
    var across: [Int: Float] = [:]
    var depth: [Int: Float] = [:]
    /// How far (face v, pixels) each lip point lies from its lip's inner contour (negative on the upper lip).
    var offset: [Int: Float] = [:]
    /// Ring of each lip point (0 inner contour … 3 outer contour).
    var ring: [Int: Int] = [:]
    /// Face-frame u of the mouth centre and half the outer mouth width (the `across` scale).
    var centreU: Float = 0
    var half: Float = 1
    /// The outer lower lip contour in face coordinates, sorted by u.
    var outerLower: [SIMD2<Float>] = []
    /// `across` of the inner-lip corners (the mouth opening ends there).
    var innerCorner: (right: Float, left: Float) = (-1, 1)

    init(points: [SIMD3<Float>], frame: FaceFrame) {
        let local = points.map { frame.local($0) }
        let outerU = FaceTopology.outerLipUpper
        centreU = (local[FaceTopology.upperLipCentre].x + local[FaceTopology.lowerLipCentre].x) / 2
        half = max(abs(local[outerU[outerU.count - 1]].x - local[outerU[0]].x) / 2, 1)
        innerCorner = (right: (local[LipRows.rightCorners[0]].x - centreU) / half,
                       left: (local[LipRows.leftCorners[0]].x - centreU) / half)
        func sorted(_ contour: [Int]) -> [SIMD2<Float>] { contour.map { local[$0] }.sorted { $0.x < $1.x } }
        outerLower = sorted(FaceTopology.outerLipLower)
        contours[.upper] = (sorted(FaceTopology.innerLipUpper), sorted(FaceTopology.outerLipUpper))
        contours[.lower] = (sorted(FaceTopology.innerLipLower), sorted(FaceTopology.outerLipLower))
        for k in 0..<4 {
            for i in LipRows.upper[k] { part[i] = .upper; ring[i] = k }
            for i in LipRows.lower[k] { part[i] = .lower; ring[i] = k }
            for i in [LipRows.rightCorners[k], LipRows.leftCorners[k]] { part[i] = .corner; ring[i] = k }
        }
        for (i, k) in ring {
            across[i] = (local[i].x - centreU) / half
            depth[i] = Float(k) / 3
            if let c = contours[part[i]!] {
                offset[i] = local[i].y - LipCoordinates.interpolate(c.inner, at: local[i].x)
            } else {
                offset[i] = 0
            }
        }
    }

    /// Inner and outer contours (face coordinates sorted by u) of the upper and lower lip.
    var contours: [Part: (inner: [SIMD2<Float>], outer: [SIMD2<Float>])] = [:]

    /// Signed lip thickness at `across` (outer contour v minus inner contour v: negative on the upper lip).
    func thickness(_ which: Part, _ a: Float) -> Float {
        guard let c = contours[which] else { return 0 }
        let u = centreU + a * half
        return LipCoordinates.interpolate(c.outer, at: u) - LipCoordinates.interpolate(c.inner, at: u)
    }

    /// v of the outer lower lip contour at face-frame u (clamped at the corners).
    func outerLowerV(_ u: Float) -> Float { LipCoordinates.interpolate(outerLower, at: u) }

    static func interpolate(_ pts: [SIMD2<Float>], at u: Float) -> Float {
        if u <= pts[0].x { return pts[0].y }
        for k in 0..<(pts.count - 1) where u <= pts[k + 1].x {
            let span = pts[k + 1].x - pts[k].x
            let t = span > 1e-6 ? (u - pts[k].x) / span : 0
            return pts[k].y + (pts[k + 1].y - pts[k].y) * t
        }
        return pts[pts.count - 1].y
    }

    /// 1 in the middle of the mouth, falling to 0 at the inner-lip corners and staying 0 beyond: vertical lip
    /// motions scaled by it leave the corner columns still.
    func profile(_ a: Float) -> Float {
        let end = a < 0 ? innerCorner.right : innerCorner.left
        let t = abs(end) > 1e-3 ? a / end : 1
        return max(0, 1 - t * t)
    }

    /// Place of lip point `i` along its ring: `across` divided by the across of that ring's corner on the same
    /// side (0 in the middle of the mouth, ±1 at the ring's corners).
    func alongRing(_ i: Int) -> Float { alongRing(ring[i] ?? 0, across: across[i] ?? 0) }

    /// Place of `a` (across) along ring `k` (0 inner … 3 outer), as ``alongRing(_:)``.
    func alongRing(_ k: Int, across a: Float) -> Float {
        let end = across[a < 0 ? LipRows.rightCorners[k] : LipRows.leftCorners[k]] ?? (a < 0 ? -1 : 1)
        return abs(end) > 1e-3 ? a / end : 1
    }

    /// Vertices of one part.
    func vertices(_ which: Part) -> [Int] { part.filter { $0.value == which }.map(\.key).sorted() }
    /// All lip vertices.
    var all: [Int] { part.keys.sorted() }
}
