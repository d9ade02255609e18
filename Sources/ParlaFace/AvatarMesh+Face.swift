/// Face-mesh repairs for 2D use: lids and lips kept apart, folded triangles untangled, eye openings filled.
extension AvatarMesh {
    /// Smallest gap kept between paired upper and lower lid/lip points, texture pixels.
    static let minimumContourGap: Float = 0.25
    /// Smallest height (twice the area over the longest side) a face triangle may have after untangling, pixels.
    static let minimumHeight: Float = 0.3

    /// Whether triangle abc is clockwise with at least ``minimumHeight``.
    static func isSound(_ a: SIMD2<Float>, _ b: SIMD2<Float>, _ c: SIMD2<Float>) -> Bool {
        let longest = max(length(b - a), length(c - b), length(a - c))
        return doubleArea(a, b, c) >= minimumHeight * longest
    }

    /// Moves face landmarks (never the face oval) as little as needed so that no face-mesh triangle is folded in
    /// the picture plane: the projection of MediaPipe's 3D mesh overlaps itself at the nose wings, the lip
    /// corners and the cheek silhouette. The rest pose is unaffected (the texture is sampled at the moved points).
    static func untangle(_ points: inout [SIMD3<Float>], frame: FaceFrame, source: String, moved: inout Int,
                         maximum: inout Float) throws {
        let original = points
        separate(&points, upper: FaceTopology.innerLipUpper, lower: FaceTopology.innerLipLower, down: frame.ey)
        for side in [FaceTopology.Side.right, .left] {
            separate(&points, upper: FaceTopology.eyeUpper(side), lower: FaceTopology.eyeLower(side), down: frame.ey)
        }
        let triangles = FaceTopology.triangles
        var neighbours = [Set<Int>](repeating: [], count: FaceTopology.landmarkCount)
        for t in triangles {
            let a = Int(t.x), b = Int(t.y), c = Int(t.z)
            neighbours[a].formUnion([b, c]); neighbours[b].formUnion([a, c]); neighbours[c].formUnion([a, b])
        }
        let fixed = Set(FaceTopology.faceOval)
        var converged = false
        for iteration in 0..<600 {
            var movable = Set<Int>()
            for t in triangles {
                let a = Int(t.x), b = Int(t.y), c = Int(t.z)
                if !isSound(xy(points[a]), xy(points[b]), xy(points[c])) {
                    movable.formUnion([a, b, c])
                }
            }
            if movable.isEmpty { converged = true; break }
            if iteration >= 200 { for v in movable { movable.formUnion(neighbours[v]) } }
            movable.subtract(fixed)
            if movable.isEmpty { break }
            for v in movable.sorted() {
                var c = SIMD2<Float>.zero
                for n in neighbours[v] { c += xy(points[n]) }
                c /= Float(neighbours[v].count)
                let p = xy(points[v]) + (c - xy(points[v])) * 0.5
                points[v].x = p.x
                points[v].y = p.y
            }
        }
        guard converged else {
            throw FaceError(.avatar, file: source, problem: "the face mesh stays folded in the picture plane; use a "
                                + "more frontal portrait")
        }
        moved = 0
        maximum = 0
        for i in 0..<FaceTopology.landmarkCount {
            let d = length(xy(points[i]) - xy(original[i]))
            if d > 1e-4 { moved += 1 }
            maximum = max(maximum, d)
        }
    }

    /// Pushes paired inner points of an upper and a lower contour apart along `down` so the lower one is at least
    /// ``minimumContourGap`` below (the corners, shared, stay).
    static func separate(_ points: inout [SIMD3<Float>], upper: [Int], lower: [Int], down: SIMD2<Float>) {
        for k in 1..<(upper.count - 1) {
            let u = upper[k], l = lower[k]
            let gap = dot(xy(points[l]) - xy(points[u]), down)
            if gap < minimumContourGap {
                let push = down * ((minimumContourGap - gap) / 2)
                points[u].x -= push.x; points[u].y -= push.y
                points[l].x += push.x; points[l].y += push.y
            }
        }
    }

