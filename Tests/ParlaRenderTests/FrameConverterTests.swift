import XCTest
import ParlaMedia
import ParlaMotion
import ParlaTestSupport
@testable import ParlaRender

final class FrameConverterTests: XCTestCase {
    private static func randomImage(_ w: Int, _ h: Int, seed: UInt64) -> RGBAImage {
        var rng = SeededGenerator(seed: seed)
        var image = RGBAImage(width: w, height: h)
        for i in image.pixels.indices { image.pixels[i] = UInt8.random(in: 0...255, using: &rng) }
        return image
    }

    private static func convert(_ image: RGBAImage, _ rotation: FrameRotation, _ w: Int, _ h: Int, _ format: FramePixelFormat) throws -> [UInt8] {
        let c = try FrameConverter(sourceWidth: image.width, sourceHeight: image.height, rotation: rotation, width: w, height: h, format: format)
        var out = [UInt8](repeating: 0, count: c.byteCount)
        try out.withUnsafeMutableBytes { try c.convert(image, into: $0) }
        return out
    }

    func testUnscaledRotationsMoveEveryPixelExactly() throws {
        let (w, h) = (19, 17)
        let image = Self.randomImage(w, h, seed: 3)
        func at(_ x: Int, _ y: Int) -> ArraySlice<UInt8> { image.pixels[((y * w + x) * 4)..<((y * w + x) * 4 + 4)] }
        XCTAssertEqual(try Self.convert(image, .degrees0, w, h, .rgba), image.pixels)
        let r90 = try Self.convert(image, .degrees90, h, w, .rgba)
        let r180 = try Self.convert(image, .degrees180, w, h, .rgba)
        let r270 = try Self.convert(image, .degrees270, h, w, .rgba)
        for y in 0..<h {
            for x in 0..<w {
                // Clockwise 90°: source (x, y) lands at (h−1−y, x) in the h×w result.
                let o90 = (x * h + (h - 1 - y)) * 4
                XCTAssertEqual(Array(r90[o90..<(o90 + 4)]), Array(at(x, y)), "90° at \(x),\(y)")
                let o180 = ((h - 1 - y) * w + (w - 1 - x)) * 4
                XCTAssertEqual(Array(r180[o180..<(o180 + 4)]), Array(at(x, y)), "180° at \(x),\(y)")
                let o270 = ((w - 1 - x) * h + y) * 4
                XCTAssertEqual(Array(r270[o270..<(o270 + 4)]), Array(at(x, y)), "270° at \(x),\(y)")
            }
        }
    }

    func testXRGBIsBGRXAndNV12FollowsBT601LimitedRange() throws {
        let (w, h) = (18, 10)
        let image = Self.randomImage(w, h, seed: 9)
        let xrgb = try Self.convert(image, .degrees0, w, h, .xrgb8888)
        let nv12 = try Self.convert(image, .degrees0, w, h, .nv12)
        XCTAssertEqual(nv12.count, w * h * 3 / 2)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 4
                let r = Int(image.pixels[i]), g = Int(image.pixels[i + 1]), b = Int(image.pixels[i + 2])
                XCTAssertEqual([xrgb[i], xrgb[i + 1], xrgb[i + 2], xrgb[i + 3]], [UInt8(b), UInt8(g), UInt8(r), 255])
                XCTAssertEqual(Int(nv12[y * w + x]), (66 * r + 129 * g + 25 * b + 128) / 256 + 16)
            }
        }
        for cy in 0..<(h / 2) {
            for cx in 0..<(w / 2) {
                var sum = [0, 0, 0]
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let i = ((cy * 2 + dy) * w + cx * 2 + dx) * 4
                    for c in 0..<3 { sum[c] += Int(image.pixels[i + c]) }
                }
                let m = sum.map { ($0 + 2) / 4 }
                let u = (-38 * m[0] - 74 * m[1] + 112 * m[2] + 128) >> 8 + 128
                let v = (112 * m[0] - 94 * m[1] - 18 * m[2] + 128) >> 8 + 128
                let o = w * h + cy * w + cx * 2
                XCTAssertEqual(Int(nv12[o]), u, "U at \(cx),\(cy)")
                XCTAssertEqual(Int(nv12[o + 1]), v, "V at \(cx),\(cy)")
            }
        }
        XCTAssertThrowsError(try FrameConverter(sourceWidth: 32, sourceHeight: 32, width: 31, height: 32, format: .nv12))
    }

    func testScalingAFlatImageKeepsItFlatAndHalvingAveragesPairs() throws {
        var flat = RGBAImage(width: 40, height: 30, fill: (200, 100, 50, 255))
        XCTAssertEqual(Set(try Self.convert(flat, .degrees90, 77, 101, .rgba)), Set([200, 100, 50, 255]))
        for x in 0..<40 { for y in 0..<30 { flat.pixels[(y * 40 + x) * 4] = x % 2 == 0 ? 0 : 200 } }
        let half = try Self.convert(flat, .degrees0, 20, 15, .rgba)
        for p in 0..<(20 * 15) { XCTAssertEqual(half[p * 4], 100, "pixel \(p): the average of a 0/200 pair") }
    }

    func testRowBandThreadsGiveTheOneThreadPicture() throws {
        let rig = DecoderTestSupport.smoothRig(for: SyntheticAvatar(side: 90), names: ["mouthFunnel"], amplitude: 3, seed: 2)
        let synthetic = SyntheticAvatar(side: 90, extraRig: rig)
        var rng = SeededGenerator(seed: 4)
        for (w, h, threads) in [(131, 97, 2), (64, 200, 3), (90, 90, 7)] {
            let one = try CPUFrameDecoder(avatar: synthetic.avatar, width: w, height: h)
            let many = try CPUFrameDecoder(avatar: synthetic.avatar, width: w, height: h, threads: threads)
            var a = RGBAImage(width: w, height: h), b = RGBAImage(width: w, height: h)
            for _ in 0..<5 {
                let frame = DecoderTestSupport.randomFrame(&rng, head: 0.3)
                try one.decode(frame, into: &a)
                try many.decode(frame, into: &b)
                XCTAssertEqual(a, b, "\(w)x\(h), \(threads) bands")
            }
        }
    }
}
