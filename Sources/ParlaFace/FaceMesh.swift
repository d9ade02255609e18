import Foundation
import ParlaKernels
import ParlaMedia
import ParlaModel

/// MediaPipe's 468-point face mesh run on a rotated face ROI.
///
/// The ROI is cropped to 192×192 by affine bilinear sampling (from a half- or quarter-size copy of the picture
/// when the ROI is at least twice the crop, to avoid aliasing), normalized as the model's metadata says, and
/// the model's crop-pixel landmarks are projected back to picture pixels (depth scaled like x). One mesh runner
/// per thread.
public final class FaceMesh {
    /// Model input side.
    public static let inputSize = 192
    /// ROI scale around the face box (MediaPipe's 1.5).
    public static let roiScale: Float = 1.5
    /// Minimum face presence.
    public static let presenceThreshold: Float = 0.5

    private let executor: Executor
    private let normalization: InputNormalization
    private let landmarksIndex: Int
    private let presenceIndex: Int
    private var input: Tensor

    /// Prepares the runner; throws if the model's inputs or outputs are not the face mesh's.
    public init(model: Model, threads: Int = 1) throws {
        try model.checkImageInput(size: FaceMesh.inputSize)
        landmarksIndex = try model.outputIndex(elementCount: FaceTopology.landmarkCount * 3, meaning: "468 landmarks")
        presenceIndex = try model.outputIndex(elementCount: 1, meaning: "face presence")
        normalization = try InputNormalization(model: model)
        executor = try Executor(model: model, threads: threads)
        input = Tensor(zeros: [1, FaceMesh.inputSize, FaceMesh.inputSize, 3])
    }

    /// The ROI for a detection: square around the box (longer side × 1.5), rotated so the eye keypoints are level.
    public static func roi(for detection: FaceDetection) -> FaceROI {
        FaceROI(boxMin: detection.boxMin, boxMax: detection.boxMax,
                from: detection.keypoints[FaceDetection.rightEye], to: detection.keypoints[FaceDetection.leftEye],
                scale: roiScale)
    }

    /// MediaPipe's tracking ROI from a previous mesh: landmarks' bounding box, rotation from eye corners 33 → 263.
    public static func roi(forLandmarks landmarks: [SIMD3<Float>]) -> FaceROI {
        let mesh = Array(landmarks.prefix(FaceTopology.landmarkCount))
        let a = mesh[FaceTopology.rightEyeOuterCorner], b = mesh[FaceTopology.leftEyeOuterCorner]
        return FaceROI(around: mesh, from: SIMD2(a.x, a.y), to: SIMD2(b.x, b.y), scale: roiScale)
    }

    /// Runs the model on `roi` of the picture; returns 468 landmarks in picture pixels and the face presence.
    public func landmarks(in image: RGBAImage, roi: FaceROI, name: String = "image") throws
        -> (points: [SIMD3<Float>], presence: Float)
    {
        try landmarks(in: ImagePyramid(image), roi: roi, name: name)
    }

    func landmarks(in pyramid: ImagePyramid, roi: FaceROI, name: String) throws
        -> (points: [SIMD3<Float>], presence: Float)
    {
        ROISampler.sample(pyramid, roi: roi, size: FaceMesh.inputSize, border: .replicate,
                          normalization: normalization, mirror: false, into: &input.data)
        let outputs = try executor.run([input])
        guard outputs.count > max(landmarksIndex, presenceIndex) else {
            throw FaceError(.model, file: name, problem: "face mesh returned \(outputs.count) outputs")
        }
        let raw = outputs[landmarksIndex].data
        let logit = outputs[presenceIndex].data[0]
        let presence = 1 / (1 + expf(-min(max(logit, -100), 100)))
        let size = Float(FaceMesh.inputSize)
        var points: [SIMD3<Float>] = []
        points.reserveCapacity(FaceTopology.landmarkCount)
        for i in 0..<FaceTopology.landmarkCount {
            points.append(roi.project(cropPoint: SIMD3(raw[3 * i], raw[3 * i + 1], raw[3 * i + 2]), cropSize: size))
        }
        return (points, presence.isNaN ? 0 : presence)
    }
}

