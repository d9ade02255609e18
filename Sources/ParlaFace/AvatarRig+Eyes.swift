import Foundation

/// Eye, brow, cheek and nose targets.
extension AvatarRig {
    /// Where the lids meet when the eye closes, as a fraction of the opening above the lower lid.
    static let blinkMeeting: Float = 0.15

    /// Geometry of one eye: lid contours, axis (outer → inner corner), width.
    struct Eye {
        var side: FaceTopology.Side
        var upper: [Int]
        var lower: [Int]
        var centre: SIMD2<Float>
        var axis: SIMD2<Float>
        var width: Float
        /// Iris points of this eye (centre and contour) and other vertices inside the opening.
        var interior: [Int]
    }

    func eye(_ side: FaceTopology.Side) -> Eye {
        let upper = FaceTopology.eyeUpper(side), lower = FaceTopology.eyeLower(side)
        let outer = xy2(upper[0]), inner = xy2(upper[upper.count - 1])
        let d = inner - outer
        return Eye(side: side, upper: upper, lower: lower, centre: (outer + inner) / 2, axis: d / max(length(d), 1e-3),
                   width: max(length(d), 1), interior: FaceTopology.iris(side))
    }

    /// Sine profile along a lid: 0 at the corners, 1 in the middle.
    func lidProfile(_ k: Int, count: Int) -> Float { sinf(Float.pi * Float(k) / Float(count - 1)) }

    /// Displacements of an eye's interior points interpolated between the lids' displacements, by where each point
    /// sits between the lids along the eye axis (`t` = 0 on the upper lid, 1 on the lower).
    /// With `collapse`, the lids meet (upper + du = lower + dl) and every interior point goes exactly onto the
    /// closed lid line.
    func interiorDeltas(_ eye: Eye, upper du: [SIMD3<Float>], lower dl: [SIMD3<Float>], collapse: Bool = false)
        -> [Int: SIMD3<Float>]
    {
        func along(_ i: Int) -> Float { dot(xy2(i) - xy2(eye.upper[0]), eye.axis) }
        func sample(_ contour: [Int], _ values: [SIMD3<Float>], at a: Float) -> (SIMD2<Float>, SIMD3<Float>) {
            for k in 0..<(contour.count - 1) {
                let a0 = along(contour[k]), a1 = along(contour[k + 1])
                if (a >= min(a0, a1) && a <= max(a0, a1)) || k == contour.count - 2 {
                    let t = a1 == a0 ? 0 : min(max((a - a0) / (a1 - a0), 0), 1)
                    let p = xy2(contour[k]) + (xy2(contour[k + 1]) - xy2(contour[k])) * t
                    return (p, values[k] + (values[k + 1] - values[k]) * t)
                }
            }
            return (xy2(contour[0]), values[0])
        }
        var result: [Int: SIMD3<Float>] = [:]
        let normal = SIMD2(-eye.axis.y, eye.axis.x)
        for i in eye.interior {
            let a = along(i)
            let (pu, vu) = sample(eye.upper, du, at: a), (pl, vl) = sample(eye.lower, dl, at: a)
            let span = dot(pl - pu, normal)
            if collapse {
                result[i] = SIMD3(pu.x, pu.y, points[i].z) + vu - points[i]
                continue
            }
            let t = abs(span) < 1e-3 ? 0.5 : min(max(dot(xy2(i) - pu, normal) / span, 0), 1)
            result[i] = vu + (vl - vu) * t
        }
        return result
    }

    /// In a blink, skin more than this many eye widths above the upper lid stays where it is: what lies there
    /// (a glasses rim, the lid crease) is not dragged down with the lid (measured on the test portrait: its glasses'
    /// upper rim sagged 2.8 px on average, 4 px at most, at 512² when the lid pulled everything up to the brow).
    static let blinkSkinReach: Float = 0.2

    /// Face landmarks more than `distance` eye widths above the upper lid (over the eye's width and a little beyond):
    /// the skin there does not follow the lid.
    func aboveLid(_ eye: Eye, distance: Float) -> Set<Int> {
        let lid = eye.upper.map { local[$0] }
        let (lo, hi) = (lid.map(\.x).min()!, lid.map(\.x).max()!)
        let margin = 0.3 * eye.width
        var result = Set<Int>()
        for i in 0..<FaceTopology.landmarkCount {
            let q = local[i]
            guard q.x > lo - margin && q.x < hi + margin else { continue }
            let u = min(max(q.x, lo), hi)
            var v = lid[0].y
            for k in 0..<(lid.count - 1) where (lid[k].x - u) * (lid[k + 1].x - u) <= 0 && lid[k].x != lid[k + 1].x {
                v = lid[k].y + (lid[k + 1].y - lid[k].y) * (u - lid[k].x) / (lid[k + 1].x - lid[k].x)
            }
            if q.y < v - distance * eye.width { result.insert(i) }
        }
        return result
    }

