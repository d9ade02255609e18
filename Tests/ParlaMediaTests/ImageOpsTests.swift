import Foundation
import ParlaMedia
import ParlaTestSupport
import XCTest

final class ImageOpsTests: XCTestCase {
    func testConstantImageStaysConstantAtAnySize() {
        let image = RGBAImage(width: 37, height: 23, fill: (200, 17, 99, 128))
        for (w, h) in [(1, 1), (5, 3), (18, 11), (37, 23), (38, 24), (100, 7), (3, 90), (111, 69)] {
            let out = image.resized(width: w, height: h)
            XCTAssertEqual(out, RGBAImage(width: w, height: h, fill: (200, 17, 99, 128)), "\(w)x\(h)")
        }
    }

    func testHalvingACheckerboardAveragesEachPair() {
        // 1-pixel checkerboard: every 2×2 block holds two 0s and two 255s → 127.5 rounds to 128.
        var pixels = [UInt8]()
        for y in 0..<10 { for x in 0..<14 { let v: UInt8 = (x + y) % 2 == 0 ? 255 : 0; pixels += [v, v, v, 255] } }
        let board = RGBAImage(width: 14, height: 10, pixels: pixels)
        XCTAssertEqual(board.resized(width: 7, height: 5), RGBAImage(width: 7, height: 5, fill: (128, 128, 128, 255)))
        // 2-pixel stripes shrink by 2 to 1-pixel stripes exactly.
        var stripes = [UInt8]()
        for _ in 0..<4 { for x in 0..<8 { let v: UInt8 = (x / 2) % 2 == 0 ? 40 : 220; stripes += [v, v, v, 255] } }
        let halved = RGBAImage(width: 8, height: 4, pixels: stripes).resized(width: 4, height: 2)
        XCTAssertEqual(halved.pixels.enumerated().filter { $0.offset % 4 == 0 }.map(\.element), [40, 220, 40, 220, 40, 220, 40, 220])
        // A 3→2 shrink splits the middle pixel: [0, 90, 180] → [30, 150].
        let third = RGBAImage(width: 3, height: 1, pixels: [0, 0, 0, 255, 90, 90, 90, 255, 180, 180, 180, 255])
        XCTAssertEqual(third.resized(width: 2, height: 1).pixels, [30, 30, 30, 255, 150, 150, 150, 255])
    }

    func testEnlargingInterpolatesBilinearlyWithEdgeClamp() {
        let ramp = RGBAImage(width: 2, height: 1, pixels: [0, 0, 0, 255, 200, 200, 200, 255])
        // 2 → 4: centres at -0.25, 0.25, 0.75, 1.25 in source pixels → 0, 50, 150, 200.
        XCTAssertEqual(ramp.resized(width: 4, height: 1).pixels.enumerated().filter { $0.offset % 4 == 0 }.map(\.element),
                       [0, 50, 150, 200])
    }

