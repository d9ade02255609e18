import ParlaMedia

/// Pictures for people checking what the face analysis found (`parla prepare --debug-png`).
public enum FaceDebugDrawing {
    /// `image` with the detection box (white), mesh triangles (green), lips (red), eyes and brows' lid contours
    /// (cyan) and irises (yellow) drawn over it, lines about 1 px per 512 px of face size.
    public static func meshOverlay(image: RGBAImage, analysis: FaceAnalysis) -> RGBAImage {
        var out = image
        let p = analysis.landmarks
        let width = max(1, Float(max(analysis.detection.boxSize.x, analysis.detection.boxSize.y)) / 256)
        let green = SIMD4<Float>(40, 255, 90, 150), red = SIMD4<Float>(255, 40, 40, 230)
        let cyan = SIMD4<Float>(40, 220, 255, 230), yellow = SIMD4<Float>(255, 230, 0, 255)
        for t in FaceTopology.triangles {
            let a = p[Int(t.x)], b = p[Int(t.y)], c = p[Int(t.z)]
            line(&out, a, b, green, width * 0.6); line(&out, b, c, green, width * 0.6); line(&out, c, a, green, width * 0.6)
        }
        for contour in [FaceTopology.outerLipUpper, FaceTopology.outerLipLower,
                        FaceTopology.innerLipUpper, FaceTopology.innerLipLower] {
            polyline(&out, contour.map { p[$0] }, red, width)
        }
        for contour in [FaceTopology.rightEyeUpper, FaceTopology.rightEyeLower,
                        FaceTopology.leftEyeUpper, FaceTopology.leftEyeLower] {
            polyline(&out, contour.map { p[$0] }, cyan, width)
        }
        if p.count >= FaceTopology.refinedLandmarkCount {
            for iris in [FaceTopology.rightIris, FaceTopology.leftIris] {
                let ring = iris.dropFirst().map { p[$0] }
                polyline(&out, ring + [ring[0]], yellow, width)
                dot(&out, p[iris[0]], yellow, width * 1.5)
            }
        }
        let b0 = analysis.detection.boxMin, b1 = analysis.detection.boxMax
        let corners = [SIMD3(b0.x, b0.y, 0), SIMD3(b1.x, b0.y, 0), SIMD3(b1.x, b1.y, 0), SIMD3(b0.x, b1.y, 0), SIMD3(b0.x, b0.y, 0)]
        polyline(&out, corners, SIMD4(255, 255, 255, 220), width)
        for k in analysis.detection.keypoints { dot(&out, SIMD3(k.x, k.y, 0), SIMD4(255, 255, 255, 255), width * 1.5) }
        return out
    }

    private static func polyline(_ img: inout RGBAImage, _ points: [SIMD3<Float>], _ colour: SIMD4<Float>, _ width: Float) {
        for i in 1..<points.count { line(&img, points[i - 1], points[i], colour, width) }
    }

    private static func dot(_ img: inout RGBAImage, _ p: SIMD3<Float>, _ colour: SIMD4<Float>, _ radius: Float) {
        line(&img, p, p, colour, radius * 2)
    }

    /// An anti-aliased line of the given width: every pixel within `width / 2` of the segment is blended by coverage.
    private static func line(_ img: inout RGBAImage, _ a3: SIMD3<Float>, _ b3: SIMD3<Float>, _ colour: SIMD4<Float>,
                             _ width: Float) {
        let a = SIMD2(a3.x, a3.y), b = SIMD2(b3.x, b3.y)
        guard a.x.isFinite, a.y.isFinite, b.x.isFinite, b.y.isFinite else { return }
        let half = width / 2
        let x0 = max(0, Int((min(a.x, b.x) - half - 1).rounded(.down)))
        let x1 = min(img.width - 1, Int((max(a.x, b.x) + half + 1).rounded(.up)))
        let y0 = max(0, Int((min(a.y, b.y) - half - 1).rounded(.down)))
        let y1 = min(img.height - 1, Int((max(a.y, b.y) + half + 1).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let d = b - a
        let len2 = max((d * d).sum(), 1e-12)
        for y in y0...y1 {
            for x in x0...x1 {
                let q = SIMD2(Float(x) + 0.5, Float(y) + 0.5)
                let t = min(max(((q - a) * d).sum() / len2, 0), 1)
                let e = q - (a + t * d)
                let dist = (e * e).sum().squareRoot()
                let coverage = min(max(half + 0.5 - dist, 0), 1)
                guard coverage > 0 else { continue }
                let alpha = coverage * colour.w / 255
                let i = (y * img.width + x) * 4
                for c in 0..<3 {
                    let v = Float(img.pixels[i + c]) * (1 - alpha) + colour[c] * alpha
                    img.pixels[i + c] = UInt8(min(max(v.rounded(), 0), 255))
                }
            }
        }
    }
}
