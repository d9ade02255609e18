import Foundation
import ParlaMedia

/// Pictures for checking face analysis and avatars by eye (`parla prepare --debug-png`).
public enum FaceDebugDrawing {
    /// The portrait with the detection box (blue), detector keypoints (magenta), face-mesh edges (dim green),
    /// lips (red), eyes (cyan), eyebrows (yellow), face oval (white) and irises (yellow circles, centre dot).
    public static func meshOverlay(image: RGBAImage, analysis: FaceAnalysis) -> RGBAImage {
        var canvas = Canvas(image)
        let p = analysis.landmarks.map { xy($0) }
        let thickness = max(1, Float(max(image.width, image.height)) / 800)
        for t in FaceTopology.triangles {
            for (a, b) in [(t.x, t.y), (t.y, t.z), (t.z, t.x)] where a < b {
                canvas.line(p[Int(a)], p[Int(b)], colour: SIMD4(60, 200, 90, 150), width: thickness * 0.6)
            }
        }
        canvas.polyline(FaceTopology.faceOval.map { p[$0] }, closed: true, colour: SIMD4(255, 255, 255, 220), width: thickness)
        for contour in [FaceTopology.outerLipUpper, FaceTopology.outerLipLower, FaceTopology.innerLipUpper, FaceTopology.innerLipLower] {
            canvas.polyline(contour.map { p[$0] }, closed: false, colour: SIMD4(255, 40, 40, 255), width: thickness)
        }
        for side in FaceTopology.Side.allCases {
            for contour in [FaceTopology.eyeUpper(side), FaceTopology.eyeLower(side)] {
                canvas.polyline(contour.map { p[$0] }, closed: false, colour: SIMD4(40, 230, 255, 255), width: thickness)
            }
            for contour in [FaceTopology.eyebrowUpper(side), FaceTopology.eyebrowLower(side)] {
                canvas.polyline(contour.map { p[$0] }, closed: false, colour: SIMD4(255, 220, 0, 255), width: thickness)
            }
        }
        if p.count >= FaceTopology.refinedLandmarkCount {
            for iris in [FaceTopology.rightIris, FaceTopology.leftIris] {
                let centre = p[iris[0]]
                let radius = iris.dropFirst().map { length(p[$0] - centre) }.reduce(0, +) / 4
                canvas.circle(centre, radius: radius, colour: SIMD4(255, 230, 0, 255), width: thickness)
                canvas.disc(centre, radius: thickness * 1.2, colour: SIMD4(255, 230, 0, 255))
            }
        }
        let d = analysis.detection
        canvas.polyline([d.boxMin, SIMD2(d.boxMax.x, d.boxMin.y), d.boxMax, SIMD2(d.boxMin.x, d.boxMax.y)], closed: true,
                        colour: SIMD4(60, 120, 255, 255), width: thickness * 1.5)
        for k in d.keypoints { canvas.disc(k, radius: thickness * 2.5, colour: SIMD4(255, 0, 255, 255)) }
        return canvas.image
    }

    /// An avatar's texture with every mesh triangle (face mesh green, eye fills cyan, rings and border orange)
    /// and the head pivot (magenta).
    public static func meshOverlay(avatar: Avatar) -> RGBAImage {
        var canvas = Canvas(avatar.texture)
        let p = avatar.vertices.map { xy($0) }
        let thickness = max(1, Float(avatar.texture.width) / 700)
        let faceTriangles = FaceTopology.triangles.count
        for (k, t) in avatar.triangles.enumerated() {
            let onFace = Int(t.x) < FaceTopology.refinedLandmarkCount && Int(t.y) < FaceTopology.refinedLandmarkCount
                && Int(t.z) < FaceTopology.refinedLandmarkCount
            let colour: SIMD4<Float> = k < faceTriangles ? SIMD4(60, 220, 90, 170)
                : onFace ? SIMD4(40, 230, 255, 220) : SIMD4(255, 150, 30, 200)
            for (a, b) in [(t.x, t.y), (t.y, t.z), (t.z, t.x)] {
                canvas.line(p[Int(a)], p[Int(b)], colour: colour, width: thickness * 0.6)
            }
        }
        canvas.disc(xy(avatar.headPivot), radius: thickness * 3, colour: SIMD4(255, 0, 255, 255))
        return canvas.image
    }
}

/// A tiny anti-aliased line/circle painter over an RGBA image (alpha-blended, colours 0...255).
struct Canvas {
    var image: RGBAImage

    init(_ image: RGBAImage) { self.image = image }

    /// Blends `colour` into one pixel with `coverage` (0...1) times the colour's alpha.
    mutating func blend(_ x: Int, _ y: Int, _ colour: SIMD4<Float>, _ coverage: Float) {
        guard x >= 0, y >= 0, x < image.width, y < image.height, coverage > 0 else { return }
        let a = min(1, coverage) * colour.w / 255
        let o = (y * image.width + x) * 4
        for c in 0..<3 {
            let old = Float(image.pixels[o + c])
            image.pixels[o + c] = UInt8(max(0, min(255, (old + (colour[c] - old) * a).rounded())))
        }
    }

    /// A line of the given width, coverage from the distance of each pixel centre to the segment.
    mutating func line(_ a: SIMD2<Float>, _ b: SIMD2<Float>, colour: SIMD4<Float>, width: Float) {
        guard a.x.isFinite, a.y.isFinite, b.x.isFinite, b.y.isFinite else { return }
        let r = width / 2 + 1
        let x0 = max(0, Int((min(a.x, b.x) - r).rounded(.down))), x1 = min(image.width - 1, Int((max(a.x, b.x) + r).rounded(.up)))
        let y0 = max(0, Int((min(a.y, b.y) - r).rounded(.down))), y1 = min(image.height - 1, Int((max(a.y, b.y) + r).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let d = b - a
        let len2 = max(dot(d, d), 1e-12)
        for y in y0...y1 {
            for x in x0...x1 {
                let p = SIMD2(Float(x) + 0.5, Float(y) + 0.5)
                let t = min(max(dot(p - a, d) / len2, 0), 1)
                let dist = length(p - (a + d * t))
                blend(x, y, colour, width / 2 + 0.5 - dist)
            }
        }
    }

    mutating func polyline(_ points: [SIMD2<Float>], closed: Bool, colour: SIMD4<Float>, width: Float) {
        guard points.count > 1 else { return }
        for i in 0..<(points.count - 1) { line(points[i], points[i + 1], colour: colour, width: width) }
        if closed { line(points[points.count - 1], points[0], colour: colour, width: width) }
    }

    mutating func circle(_ c: SIMD2<Float>, radius: Float, colour: SIMD4<Float>, width: Float) {
        let steps = max(16, Int(radius * 2))
        let pts = (0..<steps).map { k -> SIMD2<Float> in
            let a = Float(k) / Float(steps) * 2 * Float.pi
            return c + SIMD2(cosf(a), sinf(a)) * radius
        }
        polyline(pts, closed: true, colour: colour, width: width)
    }

    mutating func disc(_ c: SIMD2<Float>, radius: Float, colour: SIMD4<Float>) {
        guard c.x.isFinite, c.y.isFinite else { return }
        let x0 = max(0, Int(c.x - radius - 1)), x1 = min(image.width - 1, Int(c.x + radius + 1))
        let y0 = max(0, Int(c.y - radius - 1)), y1 = min(image.height - 1, Int(c.y + radius + 1))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let d = length(SIMD2(Float(x) + 0.5, Float(y) + 0.5) - c)
                blend(x, y, colour, radius + 0.5 - d)
            }
        }
    }
}