    func testFastResizeMatchesScalarReferenceOnRandomOddSizes() {
        var rng = SeededGenerator(seed: 21)
        for _ in 0..<40 {
            let w = Int.random(in: 1...45, using: &rng), h = Int.random(in: 1...45, using: &rng)
            let image = RGBAImage(width: w, height: h, pixels: (0..<w * h * 4).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let nw = Int.random(in: 1...70, using: &rng), nh = Int.random(in: 1...70, using: &rng)
            let fast = image.resized(width: nw, height: nh)
            let reference = image.resizedReference(width: nw, height: nh)
            var worst = 0
            for (a, b) in zip(fast.pixels, reference.pixels) { worst = max(worst, abs(Int(a) - Int(b))) }
            XCTAssertLessThanOrEqual(worst, 1, "\(w)x\(h) → \(nw)x\(nh)")
        }
    }

    func testEmptyImagesResizeAndCropWithoutTrapping() {
        XCTAssertEqual(RGBAImage(width: 0, height: 0).resized(width: 3, height: 2), RGBAImage(width: 3, height: 2, fill: (0, 0, 0, 0)))
        XCTAssertEqual(RGBAImage(width: 4, height: 4).resized(width: 0, height: 5).pixels.count, 0)
        XCTAssertEqual(RGBAImage(width: 0, height: 3).cropped(x: 1, y: 1, width: 2, height: 2), RGBAImage(width: 2, height: 2, fill: (0, 0, 0, 0)))
        XCTAssertEqual(RGBAImage(width: 0, height: 3).sampleBilinear(x: 1, y: 1), .zero)
    }

    func testCropCopiesInsideAndReplicatesEdgesOutside() {
        // 3×2 image with pixel value = 10·(y·3 + x) + 1.
        let image = RGBAImage(width: 3, height: 2, pixels: (0..<6).flatMap { [UInt8(10 * $0 + 1), 0, 0, 255] })
        func reds(_ i: RGBAImage) -> [UInt8] { stride(from: 0, to: i.pixels.count, by: 4).map { i.pixels[$0] } }
        XCTAssertEqual(reds(image.cropped(x: 1, y: 0, width: 2, height: 2)), [11, 21, 41, 51])
        XCTAssertEqual(reds(image.cropped(x: -2, y: -1, width: 7, height: 4)), [
            1, 1, 1, 11, 21, 21, 21,
            1, 1, 1, 11, 21, 21, 21,
            31, 31, 31, 41, 51, 51, 51,
            31, 31, 31, 41, 51, 51, 51,
        ])
        XCTAssertEqual(reds(image.cropped(x: 10, y: 10, width: 2, height: 1)), [51, 51])
        XCTAssertEqual(reds(image.cropped(x: -10, y: 0, width: 2, height: 1)), [1, 1])
        XCTAssertEqual(reds(image.cropped(x: Int.min, y: Int.max, width: 2, height: 1)), [31, 31])
        XCTAssertEqual(reds(image.cropped(x: Int.max, y: Int.min, width: 2, height: 1)), [21, 21])
    }

    func testCropMatchesPerPixelClampOnRandomRegions() {
        var rng = SeededGenerator(seed: 3)
        let w = 17, h = 11
        let image = RGBAImage(width: w, height: h, pixels: (0..<w * h * 4).map { _ in UInt8.random(in: 0...255, using: &rng) })
        for _ in 0..<200 {
            let x = Int.random(in: -30...30, using: &rng), y = Int.random(in: -30...30, using: &rng)
            let cw = Int.random(in: 1...40, using: &rng), ch = Int.random(in: 1...40, using: &rng)
            let crop = image.cropped(x: x, y: y, width: cw, height: ch)
            for yy in 0..<ch {
                for xx in 0..<cw {
                    let sx: Int = min(max(x + xx, 0), w - 1), sy: Int = min(max(y + yy, 0), h - 1)
                    let cropBase: Int = (yy * cw + xx) * 4, imageBase: Int = (sy * w + sx) * 4
                    for c in 0..<4 where crop.pixels[cropBase + c] != image.pixels[imageBase + c] {
                        XCTFail("crop \(x),\(y) \(cw)x\(ch) differs at \(xx),\(yy)")
                        return
                    }
                }
            }
        }
    }

    func testSampleBilinearHitsCentresInterpolatesAndClamps() {
        let image = RGBAImage(width: 2, height: 2, pixels: [0, 0, 0, 0, 100, 0, 0, 0, 0, 200, 0, 0, 100, 200, 40, 255])
        XCTAssertEqual(image.sampleBilinear(x: 0.5, y: 0.5), SIMD4(0, 0, 0, 0))
        XCTAssertEqual(image.sampleBilinear(x: 1.5, y: 1.5), SIMD4(100, 200, 40, 255))
        XCTAssertEqual(image.sampleBilinear(x: 1.0, y: 1.0), SIMD4(50, 100, 10, 63.75))
        XCTAssertEqual(image.sampleBilinear(x: 1.0, y: 0.5), SIMD4(50, 0, 0, 0))
        XCTAssertEqual(image.sampleBilinear(x: -5, y: -5), SIMD4(0, 0, 0, 0))
        XCTAssertEqual(image.sampleBilinear(x: 50, y: 0.5), SIMD4(100, 0, 0, 0))
        XCTAssertEqual(image.sampleBilinear(x: .infinity, y: .nan), SIMD4(100, 0, 0, 0))
    }

    func testResizingAFourThousandPixelPhotoIsFast() {
        #if DEBUG
        let (w, h) = (1000, 750)  // timing means nothing unoptimised; keep the debug run short
        #else
        let (w, h) = (4000, 3000)
        #endif
        var pixels = [UInt8](repeating: 255, count: w * h * 4)
        for y in 0..<h { for x in 0..<w { let i = (y * w + x) * 4; pixels[i] = UInt8(x & 255); pixels[i + 1] = UInt8(y & 255) } }
        let image = RGBAImage(width: w, height: h, pixels: pixels)
        let start = Date()
        let small = image.resized(width: 1024, height: 768)
        print("resize \(w)x\(h) → 1024x768: \(Int(Date().timeIntervalSince(start) * 1000)) ms")
        XCTAssertEqual(small.width, 1024)
        XCTAssertEqual(small.height, 768)
        // Spot-check a corner against the reference formula (an exact 4:1 shrink).
        let ref = image.cropped(x: 0, y: 0, width: 40, height: 40).resizedReference(width: 10, height: 10)
        let got = image.resized(width: w / 4, height: h / 4).cropped(x: 0, y: 0, width: 10, height: 10)
        XCTAssertEqual(ref, got)
    }
}
