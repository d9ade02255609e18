import Foundation
import ParlaFace
import ParlaMedia
import ParlaTestSupport
import XCTest

/// The reference landmarks Tools/face-reference-landmarks computed once for grace_hopper.jpg.
struct ReferenceLandmarks {
    var width: Int
    var height: Int
    var landmarks: [SIMD3<Float>]
    var iris: [SIMD3<Float>]
    var detectionScore: Float
    var boxMin: SIMD2<Float>
    var boxMax: SIMD2<Float>
    var keypoints: [SIMD2<Float>]

    static func load() throws -> ReferenceLandmarks {
        let url = Fixtures.url("face/grace_hopper_reference.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        func points(_ any: Any?) -> [SIMD3<Float>] {
            (any as! [[Double]]).map { SIMD3(Float($0[0]), Float($0[1]), Float($0[2])) }
        }
        let detection = (json["detections"] as! [[String: Any]])[0]
        let box = (detection["box"] as! [Double]).map(Float.init)
        return ReferenceLandmarks(
            width: json["width"] as! Int, height: json["height"] as! Int,
            landmarks: points(json["landmarks"]), iris: points(json["iris"]),
            detectionScore: Float(detection["score"] as! Double),
            boxMin: SIMD2(box[0], box[1]), boxMax: SIMD2(box[2], box[3]),
            keypoints: (detection["keypoints"] as! [[Double]]).map { SIMD2(Float($0[0]), Float($0[1])) })
    }

    /// A FaceAnalysis built from the reference (no models needed).
    var analysis: FaceAnalysis {
        let all = landmarks + iris
        return FaceAnalysis(
            imageWidth: width, imageHeight: height,
            detection: FaceDetection(boxMin: boxMin, boxMax: boxMax, keypoints: keypoints, score: detectionScore),
            landmarks: all, presence: 1, meshROI: FaceMesh.roi(forLandmarks: all),
            modelNames: ["reference"])
    }
}

enum FaceFixtures {
    static func portrait() throws -> RGBAImage {
        try ImageCodec.decode(contentsOf: Fixtures.url("grace_hopper.jpg"))
    }

    /// The 52 ARKit blendshape names (the face layer does not import ParlaMotion).
    static let arkitNames: Set<String> = [
        "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft",
        "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
        "eyeSquintRight", "eyeWideRight", "jawForward", "jawLeft", "jawRight", "jawOpen", "mouthClose", "mouthFunnel",
        "mouthPucker", "mouthLeft", "mouthRight", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft",
        "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
        "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight",
        "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight", "browDownLeft",
        "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff", "cheekSquintLeft",
        "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
    ]

    /// Where the test's debug pictures go (kept for a human to look at).
    static func debugURL(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parla-face-debug")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name)
    }
}

/// Counts how many triangles cover each pixel centre, exactly: vertices snapped to 1/256 px, 64-bit edge
/// functions, and a tie rule under which a pixel centre on a shared edge or vertex belongs to exactly one of
/// the triangles around it.
enum CoverageRaster {
    static func count(vertices: [SIMD3<Float>], triangles: [SIMD3<UInt32>], side: Int) -> [UInt8] {
        var counts = [UInt8](repeating: 0, count: side * side)
        let fixed = vertices.map { SIMD2(Int64(($0.x * 256).rounded()), Int64(($0.y * 256).rounded())) }
        for t in triangles {
            let a = fixed[Int(t.x)], b = fixed[Int(t.y)], c = fixed[Int(t.z)]
            let lo = pointwiseMin(a, pointwiseMin(b, c)), hi = pointwiseMax(a, pointwiseMax(b, c))
            let x0 = max(0, Int((lo.x - 128) / 256) - 1), x1 = min(side - 1, Int((hi.x - 128) / 256) + 1)
            let y0 = max(0, Int((lo.y - 128) / 256) - 1), y1 = min(side - 1, Int((hi.y - 128) / 256) + 1)
            if x0 > x1 || y0 > y1 { continue }
            for y in y0...y1 {
                for x in x0...x1 {
                    let p = SIMD2(Int64(x * 256 + 128), Int64(y * 256 + 128))
                    if inside(a, b, p) && inside(b, c, p) && inside(c, a, p) {
                        counts[y * side + x] &+= 1
                    }
                }
            }
        }
        return counts
    }

    /// Whether p is on the inner side of edge a → b of a clockwise-on-screen triangle (ties go to edges running
    /// down, or left when horizontal, so each shared edge belongs to one side only).
    static func inside(_ a: SIMD2<Int64>, _ b: SIMD2<Int64>, _ p: SIMD2<Int64>) -> Bool {
        let e = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)
        if e != 0 { return e > 0 }
        let dx = b.x - a.x, dy = b.y - a.y
        return dy > 0 || (dy == 0 && dx < 0)
    }
}

/// Even-odd point-in-polygon test.
func polygonContains(_ polygon: [SIMD2<Float>], _ p: SIMD2<Float>) -> Bool {
    var inside = false
    var j = polygon.count - 1
    for i in polygon.indices {
        let a = polygon[i], b = polygon[j]
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
        j = i
    }
    return inside
}
