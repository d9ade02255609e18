import Foundation
import ParlaKernels
import ParlaMedia
import ParlaModel

/// One face found by ``FaceDetector``, in the picture's pixels (x right, y down).
public struct FaceDetection: Sendable, Equatable {
    /// Top-left corner of the face box.
    public var boxMin: SIMD2<Float>
    /// Bottom-right corner of the face box.
    public var boxMax: SIMD2<Float>
    /// Six keypoints: subject's right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion.
    public var keypoints: [SIMD2<Float>]
    /// Face probability in 0...1.
    public var score: Float

    /// Creates a detection.
    public init(boxMin: SIMD2<Float>, boxMax: SIMD2<Float>, keypoints: [SIMD2<Float>], score: Float) {
        self.boxMin = boxMin
        self.boxMax = boxMax
        self.keypoints = keypoints
        self.score = score
    }

    /// Box width and height.
    public var boxSize: SIMD2<Float> { boxMax - boxMin }

    /// Keypoint indices.
    public static let rightEye = 0, leftEye = 1, noseTip = 2, mouth = 3, rightEar = 4, leftEar = 5
}

/// What the detector saw in one picture.
public struct FaceDetectorResult: Sendable {
    /// Faces scoring at least the threshold after non-maximum suppression, best first.
    public var detections: [FaceDetection]
    /// The highest score of any anchor, even below the threshold (for "no face" messages).
    public var bestScore: Float
}

/// BlazeFace short-range face detector with MediaPipe's pre- and post-processing.
///
/// The picture is letterboxed to 128×128 keeping its aspect (black bars), converted with the model's recorded
/// input normalization, and decoded against 896 SSD anchors (strides 8, 16, 16, 16; two anchors per cell and
/// layer; centres at (cell + 0.5) / grid; fixed size 1). Box and keypoints are regressor / 128 + anchor centre;
/// the score is sigmoid(clamp(logit, ±100)); boxes under the threshold are dropped and the rest merged with
/// weighted non-maximum suppression (IoU 0.3). One detector per thread.
public final class FaceDetector {
    /// Model input side.
    public static let inputSize = 128
    /// Minimum face score.
    public static let scoreThreshold: Float = 0.5
    /// IoU above which boxes are merged.
    public static let suppressionThreshold: Float = 0.3

    private let executor: Executor
    private let normalization: InputNormalization
    private let regressorsIndex: Int
    private let scoresIndex: Int
    private var input: Tensor
    static let anchors: [SIMD2<Float>] = FaceDetector.makeAnchors()

    /// Prepares the detector; throws if the model's inputs or outputs are not BlazeFace's.
    public init(model: Model, threads: Int = 1) throws {
        try model.checkImageInput(size: FaceDetector.inputSize)
        let count = FaceDetector.anchors.count
        regressorsIndex = try model.outputIndex(elementCount: count * 16, meaning: "box regressors")
        scoresIndex = try model.outputIndex(elementCount: count, meaning: "face scores")
        normalization = try InputNormalization(model: model)
        executor = try Executor(model: model, threads: threads)
        input = Tensor(zeros: [1, FaceDetector.inputSize, FaceDetector.inputSize, 3])
    }

    /// Finds faces in `image`, best first; `name` appears in errors.
    public func detect(_ image: RGBAImage, name: String = "image") throws -> FaceDetectorResult {
        guard image.width > 0 && image.height > 0 else {
            throw FaceError(.image, file: name, problem: "the picture is empty")
        }
        let w = Float(image.width), h = Float(image.height)
        let side = max(w, h)
        let roi = FaceROI(center: SIMD2(w / 2, h / 2), width: side, height: side, rotation: 0)
        ROISampler.sample(image, levelScale: SIMD2(1, 1), roi: roi, size: FaceDetector.inputSize, border: .zero,
                          normalization: normalization, mirror: false, into: &input.data)
        let outputs = try executor.run([input])
        guard outputs.count > max(regressorsIndex, scoresIndex) else {
            throw FaceError(.model, file: name, problem: "face detector returned \(outputs.count) outputs")
        }
        let raw = FaceDetector.decode(regressors: outputs[regressorsIndex].data, logits: outputs[scoresIndex].data)
        // Letterbox removal: the picture occupies the centre of the square.
        let pad = SIMD2((1 - w / side) / 2, (1 - h / side) / 2)
        let size = SIMD2(w, h)
        func unpad(_ p: SIMD2<Float>) -> SIMD2<Float> { (p - pad) / (1 - 2 * pad) * size }
        let merged = FaceDetector.weightedNonMaxSuppression(raw.candidates).map { d in
            FaceDetection(boxMin: unpad(d.boxMin), boxMax: unpad(d.boxMax), keypoints: d.keypoints.map(unpad),
                          score: d.score)
        }
        return FaceDetectorResult(detections: merged, bestScore: raw.bestScore)
    }

