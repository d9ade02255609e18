import Foundation

/// The avatar's geometry before rigging: face landmarks (untangled where the 2D projection folds), eye openings
/// filled (with the iris points that lie inside them), three rings around the face oval and points along the
/// texture border, all triangulated without overlaps; head weights and pivot.
struct AvatarMesh {
    /// Rings around the face oval, each with one point per face-oval vertex (on the ray from the face centre).
    static let ringCount = 3
    /// Ring distance from the face oval as a fraction of the way to the texture border along the ray.
    static let ringGapFractions: [Float] = [0.17, 0.44, 0.8]
    /// Head weights of the rings above the face (hair, ears) and below it (neck).
    static let hairWeights: [Float] = [0.8, 0.55, 0.25]
    static let neckWeights: [Float] = [0.64, 0.4, 0.12]
    /// Ring depth relative to the pivot: the (smoothed) oval point's depth relative to the pivot times these. Above
    /// 1 the ring continues the head's curvature outward, so under a turn it moves with the oval beside it and the
    /// band between them stays nearly rigid; the outermost ring comes back toward the pivot's depth.
    static let ringDepthScales: [Float] = [1.3, 1.4, 0.9]
    /// Passes of a (¼, ½, ¼) filter along the oval applied to the depths the rings start from.
    static let ringDepthSmoothing = 2
    /// Head pivot depth: this many face widths behind the nose tip.
    static let pivotDepth: Float = 0.55
    /// Near the face oval (the oval and two rows of landmarks inside it) depth may grow at most this much per pixel
    /// of distance in the picture: MediaPipe's depth rises steeply at the cheek silhouette, and a turn would
    /// stretch those nearly edge-on triangles several times over (a smeared band in front of the ears).
    static let maximumDepthSlope: Float = 1
    static let depthSlopeRows = 2
    /// Largest spacing of the border points, texture pixels.
    static let borderSpacing = 64

    /// Texture positions with MediaPipe's depth (what the rig is built from).
    var vertices: [SIMD3<Float>]
    /// Depth of the landmarks for posing, limited near the oval (``limitDepthSlopeNearOval(_:)``); the rings start
    /// from it.
    let posingDepth: [Float]
    var triangles: [SIMD3<UInt32>]
    var headWeights: [Float]
    var headPivot: SIMD3<Float>
    let frame: FaceFrame
    let textureSide: Int
    let ringSize = FaceTopology.faceOval.count
    var ringCount: Int { AvatarMesh.ringCount }
    let ringStart = FaceTopology.refinedLandmarkCount
    var borderStart: Int { ringStart + ringCount * ringSize }
    var borderCount: Int { vertices.count - borderStart }
    /// Iris points that lie inside an eye opening and were made mesh vertices there, per eye.
    var eyeInterior: [FaceTopology.Side: [Int]] = [:]
    /// Triangles filling each eye opening (indices into `triangles`).
    var eyeTriangles: [FaceTopology.Side: Range<Int>] = [:]
    /// How many landmarks were moved to untangle folds, and the largest move in pixels.
    var movedLandmarks = 0
    var maximumMove: Float = 0

    init(face: [SIMD3<Float>], textureSide: Int, source: String) throws {
        precondition(face.count == FaceTopology.refinedLandmarkCount)
        self.textureSide = textureSide
        var points = face
        frame = FaceFrame(points: points)
        try AvatarMesh.untangle(&points, frame: frame, source: source, moved: &movedLandmarks, maximum: &maximumMove)
        var posing = points
        AvatarMesh.limitDepthSlopeNearOval(&posing)
        posingDepth = posing.map(\.z)
        vertices = points
        triangles = FaceTopology.triangles
        headWeights = [Float](repeating: 1, count: points.count)
        let nose = points[FaceTopology.noseTip]
        let ears = (points[FaceTopology.rightCheekSide] + points[FaceTopology.leftCheekSide]) / 2
        headPivot = SIMD3(ears.x, ears.y, nose.z + AvatarMesh.pivotDepth * frame.faceWidth)
        for side in [FaceTopology.Side.right, .left] {
            let start = triangles.count
            try fillEye(side, source: source)
            eyeTriangles[side] = start..<triangles.count
        }
        try addRingsAndBorder(source: source)
        try validate(source: source)
    }

    /// The avatar's vertices: ``vertices`` with the landmarks at their posing depth.
    var posedVertices: [SIMD3<Float>] {
        var v = vertices
        for (i, z) in posingDepth.enumerated() { v[i].z = z }
        return v
    }

    /// Polygon of the mouth opening (inner lip contour, upper then lower reversed).
    static let mouthLoop: [Int] = FaceTopology.innerLipUpper + FaceTopology.innerLipLower.dropFirst().dropLast().reversed()

