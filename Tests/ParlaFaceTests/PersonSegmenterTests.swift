import Foundation
@testable import ParlaFace
import ParlaMedia
import ParlaTestSupport
import XCTest

/// MediaPipe's selfie segmentation through `PersonSegmenter`: the mask has the portrait's size and shape, the int8
/// model agrees with the fp32 one (mask IoU at probability 0.5), and bad input gets a clear error.
final class PersonSegmenterTests: XCTestCase {
    private static func iou(_ a: PersonMask, _ b: PersonMask) -> Double {
        var inter = 0, union = 0
        for (x, y) in zip(a.values, b.values) {
            let p = x >= 128, q = y >= 128
            inter += p && q ? 1 : 0
            union += p || q ? 1 : 0
        }
        return union == 0 ? 1 : Double(inter) / Double(union)
    }

    /// Grace Hopper's portrait (the demo portrait): the person is in the middle and at the bottom, the studio
    /// backdrop at the top corners is background; the mask covers the picture.
    func testMaskOfPortraitLooksRight() throws {
        let image = try FaceFixtures.portrait()
        let reference = try ReferenceLandmarks.load()
        for precision in ModelPrecision.allCases {
            let mask = try PersonSegmenter(precision: precision).segment(image, name: "grace_hopper.jpg")
            XCTAssertEqual([mask.width, mask.height], [image.width, image.height])
            XCTAssertEqual(mask.values.count, image.width * image.height)
            // Face (nose tip, landmark 1) and the middle of the bottom row (her uniform): person.
            let nose = reference.landmarks[1]
            XCTAssertGreaterThan(mask.probability(x: Int(nose.x), y: Int(nose.y)), 0.9, "\(precision) nose")
            XCTAssertGreaterThan(mask.probability(x: image.width / 2, y: image.height - 2), 0.9, "\(precision) chest")
            // Top corners: backdrop.
            XCTAssertLessThan(mask.probability(x: 3, y: 3), 0.1, "\(precision) top left")
            XCTAssertLessThan(mask.probability(x: image.width - 4, y: 3), 0.1, "\(precision) top right")
            let coverage = mask.coverage()
            XCTAssertTrue((0.3...0.85).contains(coverage), "\(precision) coverage \(coverage)")
            print("person mask \(precision): coverage \(coverage)")
        }
    }

    /// int8 against fp32 on portraits never used to calibrate the int8 model (the calibration used another person):
    /// Grace Hopper as is, mirrored, cropped to her head and shoulders, and scaled down.
    func testInt8MaskMatchesFloatMask() throws {
        let image = try FaceFixtures.portrait()
        let int8 = try PersonSegmenter(precision: .int8), fp32 = try PersonSegmenter(precision: .fp32)
        var mirrored = image
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<4 { mirrored.pixels[(y * image.width + x) * 4 + c] = image.pixels[(y * image.width + image.width - 1 - x) * 4 + c] }
            }
        }
        var cropped = RGBAImage(width: 360, height: 400)
        for y in 0..<400 {
            for x in 0..<360 {
                for c in 0..<4 { cropped.pixels[(y * 360 + x) * 4 + c] = image.pixels[((y + 60) * image.width + x + 76) * 4 + c] }
            }
        }
        let cases: [(String, RGBAImage)] = [("portrait", image), ("mirrored", mirrored), ("cropped", cropped),
                                            ("small", image.resized(width: 171, height: 200))]
        var ious: [Double] = []
        for (name, picture) in cases {
            let a = try int8.segment(picture, name: name), b = try fp32.segment(picture, name: name)
            let iou = PersonSegmenterTests.iou(a, b)
            ious.append(iou)
            XCTAssertGreaterThanOrEqual(iou, 0.95, "\(name): int8 vs fp32 mask IoU")
        }
        print("person mask int8 vs fp32 IoU: " + zip(cases, ious).map { "\($0.0) \(String(format: "%.4f", $1))" }.joined(separator: ", "))
    }

    func testResizeMapsPixelCentres() {
        // A 256-wide map resized to 256 is unchanged; a constant map stays constant at any size.
        let ramp = (0..<(256 * 256)).map { Float($0 % 256) / 255 }
        let same = PersonSegmenter.resize(ramp, side: 256, toWidth: 256, height: 256)
        XCTAssertEqual(same.values[0..<256].map(Int.init), Array(0..<256))
        let half = PersonSegmenter.resize([Float](repeating: 0.5, count: 256 * 256), side: 256, toWidth: 37, height: 1001)
        XCTAssertTrue(half.values.allSatisfy { $0 == 128 })
        // Out-of-range and NaN model values are clamped.
        let wild = PersonSegmenter.resize([Float](repeating: .nan, count: 4) + [Float](repeating: 7, count: 256 * 256 - 4),
                                          side: 256, toWidth: 1, height: 1)
        XCTAssertEqual(wild.values, [255])
        XCTAssertEqual(PersonSegmenter.resize([Float](repeating: .nan, count: 256 * 256), side: 256, toWidth: 2, height: 2).values,
                       [0, 0, 0, 0])
    }

    func testBadInputGivesClearErrors() throws {
        let segmenter = try PersonSegmenter()
        XCTAssertThrowsError(try segmenter.segment(RGBAImage(width: 0, height: 0, pixels: []), name: "empty.png")) { error in
            XCTAssertEqual((error as? FaceError)?.kind, .image)
            XCTAssertEqual("\(error)", "empty.png: the picture is empty")
        }
        // A model that is not the segmenter.
        XCTAssertThrowsError(try PersonSegmenter(model: FaceModels().detector)) { error in
            XCTAssertEqual((error as? FaceError)?.kind, .model)
            XCTAssertTrue("\(error)".contains("[1, 256, 256, 3]"), "\(error)")
        }
        let nowhere = URL(fileURLWithPath: "/nonexistent-parla-models")
        XCTAssertThrowsError(try PersonSegmenter(directory: nowhere, precision: .fp32)) { error in
            XCTAssertEqual((error as? FaceError)?.kind, .model)
            XCTAssertEqual("\(error)", "/nonexistent-parla-models/selfie_segmentation.pmdl: face model file is missing")
        }
    }
}