    /// Fills one eye opening with a strip between the lids, then inserts the iris points that lie well inside it
    /// and makes the fill Delaunay (lid edges kept), so eyeLook targets can move the iris texture.
    mutating func fillEye(_ side: FaceTopology.Side, source: String) throws {
        let upper = FaceTopology.eyeUpper(side), lower = FaceTopology.eyeLower(side)
        let loop = upper + lower.dropFirst().dropLast().reversed()
        var signed: Float = 0
        for i in loop.indices { signed += cross(xy(vertices[loop[i]]), xy(vertices[loop[(i + 1) % loop.count]])) }
        let clockwise = signed > 0
        func oriented(_ a: Int, _ b: Int, _ c: Int) -> SIMD3<Int> { clockwise ? SIMD3(a, b, c) : SIMD3(a, c, b) }
        func area(_ t: SIMD3<Int>) -> Float { doubleArea(xy(vertices[t.x]), xy(vertices[t.y]), xy(vertices[t.z])) }
        var fill: [SIMD3<Int>] = []
        let n = upper.count - 1
        for k in 0..<n {
            let u0 = upper[k], u1 = upper[k + 1], l0 = lower[k], l1 = lower[k + 1]
            if k == 0 { fill.append(oriented(u0, u1, l1)); continue }
            if k == n - 1 { fill.append(oriented(u0, u1, l0)); continue }
            let first = [oriented(u0, u1, l1), oriented(u0, l1, l0)]
            let second = [oriented(u0, u1, l0), oriented(u1, l1, l0)]
            let firstOK = first.allSatisfy { area($0) > 0 }, secondOK = second.allSatisfy { area($0) > 0 }
            let preferFirst = length(xy(vertices[u0]) - xy(vertices[l1])) <= length(xy(vertices[u1]) - xy(vertices[l0]))
            fill += (firstOK && (preferFirst || !secondOK)) ? first : second
        }
        guard fill.allSatisfy({ area($0) > 0 }) else {
            throw FaceError(.avatar, file: source, problem: "the \(side.rawValue.lowercased()) eye opening is folded")
        }
        var constrained = Set<Int>()  // lid edges, keyed a * 4096 + b with a < b
        for contour in [upper, lower] {
            for k in 0..<(contour.count - 1) { constrained.insert(AvatarMesh.edgeKey(contour[k], contour[k + 1])) }
        }
        var inserted: [Int] = []
        for q in FaceTopology.iris(side) {
            let p = xy(vertices[q])
            guard inserted.allSatisfy({ length(xy(vertices[$0]) - p) >= 1 }) else { continue }
            guard let t = fill.firstIndex(where: { tri in
                let a = xy(vertices[tri.x]), b = xy(vertices[tri.y]), c = xy(vertices[tri.z])
                return [(a, b), (b, c), (c, a)].allSatisfy { e in
                    let len = length(e.1 - e.0)
                    return len > 0 && doubleArea(e.0, e.1, p) / len >= 0.5
                }
            }) else { continue }
            let tri = fill.remove(at: t)
            fill += [SIMD3(tri.x, tri.y, q), SIMD3(tri.y, tri.z, q), SIMD3(tri.z, tri.x, q)]
            inserted.append(q)
        }
        AvatarMesh.makeDelaunay(&fill, points: vertices, constrained: constrained)
        eyeInterior[side] = inserted
        triangles += fill.map { SIMD3(UInt32($0.x), UInt32($0.y), UInt32($0.z)) }
    }

    static func edgeKey(_ a: Int, _ b: Int) -> Int { min(a, b) * 4096 + max(a, b) }

    /// Lawson flips over the unconstrained edges until every such edge is locally Delaunay (bounded passes).
    static func makeDelaunay(_ tris: inout [SIMD3<Int>], points: [SIMD3<Float>], constrained: Set<Int>) {
        func p(_ i: Int) -> SIMD2<Double> { SIMD2(Double(points[i].x), Double(points[i].y)) }
        func area(_ a: Int, _ b: Int, _ c: Int) -> Double {
            let u = p(b) - p(a), v = p(c) - p(a)
            return u.x * v.y - u.y * v.x
        }
        /// Whether d lies inside the circumcircle of the clockwise (screen) triangle abc.
        func inCircle(_ a: Int, _ b: Int, _ c: Int, _ d: Int) -> Bool {
            let pa = p(a) - p(d), pb = p(b) - p(d), pc = p(c) - p(d)
            let det = (pa.x * pa.x + pa.y * pa.y) * (pb.x * pc.y - pc.x * pb.y)
                - (pb.x * pb.x + pb.y * pb.y) * (pa.x * pc.y - pc.x * pa.y)
                + (pc.x * pc.x + pc.y * pc.y) * (pa.x * pb.y - pb.x * pa.y)
            return det > 1e-9  // abc has positive orientation ((b-a)×(c-a) > 0), so inside means det > 0
        }
        for _ in 0..<50 {
            var flipped = false
            outer: for i in tris.indices {
                let t = tris[i]
                let corners = [t.x, t.y, t.z]
                for e in 0..<3 {
                    let a = corners[e], b = corners[(e + 1) % 3], c = corners[(e + 2) % 3]
                    if constrained.contains(edgeKey(a, b)) { continue }
                    // Neighbour across a-b runs b → a.
                    guard let j = tris.indices.first(where: { k in
                        k != i && [(tris[k].x, tris[k].y), (tris[k].y, tris[k].z), (tris[k].z, tris[k].x)]
                            .contains { $0 == (b, a) }
                    }) else { continue }
                    let u = tris[j]
                    let d = [u.x, u.y, u.z].first { $0 != a && $0 != b }!
                    guard inCircle(a, b, c, d) else { continue }
                    // Flip a-b to c-d if both new triangles stay clockwise.
                    guard area(c, a, d) > 0 && area(c, d, b) > 0 else { continue }
                    tris[i] = SIMD3(c, a, d)
                    tris[j] = SIMD3(c, d, b)
                    flipped = true
                    break outer
                }
            }
            if !flipped { return }
        }
    }
}