    /// Area of the mouth opening at rest, square texture pixels.
    var mouthArea: Double {
        let loop = AvatarMesh.mouthLoop.map { xy(vertices[$0]) }
        var sum = 0.0
        for i in loop.indices {
            let a = loop[i], b = loop[(i + 1) % loop.count]
            sum += Double(a.x) * Double(b.y) - Double(b.x) * Double(a.y)
        }
        return abs(sum) / 2
    }

    // MARK: - Rings and border

    private mutating func addRingsAndBorder(source: String) throws {
        let oval = FaceTopology.faceOval
        let side = Float(textureSide)
        let ovalPoints = oval.map { xy(vertices[$0]) }
        let centre = AvatarMesh.centroid(of: ovalPoints)
        for i in ovalPoints.indices where cross(ovalPoints[i] - centre, ovalPoints[(i + 1) % oval.count] - centre) <= 0 {
            throw FaceError(.avatar, file: source, problem: "the face outline folds back on itself near landmark "
                                + "\(oval[i]); use a more frontal portrait")
        }
        var loops: [[Int]] = [oval]
        var ovalDepth = oval.map { posingDepth[$0] }
        for _ in 0..<AvatarMesh.ringDepthSmoothing {
            let z = ovalDepth, n = z.count
            for i in z.indices { ovalDepth[i] = 0.5 * z[i] + 0.25 * (z[(i + 1) % n] + z[(i + n - 1) % n]) }
        }
        let firstRing = vertices.count
        for k in 0..<AvatarMesh.ringCount {
            var loop: [Int] = []
            for (i, p) in ovalPoints.enumerated() {
                let d = p - centre
                let r0 = length(d)
                let dir = d / r0
                let toBorder = AvatarMesh.distanceToBorder(from: centre, along: dir, side: side)
                let gap = toBorder - r0
                guard gap > 2 else {
                    throw FaceError(.avatar, file: source, problem: "the face outline reaches the texture border")
                }
                let q = centre + dir * (r0 + AvatarMesh.ringGapFractions[k] * gap)
                let z = headPivot.z + (ovalDepth[i] - headPivot.z) * AvatarMesh.ringDepthScales[k]
                let down = dot(dir, frame.ey)
                let neck = AvatarMesh.smooth((down - 0.35) / 0.45)
                let weight = AvatarMesh.hairWeights[k] * (1 - neck) + AvatarMesh.neckWeights[k] * neck
                loop.append(vertices.count)
                vertices.append(SIMD3(q.x, q.y, z))
                headWeights.append(weight)
            }
            loops.append(loop)
        }
        assert(firstRing == ringStart)
        // Border: clockwise from the top-left corner, at most borderSpacing apart.
        let n = max(1, (textureSide + AvatarMesh.borderSpacing - 1) / AvatarMesh.borderSpacing)
        var border: [Int] = []
        for edge in 0..<4 {
            for k in 0..<n {
                let t = side * Float(k) / Float(n)
                let p: SIMD2<Float>
                switch edge {
                case 0: p = SIMD2(t, 0)
                case 1: p = SIMD2(side, t)
                case 2: p = SIMD2(side - t, side)
                default: p = SIMD2(0, side - t)
                }
                border.append(vertices.count)
                vertices.append(SIMD3(p.x, p.y, headPivot.z))
                headWeights.append(0)
            }
        }
        loops.append(border)
        for k in 0..<(loops.count - 1) {
            try zip(inner: loops[k], outer: loops[k + 1], centre: centre, source: source)
        }
    }

    /// Lowers the depth of the landmarks on and near the face oval until along every face-mesh edge there depth
    /// grows by at most ``maximumDepthSlope`` per pixel of picture distance (the smallest such depths: a shortest-path
    /// fixpoint, whatever the order of relaxation). Only posing and the depth test see depth; the texture is
    /// sampled by x and y, so the rest frame is unchanged.
    static func limitDepthSlopeNearOval(_ points: inout [SIMD3<Float>]) {
        var edges = Set<SIMD2<Int>>()
        var neighbours = [Set<Int>](repeating: [], count: FaceTopology.landmarkCount)
        for t in FaceTopology.triangles {
            for (a, b) in [(Int(t.x), Int(t.y)), (Int(t.y), Int(t.z)), (Int(t.z), Int(t.x))] {
                edges.insert(SIMD2(min(a, b), max(a, b)))
                neighbours[a].insert(b)
                neighbours[b].insert(a)
            }
        }
        var region = Set(FaceTopology.faceOval)
        for _ in 0..<depthSlopeRows { for v in region { region.formUnion(neighbours[v]) } }
        let sorted = edges.sorted { $0.x != $1.x ? $0.x < $1.x : $0.y < $1.y }
        var changed = true
        while changed {
            changed = false
            for e in sorted {
                let a = e.x, b = e.y
                let rise = maximumDepthSlope * length(xy(points[a]) - xy(points[b]))
                if region.contains(b) && points[a].z + rise < points[b].z {
                    points[b].z = points[a].z + rise
                    changed = true
                }
                if region.contains(a) && points[b].z + rise < points[a].z {
                    points[a].z = points[b].z + rise
                    changed = true
                }
            }
        }
    }

