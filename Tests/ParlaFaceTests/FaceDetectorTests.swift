import ParlaMedia
import ParlaTestSupport
import XCTest
@testable import ParlaFace

final class FaceDetectorTests: XCTestCase {
    func testAnchorsFollowMediaPipesShortRangeLayout() {
        let a = FaceDetector.anchors
        XCTAssertEqual(a.count, 896)
        XCTAssertEqual(a[0], SIMD2(0.5 / 16, 0.5 / 16))
        XCTAssertEqual(a[1], a[0], "two anchors per cell")
        XCTAssertEqual(a[2], SIMD2(1.5 / 16, 0.5 / 16))
        XCTAssertEqual(a[511], SIMD2(15.5 / 16, 15.5 / 16))
        XCTAssertEqual(a[512], SIMD2(0.5 / 8, 0.5 / 8), "then the stride-16 grid, six per cell")
        XCTAssertEqual(a[517], a[512])
        XCTAssertEqual(a[518], SIMD2(1.5 / 8, 0.5 / 8))
        XCTAssertEqual(a[895], SIMD2(7.5 / 8, 7.5 / 8))
    }

    func testDecodeAddsRegressorsOverTheInputSizeToTheAnchor() {
        var regressors = [Float](repeating: 0, count: 896 * 16)
        var logits = [Float](repeating: -5, count: 896)
        let i = 600
        logits[i] = 2
        regressors[i * 16 + 0] = 12.8   // +0.1 in x
        regressors[i * 16 + 1] = -6.4   // -0.05 in y
        regressors[i * 16 + 2] = 32     // width 0.25
        regressors[i * 16 + 3] = 64     // height 0.5
        regressors[i * 16 + 4] = 1.28   // right eye +0.01
        logits[7] = 400                 // clipped at 100, still a valid score
        regressors[7 * 16 + 2] = 10
        regressors[7 * 16 + 3] = 10
        let (candidates, best) = FaceDetector.decode(regressors: regressors, logits: logits)
        XCTAssertEqual(candidates.count, 2)
        XCTAssertEqual(best, 1)
        let d = candidates.first { abs($0.score - 1 / (1 + expf(-2))) < 1e-6 }!
        let anchor = FaceDetector.anchors[i]
        let centre = (d.boxMin + d.boxMax) / 2
        XCTAssertEqual(centre.x, anchor.x + 0.1, accuracy: 1e-6)
        XCTAssertEqual(centre.y, anchor.y - 0.05, accuracy: 1e-6)
        XCTAssertEqual(d.boxSize.x, 0.25, accuracy: 1e-6)
        XCTAssertEqual(d.boxSize.y, 0.5, accuracy: 1e-6)
        XCTAssertEqual(d.keypoints[0].x, anchor.x + 0.01, accuracy: 1e-6)
        XCTAssertEqual(d.keypoints[1], anchor)
        // Below-threshold scores still count toward the best score.
        let none = FaceDetector.decode(regressors: regressors, logits: [Float](repeating: -1, count: 896))
        XCTAssertTrue(none.candidates.isEmpty)
        XCTAssertEqual(none.bestScore, 1 / (1 + expf(1)), accuracy: 1e-6)
    }

    private func box(_ x: Float, _ y: Float, _ s: Float, score: Float, key: Float = 0) -> FaceDetection {
        FaceDetection(boxMin: SIMD2(x, y), boxMax: SIMD2(x + s, y + s), keypoints: [SIMD2(key, key)], score: score)
    }

    func testIntersectionOverUnion() {
        XCTAssertEqual(FaceDetector.intersectionOverUnion(box(0, 0, 2, score: 1), box(1, 0, 2, score: 1)), 2.0 / 6.0, accuracy: 1e-6)
        XCTAssertEqual(FaceDetector.intersectionOverUnion(box(0, 0, 1, score: 1), box(5, 5, 1, score: 1)), 0)
        XCTAssertEqual(FaceDetector.intersectionOverUnion(box(0, 0, 1, score: 1), box(0, 0, 1, score: 1)), 1)
        XCTAssertEqual(FaceDetector.intersectionOverUnion(box(0, 0, 0, score: 1), box(0, 0, 0, score: 1)), 0)
    }