    /// A lid target: the lid contours and interior move as given, the skin around follows harmonically within
    /// `reach` eye widths; the brows stay, and with `collapse` (a blink) so does the skin more than
    /// ``blinkSkinReach`` above the upper lid.
    func lidField(_ eye: Eye, upper du: [SIMD3<Float>], lower dl: [SIMD3<Float>], reach: Float,
                  collapse: Bool = false) -> [SIMD3<Float>] {
        var pins = interiorDeltas(eye, upper: du, lower: dl, collapse: collapse)
        for k in eye.upper.indices { pins[eye.upper[k]] = du[k] }
        for k in eye.lower.indices where k > 0 && k < eye.lower.count - 1 { pins[eye.lower[k]] = dl[k] }
        var locked = Set(FaceTopology.eyebrowUpper(eye.side) + FaceTopology.eyebrowLower(eye.side))
        if collapse { locked.formUnion(aboveLid(eye, distance: AvatarRig.blinkSkinReach).subtracting(pins.keys)) }
        return field(pinned: pins, centre: eye.centre, radius: reach * eye.width, locked: locked)
    }

    func eyeTargets() -> [RigTarget] {
        var result: [RigTarget] = []
        for side in [FaceTopology.Side.left, .right] {
            let e = eye(side)
            let n = e.upper.count
            let normal = frame.vector(u: 0, v: 1)  // down the face
            // Blink: the upper lid comes down onto a line 15 % above the lower lid, which rises to meet it.
            var up: [SIMD3<Float>] = [], low: [SIMD3<Float>] = []
            for k in 0..<n {
                let u = points[e.upper[k]], l = points[e.lower[k]]
                let meet = l + (u - l) * AvatarRig.blinkMeeting
                up.append(meet - u)
                low.append(meet - l)
            }
            result.append(target("eyeBlink" + side.rawValue, lidField(e, upper: up, lower: low, reach: 1.1, collapse: true)))
            let profile = (0..<n).map { lidProfile($0, count: n) }
            result.append(target("eyeWide" + side.rawValue, lidField(
                e, upper: profile.map { normal * (-0.10 * e.width * $0) }, lower: profile.map { normal * (0.02 * e.width * $0) },
                reach: 1.0)))
            result.append(target("eyeSquint" + side.rawValue, lidField(
                e, upper: profile.map { normal * (0.02 * e.width * $0) }, lower: profile.map { normal * (-0.07 * e.width * $0) },
                reach: 1.2)))
            // Gaze: iris and eye interior shift; the lids follow vertical gaze a little.
            let s = FaceFrame.sign(side)
            let looks: [(String, SIMD2<Float>)] = [
                ("Up", SIMD2(0, -0.08)), ("Down", SIMD2(0, 0.08)), ("In", SIMD2(-s * 0.16, 0)), ("Out", SIMD2(s * 0.16, 0)),
            ]
            for (direction, amount) in looks {
                result.append(target("eyeLook\(direction)\(side.rawValue)", gaze(e, amount: amount * e.width)))
            }
        }
        return result
    }

    /// The largest fraction (1, 0.85, 0.85², …) of a gaze shift that keeps every eye-fill triangle unfolded.
    func gaze(_ e: Eye, amount: SIMD2<Float>) -> [SIMD3<Float>] {
        let n = e.upper.count
        let eyeTris = mesh.eyeTriangles[e.side].map { Array(mesh.triangles[$0]) } ?? []
        var scale: Float = 1
        for _ in 0..<30 {
            let shift = frame.vector(u: amount.x * scale, v: amount.y * scale)
            var pins: [Int: SIMD3<Float>] = [:]
            for i in e.interior { pins[i] = shift }
            for k in 1..<(n - 1) {
                let p = lidProfile(k, count: n)
                pins[e.upper[k]] = frame.vector(u: 0, v: amount.y * scale * 0.6 * p)
                pins[e.lower[k]] = frame.vector(u: 0, v: amount.y * scale * 0.5 * p)
            }
            let locked = Set(FaceTopology.eyebrowUpper(e.side) + FaceTopology.eyebrowLower(e.side))
            let values = field(pinned: pins, centre: e.centre, radius: 0.9 * e.width, locked: locked)
            let folded = eyeTris.contains { t in
                func q(_ i: UInt32) -> SIMD2<Float> { xy(points[Int(i)] + values[Int(i)]) }
                return doubleArea(q(t.x), q(t.y), q(t.z)) <= 0.05
            }
            if !folded { return values }
            scale *= 0.85
        }
        return [SIMD3<Float>](repeating: .zero, count: points.count)
    }

