/// A face's own axes and sizes in texture pixels: `ex` runs from the subject's right eye to the left eye (image
/// right for an upright face), `ey` is perpendicular, pointing down the face.
struct FaceFrame {
    /// Midpoint between the iris centres.
    var origin: SIMD2<Float>
    var ex: SIMD2<Float>
    var ey: SIMD2<Float>
    /// Distance between the iris centres.
    var interOcular: Float
    /// Distance between the face-oval points at ear level (234 and 454).
    var faceWidth: Float
    /// Distance between the outer mouth corners (61 and 291).
    var mouthWidth: Float

    init(points: [SIMD3<Float>]) {
        let r = xy(points[FaceTopology.rightIris[0]]), l = xy(points[FaceTopology.leftIris[0]])
        let d = l - r
        let n = length(d)
        ex = n > 0 ? d / n : SIMD2(1, 0)
        ey = SIMD2(-ex.y, ex.x)
        origin = (r + l) / 2
        interOcular = max(n, 1)
        faceWidth = max(length(xy(points[FaceTopology.leftCheekSide]) - xy(points[FaceTopology.rightCheekSide])), 1)
        mouthWidth = max(length(xy(points[FaceTopology.leftMouthCorner]) - xy(points[FaceTopology.rightMouthCorner])), 1)
    }

    /// Face coordinates (u along `ex`, v along `ey`) of a texture point, relative to `origin`.
    func local(_ p: SIMD2<Float>) -> SIMD2<Float> {
        let q = p - origin
        return SIMD2(dot(q, ex), dot(q, ey))
    }

    /// Face coordinates of a vertex.
    func local(_ p: SIMD3<Float>) -> SIMD2<Float> { local(xy(p)) }

    /// A displacement given in face axes (`u` along `ex`, `v` along `ey`, `z` depth) as texture pixels.
    func vector(u: Float, v: Float, z: Float = 0) -> SIMD3<Float> {
        let p = ex * u + ey * v
        return SIMD3(p.x, p.y, z)
    }

    /// +1 on the subject's left (the `ex` direction), -1 on the right.
    static func sign(_ side: FaceTopology.Side) -> Float { side == .left ? 1 : -1 }
}