    /// Triangulates the band between two clockwise loops around `centre`, advancing along whichever loop is
    /// angularly behind; every triangle must come out clockwise.
    private mutating func zip(inner: [Int], outer: [Int], centre: SIMD2<Float>, source: String) throws {
        let a = inner.map { xy(vertices[$0]) }, b = outer.map { xy(vertices[$0]) }
        let start = a[0] - centre
        func angle(_ p: SIMD2<Float>) -> Float {
            let q = p - centre
            return atan2f(cross(start, q), dot(start, q))
        }
        // Outer start: the point angularly closest to the inner start.
        var b0 = 0
        for j in b.indices where abs(angle(b[j])) < abs(angle(b[b0])) { b0 = j }
        func cumulative(_ pts: [SIMD2<Float>], from s: Int) -> [Float] {
            var out = [angle(pts[s])]
            for k in 1...pts.count {
                let p = pts[(s + k - 1) % pts.count] - centre, q = pts[(s + k) % pts.count] - centre
                out.append(out[k - 1] + atan2f(cross(p, q), dot(p, q)))
            }
            return out
        }
        let angA = cumulative(a, from: 0), angB = cumulative(b, from: b0)
        let n = a.count, m = b.count
        var i = 0, j = 0
        while i < n || j < m {
            let ai = a[i % n], ai1 = a[(i + 1) % n], bj = b[(b0 + j) % m], bj1 = b[(b0 + j + 1) % m]
            let canA = i < n && doubleAreaD(ai, bj, ai1) > 0
            let canB = j < m && doubleAreaD(ai, bj, bj1) > 0
            var takeA: Bool
            if canA && canB {
                let da = angA[i + 1], db = angB[j + 1]
                if abs(da - db) < 1e-4 {
                    takeA = length(ai1 - bj) <= length(bj1 - ai)
                } else {
                    takeA = da < db
                }
            } else if canA || canB {
                takeA = canA
            } else {
                throw FaceError(.avatar, file: source, problem: "cannot triangulate the area around the face")
            }
            if takeA {
                triangles.append(SIMD3(UInt32(inner[i % n]), UInt32(outer[(b0 + j) % m]), UInt32(inner[(i + 1) % n])))
                i += 1
            } else {
                triangles.append(SIMD3(UInt32(inner[i % n]), UInt32(outer[(b0 + j) % m]), UInt32(outer[(b0 + j + 1) % m])))
                j += 1
            }
        }
    }

    /// Checks that every triangle is clockwise with positive area and that the areas add up to the texture minus
    /// the mouth opening: together with the manifold construction, this means every texture pixel outside the
    /// mouth is covered exactly once.
    private func validate(source: String) throws {
        var total = 0.0
        for t in triangles {
            let area = doubleAreaD(xy(vertices[Int(t.x)]), xy(vertices[Int(t.y)]), xy(vertices[Int(t.z)])) / 2
            guard area > 0 else {
                throw FaceError(.avatar, file: source, problem: "mesh triangle \(t) is folded (area \(area))")
            }
            total += area
        }
        let expected = Double(textureSide * textureSide) - mouthArea
        guard abs(total - expected) <= 1e-3 * expected else {
            throw FaceError(.avatar, file: source, problem: "mesh covers \(total) px² instead of \(expected) px²")
        }
    }

    static func centroid(of polygon: [SIMD2<Float>]) -> SIMD2<Float> {
        var area: Float = 0, c = SIMD2<Float>.zero
        let o = polygon[0]
        for i in polygon.indices {
            let p = polygon[i] - o, q = polygon[(i + 1) % polygon.count] - o
            let w = cross(p, q)
            area += w
            c += (p + q) * w
        }
        if abs(area) < 1e-6 { return polygon.reduce(.zero, +) / Float(polygon.count) }
        return o + c / (3 * area)
    }

    static func distanceToBorder(from p: SIMD2<Float>, along d: SIMD2<Float>, side: Float) -> Float {
        var t = Float.infinity
        if d.x > 1e-9 { t = min(t, (side - p.x) / d.x) }
        if d.x < -1e-9 { t = min(t, -p.x / d.x) }
        if d.y > 1e-9 { t = min(t, (side - p.y) / d.y) }
        if d.y < -1e-9 { t = min(t, -p.y / d.y) }
        return t
    }

    static func smooth(_ t: Float) -> Float { 1 - falloff(t) }
}