    func testWeightedNMSAveragesOverlapsByScoreAndKeepsTheTopScore() {
        let merged = FaceDetector.weightedNonMaxSuppression([
            box(0, 0, 10, score: 0.6, key: 0), box(1, 0, 10, score: 0.9, key: 3), box(50, 50, 10, score: 0.7, key: 9),
            box(0.5, 0.5, 10, score: 0.55, key: 1),
        ])
        XCTAssertEqual(merged.count, 2)
        XCTAssertEqual(merged[0].score, 0.9)
        let total: Float = 0.9 + 0.6 + 0.55
        XCTAssertEqual(merged[0].boxMin.x, (1 * 0.9 + 0 * 0.6 + 0.5 * 0.55) / total, accuracy: 1e-5)
        XCTAssertEqual(merged[0].keypoints[0].x, (3 * 0.9 + 0 * 0.6 + 1 * 0.55) / total, accuracy: 1e-5)
        XCTAssertEqual(merged[1].score, 0.7)
        XCTAssertEqual(merged[1].boxMin, SIMD2(50, 50))
        XCTAssertTrue(FaceDetector.weightedNonMaxSuppression([]).isEmpty)
        // A degenerate (empty) box still ends the loop.
        XCTAssertEqual(FaceDetector.weightedNonMaxSuppression([box(0, 0, 0, score: 0.8)]).count, 1)
    }

    func testROIFromBoxAndEyes() {
        let roi = FaceROI(boxMin: SIMD2(10, 20), boxMax: SIMD2(50, 80), from: SIMD2(20, 40), to: SIMD2(40, 60), scale: 1.5)
        XCTAssertEqual(roi.center, SIMD2(30, 50))
        XCTAssertEqual(roi.width, 90)
        XCTAssertEqual(roi.height, 90)
        XCTAssertEqual(roi.rotation, Float.pi / 4, accuracy: 1e-6)
        // Crop (1, 0.5) is half a side along the rotated x axis.
        let p = roi.imagePoint(normalized: SIMD2(1, 0.5))
        XCTAssertEqual(p.x, 30 + 45 * cosf(.pi / 4), accuracy: 1e-4)
        XCTAssertEqual(p.y, 50 + 45 * sinf(.pi / 4), accuracy: 1e-4)
        XCTAssertEqual(FaceROI.normalizedAngle(3 * .pi), -.pi, accuracy: 1e-5)
        XCTAssertEqual(FaceROI.normalizedAngle(-0.5), -0.5, accuracy: 1e-6)
    }
}

/// The ROI sampler against a plain per-pixel reference built on ParlaMedia's bilinear sampler.
final class ROISamplerTests: XCTestCase {
    private func referenceCrop(_ image: RGBAImage, roi: FaceROI, size: Int, zeroBorder: Bool, mirror: Bool,
                               mean: Float, std: Float) -> [Float] {
        var out = [Float](repeating: 0, count: size * size * 3)
        for v in 0..<size {
            for u in 0..<size {
                // MediaPipe/OpenCV: output pixel (u, v) reads pixel-index coordinates; +0.5 turns them into
                // ParlaMedia's pixel-centre convention.
                let p = roi.imagePoint(normalized: SIMD2(Float(u) / Float(size), Float(v) / Float(size)))
                var s = image.sampleBilinear(x: p.x + 0.5, y: p.y + 0.5)
                if zeroBorder {
                    // Blend in black for taps outside the picture.
                    let x0 = Int(p.x.rounded(.down)), y0 = Int(p.y.rounded(.down))
                    let tx = p.x - Float(x0), ty = p.y - Float(y0)
                    func tap(_ x: Int, _ y: Int) -> SIMD4<Float> {
                        guard x >= 0, y >= 0, x < image.width, y < image.height else { return .zero }
                        let o = (y * image.width + x) * 4
                        return SIMD4(Float(image.pixels[o]), Float(image.pixels[o + 1]), Float(image.pixels[o + 2]), 0)
                    }
                    s = (tap(x0, y0) * (1 - tx) + tap(x0 + 1, y0) * tx) * (1 - ty)
                        + (tap(x0, y0 + 1) * (1 - tx) + tap(x0 + 1, y0 + 1) * tx) * ty
                }
                let column = mirror ? size - 1 - u : u
                for c in 0..<3 { out[(v * size + column) * 3 + c] = (s[c] - mean) / std }
            }
        }
        return out
    }