/// MediaPipe's iris model run on both eyes of a face mesh.
///
/// Per eye the ROI is the eye corners' bounding box centre, its longer side × 2.3, rotated to the corner line
/// (subject's right eye 33 → 133, left eye 362 → 263), cropped to 64×64. The model expects the eye that appears
/// on the image's left (the subject's right eye) as is; the subject's left eye is mirrored before the model and
/// the outputs un-mirrored. (Checked on the test portrait: the model's 16 lid points fall 4.4 px from the mesh's
/// lids on the unmirrored right eye and 21.7 px when it is mirrored; 4.1 px vs 20.5 px on the mirrored left eye.)
public final class IrisLandmarks {
    /// Model input side.
    public static let inputSize = 64
    /// ROI scale around the eye corners.
    public static let roiScale: Float = 2.3

    private let executor: Executor
    private let normalization: InputNormalization
    private let irisIndex: Int
    private var input: Tensor

    /// Prepares the runner; throws if the model's inputs or outputs are not the iris model's.
    public init(model: Model, threads: Int = 1) throws {
        try model.checkImageInput(size: IrisLandmarks.inputSize)
        irisIndex = try model.outputIndex(elementCount: 15, meaning: "5 iris points")
        _ = try model.outputIndex(elementCount: 71 * 3, meaning: "71 eye contour points")
        normalization = try InputNormalization(model: model)
        executor = try Executor(model: model, threads: threads)
        input = Tensor(zeros: [1, IrisLandmarks.inputSize, IrisLandmarks.inputSize, 3])
    }

    /// The eye ROI for one side of a 468-point mesh.
    public static func roi(for side: FaceTopology.Side, landmarks: [SIMD3<Float>]) -> FaceROI {
        let (i, j) = side == .right
            ? (FaceTopology.rightEyeOuterCorner, FaceTopology.rightEyeInnerCorner)
            : (FaceTopology.leftEyeInnerCorner, FaceTopology.leftEyeOuterCorner)
        let a = SIMD2(landmarks[i].x, landmarks[i].y), b = SIMD2(landmarks[j].x, landmarks[j].y)
        return FaceROI(boxMin: pointwiseMin(a, b), boxMax: pointwiseMax(a, b), from: a, to: b, scale: roiScale)
    }

    /// Ten iris points for a 468-point mesh, in picture pixels: subject's right iris (centre, then image right,
    /// top, image left, bottom), then the left iris in the same order (landmarks 468–477).
    public func irisPoints(in image: RGBAImage, landmarks: [SIMD3<Float>], name: String = "image") throws -> [SIMD3<Float>] {
        try irisPoints(in: ImagePyramid(image), landmarks: landmarks, name: name)
    }

    func irisPoints(in pyramid: ImagePyramid, landmarks: [SIMD3<Float>], name: String) throws -> [SIMD3<Float>] {
        var result: [SIMD3<Float>] = []
        for side in [FaceTopology.Side.right, .left] {
            let roi = IrisLandmarks.roi(for: side, landmarks: landmarks)
            let mirror = side == .left
            ROISampler.sample(pyramid, roi: roi, size: IrisLandmarks.inputSize, border: .replicate,
                              normalization: normalization, mirror: mirror, into: &input.data)
            let outputs = try executor.run([input])
            guard outputs.count > irisIndex else {
                throw FaceError(.model, file: name, problem: "iris model returned \(outputs.count) outputs")
            }
            let raw = outputs[irisIndex].data
            let size = Float(IrisLandmarks.inputSize)
            var points: [SIMD3<Float>] = (0..<5).map { k in
                var p = SIMD3(raw[3 * k], raw[3 * k + 1], raw[3 * k + 2])
                if mirror { p.x = size - p.x }
                return roi.project(cropPoint: p, cropSize: size)
            }
            // The model numbers contour points anatomically (1 = nasal side); un-mirrored, the left eye's 1 and 3
            // swap so both irises follow MediaPipe's image order (1 = image right, 3 = image left).
            if mirror { points.swapAt(1, 3) }
            result += points
        }
        return result
    }
}
