import ParlaMedia
import ParlaTestSupport
import XCTest
@testable import ParlaIO

/// Fit and rotation: exact pixels for small cases, and the blitter against its scalar reference.
final class FrameLayoutTests: XCTestCase {
    /// Blits `image` into a `w × h` screen (pitch padded by `padding` pixels filled with a canary) and returns the
    /// screen as 0x00RRGGBB values, row by row, checking the padding stayed untouched.
    func screen(_ image: RGBAImage, _ w: Int, _ h: Int, rotation: Rotation = .degrees0, fit: FitMode = .contain,
                background: RGBColor = RGBColor(red: 1, green: 2, blue: 3), reference: Bool = false,
                padding: Int = 3, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt32] {
        let layout = try FrameLayout(sourceWidth: image.width, sourceHeight: image.height, targetWidth: w, targetHeight: h,
                                     rotation: rotation, fit: fit)
        let blitter = FrameBlitter(layout: layout, background: background)
        let stride = w + padding
        let canary: UInt32 = 0xDEAD_BEEF
        var buffer = [UInt32](repeating: canary, count: stride * h)
        buffer.withUnsafeMutableBytes { raw in
            if reference {
                blitter.blitReference(image, into: raw.baseAddress!, pitch: stride * 4)
            } else {
                blitter.blit(image, into: raw.baseAddress!, pitch: stride * 4)
            }
        }
        var out = [UInt32]()
        for y in 0..<h {
            out += buffer[y * stride..<y * stride + w]
            XCTAssertTrue(buffer[y * stride + w..<(y + 1) * stride].allSatisfy { $0 == canary },
                          "row \(y): pitch padding overwritten", file: file, line: line)
        }
        return out
    }