    func browAndCheekTargets() -> [RigTarget] {
        var result: [RigTarget] = []
        let iod = frame.interOcular, fw = frame.faceWidth
        let lids = Set(FaceTopology.rightEyeUpper + FaceTopology.rightEyeLower + FaceTopology.leftEyeUpper
                       + FaceTopology.leftEyeLower)
        func browField(_ pins: [Int: SIMD3<Float>]) -> [SIMD3<Float>] {
            let centre = pins.keys.map { xy2($0) }.reduce(.zero, +) / Float(max(pins.count, 1))
            return field(pinned: pins, centre: centre, radius: 0.9 * iod, locked: lids)
        }
        // Brow lists run outer → inner.
        var inner: [Int: SIMD3<Float>] = [:]
        for side in FaceTopology.Side.allCases {
            for brow in [FaceTopology.eyebrowUpper(side), FaceTopology.eyebrowLower(side)] {
                for (k, i) in brow.enumerated() {
                    inner[i] = frame.vector(u: 0, v: -0.10 * iod * [0, 0.1, 0.3, 0.7, 1][k])
                }
            }
        }
        result.append(target("browInnerUp", field(pinned: inner, centre: frame.origin - frame.ey * (0.35 * iod),
                                                  radius: 1.3 * iod, locked: lids)))
        for side in FaceTopology.Side.allCases {
            let s = FaceFrame.sign(side)
            var outer: [Int: SIMD3<Float>] = [:], down: [Int: SIMD3<Float>] = [:]
            for brow in [FaceTopology.eyebrowUpper(side), FaceTopology.eyebrowLower(side)] {
                for (k, i) in brow.enumerated() {
                    outer[i] = frame.vector(u: 0, v: -0.09 * iod * [1, 0.7, 0.35, 0.1, 0][k])
                    let w: Float = [0.5, 0.7, 0.85, 1, 1][k]
                    down[i] = frame.vector(u: -s * 0.025 * iod * w, v: 0.06 * iod * w)
                }
            }
            result.append(target("browOuterUp" + side.rawValue, browField(outer)))
            result.append(target("browDown" + side.rawValue, browField(down)))
        }
        // Cheek puff: a bump between the mouth corner and the jaw outline, outward and toward the camera.
        var puff = [SIMD3<Float>](repeating: .zero, count: points.count)
        for side in FaceTopology.Side.allCases {
            let corner = FaceTopology.mouthCorner(side)
            let s = FaceFrame.sign(side)
            let candidates = FaceTopology.faceOval.filter { s * (local[$0].x - local[corner].x) > 0 }
            let edge = candidates.min { abs(local[$0].y - local[corner].y) < abs(local[$1].y - local[corner].y) }
                ?? FaceTopology.faceOval[0]
            let centre = (xy2(corner) + xy2(edge)) / 2
            let radius = 0.75 * length(xy2(edge) - xy2(corner))
            let bumpField = bump(centre: centre, radius: radius, delta: frame.vector(u: s * 0.05 * fw, v: 0, z: -0.05 * fw))
            for i in puff.indices { puff[i] += bumpField[i] }
        }
        result.append(target("cheekPuff", puff))
        for side in FaceTopology.Side.allCases {
            let s = FaceFrame.sign(side)
            let bone = side == .left ? 280 : 50
            result.append(target("cheekSquint" + side.rawValue, bump(
                centre: xy2(bone), radius: 0.3 * fw, delta: frame.vector(u: 0, v: -0.035 * fw))))
            let ala = side == .left ? 327 : 98
            result.append(target("noseSneer" + side.rawValue, bump(
                centre: xy2(ala), radius: 0.2 * fw, delta: frame.vector(u: -s * 0.01 * fw, v: -0.035 * fw))))
        }
        return result
    }
}