    func testSamplerMatchesTheReferenceOnRandomRotatedROIs() {
        var rng = SeededGenerator(seed: 2024)
        for trial in 0..<24 {
            let w = Int.random(in: 5...61, using: &rng) | 1, h = Int.random(in: 3...47, using: &rng) | 1
            let image = RGBAImage(width: w, height: h, pixels: (0..<(w * h * 4)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let roi = FaceROI(center: SIMD2(Float.random(in: -5...Float(w + 5), using: &rng), Float.random(in: -5...Float(h + 5), using: &rng)),
                              width: Float.random(in: 2...80, using: &rng), height: Float.random(in: 2...80, using: &rng),
                              rotation: Float.random(in: -3.1...3.1, using: &rng))
            let size = [7, 13, 31, 64][trial % 4]
            let zero = trial % 3 == 0, mirror = trial % 2 == 1
            let norm = InputNormalization(mean: trial % 2 == 0 ? 127.5 : 0, std: trial % 2 == 0 ? 127.5 : 255)
            var got = [Float](repeating: .nan, count: size * size * 3)
            ROISampler.sample(image, levelScale: SIMD2(1, 1), roi: roi, size: size, border: zero ? .zero : .replicate,
                              normalization: norm, mirror: mirror, into: &got)
            let want = referenceCrop(image, roi: roi, size: size, zeroBorder: zero, mirror: mirror, mean: norm.mean, std: norm.std)
            let worst = zip(got, want).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 2e-3, "trial \(trial): \(w)x\(h), size \(size)")
        }
    }

    func testPyramidLevelsAreChosenForLargeROIsAndMapCoordinates() {
        let w = 257, h = 199
        // A smooth picture, so a reduced level samples nearly the same values.
        let image = RGBAImage(width: w, height: h, pixels: (0..<(w * h)).flatMap { i -> [UInt8] in
            let x = Float(i % w), y = Float(i / w)
            return [UInt8(127 + 120 * sinf(x / 40)), UInt8(127 + 120 * cosf(y / 30)), UInt8((i / w + i % w) % 256 / 2), 255]
        })
        let pyramid = ImagePyramid(image)
        XCTAssertEqual(pyramid.levelIndex(roiSize: 291, cropSize: 192), 0)
        XCTAssertEqual(pyramid.levelIndex(roiSize: 400, cropSize: 192), 1)
        XCTAssertEqual(pyramid.levelIndex(roiSize: 900, cropSize: 192), 2)
        XCTAssertEqual(pyramid.level(1).width, 128)
        let roi = FaceROI(center: SIMD2(128, 100), width: 160, height: 160, rotation: 0.3)
        let norm = InputNormalization(mean: 0, std: 1)
        var full = [Float](repeating: 0, count: 20 * 20 * 3), reduced = full
        ROISampler.sample(image, levelScale: SIMD2(1, 1), roi: roi, size: 20, border: .replicate, normalization: norm,
                          mirror: false, into: &full)
        ROISampler.sample(pyramid, roi: roi, size: 20, border: .replicate, normalization: norm, mirror: false, into: &reduced)
        XCTAssertEqual(pyramid.levelIndex(roiSize: 160, cropSize: 20), 3)
        let mean = zip(full, reduced).map { abs($0 - $1) }.reduce(0, +) / Float(full.count)
        XCTAssertLessThan(mean, 6, "the reduced level samples the same place")
    }
}