    /// An image whose pixel (x, y) has red = 10·x + 1, green = 10·y + 1, blue = 7, opaque.
    func coordinateImage(_ w: Int, _ h: Int) -> RGBAImage {
        var img = RGBAImage(width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 4
                img.pixels[i] = UInt8(10 * x + 1); img.pixels[i + 1] = UInt8(10 * y + 1); img.pixels[i + 2] = 7
            }
        }
        return img
    }

    func xrgb(_ img: RGBAImage, _ x: Int, _ y: Int) -> UInt32 {
        let i = (y * img.width + x) * 4
        return UInt32(img.pixels[i]) << 16 | UInt32(img.pixels[i + 1]) << 8 | UInt32(img.pixels[i + 2])
    }

    func testIdentityCopiesExactly() throws {
        let img = coordinateImage(5, 3)
        let s = try screen(img, 5, 3)
        for y in 0..<3 { for x in 0..<5 { XCTAssertEqual(s[y * 5 + x], xrgb(img, x, y), "(\(x), \(y))") } }
    }

    func testRotationsMovePixelsClockwise() throws {
        let img = coordinateImage(3, 2)   // w 3, h 2
        let r90 = try screen(img, 2, 3, rotation: .degrees90)
        let r180 = try screen(img, 3, 2, rotation: .degrees180)
        let r270 = try screen(img, 2, 3, rotation: .degrees270)
        for y in 0..<3 {
            for x in 0..<2 {
                // 90° clockwise: the source's left column becomes the top row, read right to left.
                XCTAssertEqual(r90[y * 2 + x], xrgb(img, y, 1 - x), "90° (\(x), \(y))")
                XCTAssertEqual(r270[y * 2 + x], xrgb(img, 2 - y, x), "270° (\(x), \(y))")
            }
        }
        for y in 0..<2 { for x in 0..<3 { XCTAssertEqual(r180[y * 3 + x], xrgb(img, 2 - x, 1 - y), "180° (\(x), \(y))") } }
        // The top-left source pixel lands top-right at 90°, bottom-left at 270°.
        XCTAssertEqual(r90[1], xrgb(img, 0, 0))
        XCTAssertEqual(r270[2 * 2], xrgb(img, 0, 0))
    }

    func testContainLetterboxesWithBackground() throws {
        // 2×2 into 6×4: scale 2, content columns 1..<5, background in columns 0 and 5.
        let img = coordinateImage(2, 2)
        let bg = RGBColor(red: 9, green: 8, blue: 7)
        let s = try screen(img, 6, 4, background: bg)
        let layout = try FrameLayout(sourceWidth: 2, sourceHeight: 2, targetWidth: 6, targetHeight: 4, rotation: .degrees0, fit: .contain)
        XCTAssertEqual(layout.scale, 2)
        XCTAssertEqual(layout.contentColumns, 1..<5)
        XCTAssertEqual(layout.contentRows, 0..<4)
        for y in 0..<4 {
            XCTAssertEqual(s[y * 6], bg.xrgb)
            XCTAssertEqual(s[y * 6 + 5], bg.xrgb)
        }
        // Column 1 samples source x = 0.25 (clamped to pixel 0); column 2 samples 0.75: ¾ of pixel 0, ¼ of pixel 1.
        // Row 0 likewise clamps to source row 0.
        XCTAssertEqual(s[1], xrgb(img, 0, 0))
        let red = (1 * 192 + 11 * 64 + 128) / 256   // red 1 and 11, weights 192/64
        XCTAssertEqual(s[2], UInt32(red) << 16 | 1 << 8 | 7)
        XCTAssertEqual(s[3 * 6 + 4], xrgb(img, 1, 1))
    }

    func testCoverCropsTheMiddle() throws {
        // 4×2 into 2×2: scale 1, the middle two columns.
        let img = coordinateImage(4, 2)
        let s = try screen(img, 2, 2, fit: .cover)
        XCTAssertEqual(s, [xrgb(img, 1, 0), xrgb(img, 2, 0), xrgb(img, 1, 1), xrgb(img, 2, 1)])
        let contain = try screen(img, 2, 2, fit: .contain, background: RGBColor(red: 0, green: 0, blue: 0))
        // Contain: scale ½, content rows 0.5..<1.5 → only row 1's centre (1.5) is outside, row 0's centre 0.5 is inside.
        XCTAssertEqual(contain[2], 0)
        XCTAssertEqual(contain[3], 0)
    }

    func testTransparentPixelsShowTheBackground() throws {
        var img = RGBAImage(width: 1, height: 1, fill: (200, 100, 0, 0))
        let bg = RGBColor(red: 10, green: 20, blue: 30)
        XCTAssertEqual(try screen(img, 1, 1, background: bg), [bg.xrgb])
        img.pixels[3] = 128
        let r = (200 * 128 + 10 * 127 + 127) / 255, g = (100 * 128 + 20 * 127 + 127) / 255, b = (0 + 30 * 127 + 127) / 255
        XCTAssertEqual(try screen(img, 1, 1, background: bg), [UInt32(r << 16 | g << 8 | b)])
    }

    func testBlitMatchesReferenceOnOddSizes() throws {
        var rng = SeededGenerator(seed: 0x5EED)
        let sizes = [(9, 7), (18, 17), (25, 33), (1, 1), (13, 4)]
        let screens = [(31, 23), (7, 9), (64, 48), (1, 5), (17, 17)]
        for (sw, sh) in sizes {
            var img = RGBAImage(width: sw, height: sh)
            for i in img.pixels.indices { img.pixels[i] = UInt8.random(in: 0...255, using: &rng) }
            // Half the pixels opaque so both blend paths run.
            for i in stride(from: 3, to: img.pixels.count, by: 8) { img.pixels[i] = 255 }
            for (w, h) in screens {
                for rotation in Rotation.allCases {
                    for fit in FitMode.allCases {
                        let bg = RGBColor(red: .random(in: 0...255, using: &rng), green: .random(in: 0...255, using: &rng),
                                          blue: .random(in: 0...255, using: &rng))
                        let fast = try screen(img, w, h, rotation: rotation, fit: fit, background: bg)
                        let slow = try screen(img, w, h, rotation: rotation, fit: fit, background: bg, reference: true)
                        if let i = fast.indices.first(where: { fast[$0] != slow[$0] }) {
                            XCTFail("source \(sw)x\(sh) → screen \(w)x\(h), rotation \(rotation), \(fit): pixel (\(i % w), \(i / w)) fast \(String(fast[i], radix: 16)) reference \(String(slow[i], radix: 16))")
                        }
                    }
                }
            }
        }
    }

    /// Screens wide enough for whole SIMD steps of eight pixels plus a partial one, sources with opaque, clear and
    /// partly transparent pixels, every rotation and fit, against the scalar reference.
    func testBlitMatchesReferenceAcrossSIMDSteps() throws {
        var rng = SeededGenerator(seed: 0xB117)
        let cases = [((33, 21), (101, 77)), ((64, 63), (45, 90)), ((7, 40), (83, 19)), ((50, 50), (17, 33))]
        for ((sw, sh), (w, h)) in cases {
            var img = RGBAImage(width: sw, height: sh)
            for i in img.pixels.indices { img.pixels[i] = UInt8.random(in: 0...255, using: &rng) }
            for i in stride(from: 3, to: img.pixels.count, by: 4) {
                switch UInt8.random(in: 0...3, using: &rng) {
                case 0: img.pixels[i] = 0
                case 1, 2: img.pixels[i] = 255
                default: break   // partial alpha
                }
            }
            for rotation in Rotation.allCases {
                for fit in FitMode.allCases {
                    let bg = RGBColor(red: .random(in: 0...255, using: &rng), green: .random(in: 0...255, using: &rng),
                                      blue: .random(in: 0...255, using: &rng))
                    let fast = try screen(img, w, h, rotation: rotation, fit: fit, background: bg)
                    let slow = try screen(img, w, h, rotation: rotation, fit: fit, background: bg, reference: true)
                    if let i = fast.indices.first(where: { fast[$0] != slow[$0] }) {
                        XCTFail("source \(sw)x\(sh) → screen \(w)x\(h), rotation \(rotation), \(fit): pixel (\(i % w), \(i / w)) fast \(String(fast[i], radix: 16)) reference \(String(slow[i], radix: 16))")
                    }
                }
            }
        }
    }

    /// The blend's division by 255 (an add and two shifts per lane) equals integer division over every value the
    /// blend can produce, 0 … 255 · 255 + 127.
    func testDivideBy255IsExactOverTheBlendRange() {
        var x: UInt32 = 0
        while x <= 255 * 255 + 127 {
            var v = FrameBlitter.Channels()
            for lane in 0..<16 { v[lane] = UInt16(min(x + UInt32(lane), 255 * 255 + 127)) }
            let q = FrameBlitter.divide255(v)
            for lane in 0..<16 where q[lane] != v[lane] / 255 {
                XCTFail("\(v[lane]) / 255: \(q[lane])")
                return
            }
            x += 16
        }
    }

    func testContentOnlyBlitLeavesTheBorderAlone() throws {
        let img = coordinateImage(4, 4)
        let layout = try FrameLayout(sourceWidth: 4, sourceHeight: 4, targetWidth: 9, targetHeight: 6, rotation: .degrees270, fit: .contain)
        let blitter = FrameBlitter(layout: layout, background: RGBColor(red: 50, green: 60, blue: 70))
        var full = [UInt32](repeating: 0, count: 9 * 6), partial = [UInt32](repeating: 0xDEAD_BEEF, count: 9 * 6)
        full.withUnsafeMutableBytes { blitter.blit(img, into: $0.baseAddress!, pitch: 36) }
        partial.withUnsafeMutableBytes { blitter.blit(img, into: $0.baseAddress!, pitch: 36, background: false) }
        for y in 0..<6 {
            for x in 0..<9 {
                let inside = layout.contentColumns.contains(x) && layout.contentRows.contains(y)
                XCTAssertEqual(partial[y * 9 + x], inside ? full[y * 9 + x] : 0xDEAD_BEEF, "(\(x), \(y))")
            }
        }
        XCTAssertEqual(layout.contentColumns, 1..<7)   // 6 high, so 6 wide from x = 1.5: centres 1.5 … 6.5
    }

    func testTargetPointInvertsSourcePoint() throws {
        for rotation in Rotation.allCases {
            let layout = try FrameLayout(sourceWidth: 512, sourceHeight: 300, targetWidth: 1920, targetHeight: 1080,
                                         rotation: rotation, fit: .contain)
            for p in [SIMD2<Double>(0, 0), SIMD2(511.5, 12.25), SIMD2(256, 150)] {
                let q = layout.targetPoint(ofSource: p)
                let back = layout.sourcePoint(x: q.x, y: q.y)
                XCTAssertEqual(back.x, p.x, accuracy: 1e-9)
                XCTAssertEqual(back.y, p.y, accuracy: 1e-9)
            }
        }
    }

    func testParsingRotationFitAndColour() throws {
        XCTAssertEqual(try Rotation(parsing: "270"), .degrees270)
        XCTAssertThrowsError(try Rotation(parsing: "45")) { XCTAssertEqual("\($0)", "rotation '45' is not one of 0, 90, 180, 270") }
        XCTAssertEqual(try FitMode(parsing: "Cover"), .cover)
        XCTAssertThrowsError(try FitMode(parsing: "stretch"))
        XCTAssertEqual(try RGBColor(parsing: "#102030"), RGBColor(red: 0x10, green: 0x20, blue: 0x30))
        XCTAssertEqual(try RGBColor(parsing: "fA0"), RGBColor(red: 0xff, green: 0xaa, blue: 0))
        XCTAssertEqual(try RGBColor(parsing: "#102030").description, "#102030")
        for bad in ["", "#12345", "#gg0000", "red", "#1020304"] {
            XCTAssertThrowsError(try RGBColor(parsing: bad), bad)
        }
        XCTAssertThrowsError(try FrameLayout(sourceWidth: 0, sourceHeight: 1, targetWidth: 1, targetHeight: 1, rotation: .degrees0, fit: .cover))
    }
}