    /// Anchor centres in the 0...1 input square, in the model's output order.
    static func makeAnchors() -> [SIMD2<Float>] {
        var anchors: [SIMD2<Float>] = []
        // Strides 8, 16, 16, 16 with 2 anchors per cell each; layers of equal stride share one grid.
        for (stride, perCell) in [(8, 2), (16, 6)] {
            let cells = FaceDetector.inputSize / stride
            for y in 0..<cells {
                for x in 0..<cells {
                    let centre = SIMD2((Float(x) + 0.5) / Float(cells), (Float(y) + 0.5) / Float(cells))
                    for _ in 0..<perCell { anchors.append(centre) }
                }
            }
        }
        return anchors
    }

    /// Decodes raw outputs into candidates above the threshold (normalized letterbox coordinates), and the best
    /// score of all anchors.
    static func decode(regressors: [Float], logits: [Float]) -> (candidates: [FaceDetection], bestScore: Float) {
        let anchors = FaceDetector.anchors
        precondition(regressors.count == anchors.count * 16 && logits.count == anchors.count)
        let scale = Float(FaceDetector.inputSize)
        var best: Float = 0
        var candidates: [FaceDetection] = []
        for i in 0..<anchors.count {
            let logit = min(max(logits[i], -100), 100)
            let score = 1 / (1 + expf(-logit))
            if score.isNaN { continue }
            best = max(best, score)
            guard score >= scoreThreshold else { continue }
            let r = i * 16, a = anchors[i]
            let centre = SIMD2(regressors[r], regressors[r + 1]) / scale + a
            let size = SIMD2(regressors[r + 2], regressors[r + 3]) / scale
            var keypoints: [SIMD2<Float>] = []
            keypoints.reserveCapacity(6)
            for k in 0..<6 {
                keypoints.append(SIMD2(regressors[r + 4 + 2 * k], regressors[r + 5 + 2 * k]) / scale + a)
            }
            let detection = FaceDetection(boxMin: centre - size / 2, boxMax: centre + size / 2, keypoints: keypoints,
                                          score: score)
            if detection.boxMin.x.isFinite && detection.boxMax.y.isFinite { candidates.append(detection) }
        }
        return (candidates, best)
    }

    /// MediaPipe's weighted NMS: repeatedly take the best remaining box, average it with every box overlapping it
    /// by more than the threshold (weights = scores; the best box's score is kept) and drop those boxes.
    static func weightedNonMaxSuppression(_ detections: [FaceDetection]) -> [FaceDetection] {
        var remaining = detections.indices.sorted { detections[$0].score > detections[$1].score }
        var result: [FaceDetection] = []
        while let top = remaining.first {
            let topDetection = detections[top]
            var overlapping: [Int] = [], rest: [Int] = []
            for i in remaining {
                if intersectionOverUnion(topDetection, detections[i]) > suppressionThreshold {
                    overlapping.append(i)
                } else {
                    rest.append(i)
                }
            }
            if overlapping.isEmpty { overlapping = [top]; rest.removeAll { $0 == top } }
            var total: Float = 0
            var boxMin = SIMD2<Float>.zero, boxMax = SIMD2<Float>.zero
            var keypoints = [SIMD2<Float>](repeating: .zero, count: topDetection.keypoints.count)
            for i in overlapping {
                let d = detections[i]
                total += d.score
                boxMin += d.boxMin * d.score
                boxMax += d.boxMax * d.score
                for k in keypoints.indices { keypoints[k] += d.keypoints[k] * d.score }
            }
            result.append(FaceDetection(boxMin: boxMin / total, boxMax: boxMax / total,
                                        keypoints: keypoints.map { $0 / total }, score: topDetection.score))
            remaining = rest
        }
        return result
    }

    /// Intersection over union of two boxes (0 when either is empty).
    static func intersectionOverUnion(_ a: FaceDetection, _ b: FaceDetection) -> Float {
        let lo = pointwiseMax(a.boxMin, b.boxMin), hi = pointwiseMin(a.boxMax, b.boxMax)
        let overlap = pointwiseMax(hi - lo, .zero)
        let intersection = overlap.x * overlap.y
        let sa = pointwiseMax(a.boxMax - a.boxMin, .zero), sb = pointwiseMax(b.boxMax - b.boxMin, .zero)
        let union = sa.x * sa.y + sb.x * sb.y - intersection
        return union > 0 ? intersection / union : 0
    }
}
