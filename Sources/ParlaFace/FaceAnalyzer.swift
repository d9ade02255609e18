import Foundation
import ParlaMedia
import ParlaModel

/// Everything the face layer learned about the one face in a picture, in the picture's pixels.
public struct FaceAnalysis: Sendable, Equatable {
    /// The picture's size.
    public var imageWidth: Int
    /// See ``imageWidth``.
    public var imageHeight: Int
    /// The detector's face (box, six keypoints, score).
    public var detection: FaceDetection
    /// 478 points: the 468 mesh landmarks then the 10 iris points (`FaceTopology` numbering). `z` is depth in
    /// pixels, growing away from the camera.
    public var landmarks: [SIMD3<Float>]
    /// Face presence reported by the mesh model (0...1).
    public var presence: Float
    /// The ROI the final mesh pass looked at.
    public var meshROI: FaceROI
    /// Names of the models that produced this analysis (detector, mesh, iris).
    public var modelNames: [String]

    /// Creates an analysis; `landmarks` must hold `FaceTopology.refinedLandmarkCount` points.
    public init(imageWidth: Int, imageHeight: Int, detection: FaceDetection, landmarks: [SIMD3<Float>],
                presence: Float, meshROI: FaceROI, modelNames: [String]) {
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
        self.detection = detection
        self.landmarks = landmarks
        self.presence = presence
        self.meshROI = meshROI
        self.modelNames = modelNames
    }

    /// The face box from the detector.
    public var faceBox: (min: SIMD2<Float>, max: SIMD2<Float>) { (detection.boxMin, detection.boxMax) }

    /// Distance between the two iris centres (the eye-corner midpoints when irises are missing), pixels.
    public var interOcularDistance: Float {
        let (r, l) = eyeCentres
        return length(l - r)
    }

    /// Subject's right and left eye centres (iris centres), pixels.
    public var eyeCentres: (right: SIMD2<Float>, left: SIMD2<Float>) {
        func xy(_ i: Int) -> SIMD2<Float> { SIMD2(landmarks[i].x, landmarks[i].y) }
        if landmarks.count >= FaceTopology.refinedLandmarkCount {
            return (xy(FaceTopology.rightIris[0]), xy(FaceTopology.leftIris[0]))
        }
        return ((xy(FaceTopology.rightEyeOuterCorner) + xy(FaceTopology.rightEyeInnerCorner)) / 2,
                (xy(FaceTopology.leftEyeOuterCorner) + xy(FaceTopology.leftEyeInnerCorner)) / 2)
    }
}

/// Finds the face in a portrait and measures it: detector → mesh on the detection ROI → mesh again on the
/// ROI of the first mesh (MediaPipe's tracking ROI) → irises.
///
/// Pictures larger than ``analysisSide`` on their longer side are detected on an area-downscaled copy; the
/// mesh and iris crops sample the full picture (or a half/quarter copy when their ROI is much larger than the
/// crop). With several faces the one with the largest box × score wins. One analyzer per thread.
public final class FaceAnalyzer {
    /// Longest side of the copy the detector sees.
    public static let analysisSide = 1024

    private let detector: FaceDetector
    private let mesh: FaceMesh
    private let iris: IrisLandmarks
    private let modelNames: [String]

    /// Builds the analyzer from loaded models; `threads` splits each convolution over that many cores.
    public init(models: FaceModels, threads: Int = 1) throws {
        detector = try FaceDetector(model: models.detector, threads: threads)
        mesh = try FaceMesh(model: models.mesh, threads: threads)
        iris = try IrisLandmarks(model: models.iris, threads: threads)
        modelNames = [models.detector.name, models.mesh.name, models.iris.name]
    }

    /// Loads the models (see ``FaceModels``) from `modelsDirectory`, or the default location when nil; int8
    /// unless `precision` says otherwise.
    public convenience init(modelsDirectory: URL? = nil, precision: ModelPrecision = .int8, threads: Int = 1) throws {
        try self.init(models: FaceModels(directory: modelsDirectory, precision: precision), threads: threads)
    }

    /// Analyses the one face in `image`; `source` names the picture in errors ("portrait.jpg: no face found
    /// (best detection score 0.12)").
    public func analyze(_ image: RGBAImage, source: String = "image") throws -> FaceAnalysis {
        guard image.width >= 8 && image.height >= 8 else {
            throw FaceError(.image, file: source, problem: "the picture is \(image.width)x\(image.height), too small to find a face")
        }
        let pyramid = ImagePyramid(image)
        // Detection on a copy no larger than analysisSide, mapped back to picture pixels.
        let longest = max(image.width, image.height)
        var detectImage = image
        var toPicture = SIMD2<Float>(1, 1)
        if longest > FaceAnalyzer.analysisSide {
            let s = Float(FaceAnalyzer.analysisSide) / Float(longest)
            let w = max(1, Int((Float(image.width) * s).rounded())), h = max(1, Int((Float(image.height) * s).rounded()))
            detectImage = image.resized(width: w, height: h)
            toPicture = SIMD2(Float(image.width) / Float(w), Float(image.height) / Float(h))
        }
        let found = try detector.detect(detectImage, name: source)
        guard !found.detections.isEmpty else {
            throw FaceError(.noFace, file: source,
                            problem: "no face found (best detection score \(FaceAnalyzer.format(found.bestScore)))")
        }
        let scale = toPicture
        let detections = found.detections.map { d in
            FaceDetection(boxMin: d.boxMin * scale, boxMax: d.boxMax * scale, keypoints: d.keypoints.map { $0 * scale },
                          score: d.score)
        }
        let best = detections.max { a, b in
            let sa = a.boxSize, sb = b.boxSize
            return sa.x * sa.y * a.score < sb.x * sb.y * b.score
        }!
        let first = try mesh.landmarks(in: pyramid, roi: FaceMesh.roi(for: best), name: source)
        guard first.presence >= FaceMesh.presenceThreshold else {
            throw FaceError(.noFace, file: source, problem: "no face found (detection score \(FaceAnalyzer.format(best.score)), "
                                + "but face mesh presence \(FaceAnalyzer.format(first.presence)))")
        }
        let trackingROI = FaceMesh.roi(forLandmarks: first.points)
        let second = try mesh.landmarks(in: pyramid, roi: trackingROI, name: source)
        // The refined pass can only lose the face on a degenerate ROI; keep the first pass then.
        let (points, presence, roi) = second.presence >= FaceMesh.presenceThreshold
            ? (second.points, second.presence, trackingROI)
            : (first.points, first.presence, FaceMesh.roi(for: best))
        let irisPoints = try iris.irisPoints(in: pyramid, landmarks: points, name: source)
        return FaceAnalysis(imageWidth: image.width, imageHeight: image.height, detection: best,
                            landmarks: points + irisPoints, presence: presence, meshROI: roi, modelNames: modelNames)
    }

    static func format(_ value: Float) -> String {
        let hundredths = Int((value * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }
}
