import Foundation
import ParlaMedia
import ParlaTestSupport
import XCTest

final class ImageCodecTests: XCTestCase {
    func testDecodesGraceHopperPortraitWithExpectedPixelStatistics() throws {
        let image = try ImageCodec.decode(contentsOf: Fixtures.url("grace_hopper.jpg"))
        XCTAssertEqual(image.width, 512)
        XCTAssertEqual(image.height, 600)
        // Reference means from Pillow (also libjpeg): whole picture, top-left 100², face 100² at (200, 250),
        // bottom-left 100². Different IDCTs may differ by a fraction of a level.
        let whole = regionMean(image, x: 0, y: 0, width: 512, height: 600)
        assertClose(whole, [82.48, 72.43, 86.42, 255], tolerance: 0.5)
        assertClose(regionMean(image, x: 0, y: 0, width: 100, height: 100), [54.92, 53.90, 91.54, 255], tolerance: 0.5)
        assertClose(regionMean(image, x: 200, y: 250, width: 100, height: 100), [187.45, 110.84, 80.72, 255], tolerance: 0.5)
        assertClose(regionMean(image, x: 0, y: 500, width: 100, height: 100), [45.07, 29.91, 30.46, 255], tolerance: 0.5)
    }

    func testDecodesEveryPNGColourTypeAndDepthFromAnotherEncoder() throws {
        let names = ["rgba8", "rgb8", "gray8", "gray8_trns", "gray_alpha8", "gray1", "palette4_trns", "gray16",
                     "rgb16", "rgba16", "gray_alpha16", "rgba8_adam7"]
        for name in names {
            let image = try ImageCodec.decode(contentsOf: Fixtures.url("media/png/\(name).png"))
            let expected = try [UInt8](Data(contentsOf: Fixtures.url("media/png/\(name).rgba")))
            XCTAssertEqual(image.width, 7, name)
            XCTAssertEqual(image.height, 5, name)
            XCTAssertEqual(image.pixels, expected, name)
        }
    }

    func testPNGRoundTripKeepsEveryByte() throws {
        var rng = SeededGenerator(seed: 7)
        for (width, height, opaque) in [(1, 1, true), (13, 7, false), (64, 33, true), (3, 250, false)] {
            var pixels = (0..<width * height * 4).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if opaque { for i in stride(from: 3, to: pixels.count, by: 4) { pixels[i] = 255 } }
            let image = RGBAImage(width: width, height: height, pixels: pixels)
            let png = try ImageCodec.encodePNG(image)
            XCTAssertEqual(png[25], opaque ? 2 : 6, "colour type: RGB when opaque, RGBA otherwise")
            XCTAssertEqual(try ImageCodec.decode(data: png, name: "roundtrip.png"), image)
            XCTAssertEqual(try ImageCodec.decode(data: ImageCodec.encodePNG(image, compressionLevel: 1), name: "fast.png"), image)
        }
    }

    func testWritePNGIsAtomicAndReadable() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.png")
        let image = RGBAImage(width: 5, height: 3, fill: (10, 20, 30, 40))
        try ImageCodec.writePNG(image, to: url)
        try ImageCodec.writePNG(image, to: url)  // overwriting works too
        XCTAssertEqual(try ImageCodec.decode(contentsOf: url), image)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.png"], "no temp files left")
        let missing = dir.appendingPathComponent("no/such/dir/x.png")
        XCTAssertThrowsError(try ImageCodec.writePNG(image, to: missing)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(missing.path): cannot create a temporary file"), "\(error)")
        }
        XCTAssertThrowsError(try ImageCodec.writePNG(RGBAImage(width: 0, height: 4), to: url)) { error in
            XCTAssertEqual("\(error)", "\(url.path): cannot encode an empty 0x4 image as PNG")
        }
    }

    func testDecodesGrayProgressiveAndAdobeCMYKJPEGs() throws {
        for (name, tolerance) in [("gray", 3.0), ("progressive", 6.0), ("cmyk_adobe", 6.0)] {
            let image = try ImageCodec.decode(contentsOf: Fixtures.url("media/jpeg/\(name).jpg"))
            let expected = try [UInt8](Data(contentsOf: Fixtures.url("media/jpeg/\(name).rgba")))
            XCTAssertEqual(image.width, 32, name)
            XCTAssertEqual(image.height, 16, name)
            // Compare 8×8-block means (JPEG is lossy; ringing at block edges is expected).
            for by in 0..<2 {
                for bx in 0..<4 {
                    let got = regionMean(image, x: bx * 8 + 2, y: by * 8 + 2, width: 4, height: 4)
                    let want = regionMean(RGBAImage(width: 32, height: 16, pixels: expected), x: bx * 8 + 2, y: by * 8 + 2,
                                          width: 4, height: 4)
                    assertClose(got, want, tolerance: tolerance, "\(name) block \(bx),\(by)")
                }
            }
        }
    }

    func testLargeJPEGDecodesAndScaledDecodeShrinks() throws {
        // 6000×4000 gradient, encoded by our own encoder, decoded in full and at 1/4 scale.
        let width = 6000, height = 4000
        var pixels = [UInt8](repeating: 255, count: width * height * 4)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 4
                pixels[i] = UInt8(x * 255 / (width - 1)); pixels[i + 1] = UInt8(y * 255 / (height - 1)); pixels[i + 2] = 90
            }
        }
        let jpeg = try ImageCodec.encodeJPEG(RGBAImage(width: width, height: height, pixels: pixels), quality: 85)
        let start = Date()
        let image = try ImageCodec.decode(data: jpeg, name: "big.jpg")
        print("decode 6000x4000 JPEG: \(Int(Date().timeIntervalSince(start) * 1000)) ms")
        XCTAssertEqual(image.width, width)
        XCTAssertEqual(image.height, height)
        assertClose(regionMean(image, x: 2990, y: 1990, width: 20, height: 20), [127, 127, 90, 255], tolerance: 3)
        assertClose(regionMean(image, x: 5980, y: 3980, width: 20, height: 20), [254, 254, 90, 255], tolerance: 3)
        let small = try ImageCodec.decode(data: jpeg, name: "big.jpg", minimumSide: 900)
        XCTAssertEqual(small.width, 1500)
        XCTAssertEqual(small.height, 1000)
        assertClose(regionMean(small, x: 745, y: 495, width: 10, height: 10), [127, 127, 90, 255], tolerance: 3)
    }

    func testOversizedHeadersAreRefusedBeforeDecoding() throws {
        var jpeg = try [UInt8](Data(contentsOf: Fixtures.url("grace_hopper.jpg")))
        let sof = try XCTUnwrap(findMarker(jpeg, 0xC0))
        // SOF0: FF C0, length(2), precision(1), height(2), width(2)
        jpeg[sof + 5] = 0x75; jpeg[sof + 6] = 0x30  // 30000
        jpeg[sof + 7] = 0x75; jpeg[sof + 8] = 0x30
        assertError(try ImageCodec.decode(data: jpeg, name: "huge.jpg"),
                    "huge.jpg: JPEG is 30000x30000, larger than the limit of 20000 pixels a side and 100 megapixels")
        jpeg[sof + 5] = 0x3A; jpeg[sof + 6] = 0x98  // 15000 × 15000 = 225 MP: sides fine, area not
        jpeg[sof + 7] = 0x3A; jpeg[sof + 8] = 0x98
        assertError(try ImageCodec.decode(data: jpeg, name: "huge.jpg"),
                    "huge.jpg: JPEG is 15000x15000, larger than the limit of 20000 pixels a side and 100 megapixels")

        var png = try ImageCodec.encodePNG(RGBAImage(width: 2, height: 2))
        png.replaceSubrange(16..<24, with: [0, 0, 0x4E, 0x20, 0, 0, 0, 1])  // 20000 × 1 is fine …
        fixCRC(&png, chunkAt: 8)
        XCTAssertThrowsError(try ImageCodec.decode(data: png, name: "wide.png")) { error in
            XCTAssertFalse("\(error)".contains("limit"), "\(error)")  // … and then fails on the data instead
        }
        png.replaceSubrange(16..<24, with: [0, 0, 0x4E, 0x21, 0, 0, 0, 1])  // 20001 × 1 is not
        fixCRC(&png, chunkAt: 8)
        assertError(try ImageCodec.decode(data: png, name: "wide.png"),
                    "wide.png: PNG is 20001x1, larger than the limit of 20000 pixels a side and 100 megapixels")
    }

    func testBadFilesGiveOneLineErrorsNamingTheFile() throws {
        let jpeg = try [UInt8](Data(contentsOf: Fixtures.url("grace_hopper.jpg")))
        let png = try ImageCodec.encodePNG(RGBAImage(width: 9, height: 9, fill: (1, 2, 3, 4)))
        assertError(try ImageCodec.decode(data: [], name: "empty.jpg"), "empty.jpg: empty file")
        assertError(try ImageCodec.decode(data: Array("hello world".utf8), name: "a.jpg"),
                    "a.jpg: not a JPEG or PNG image (starts with bytes 68 65 6C 6C)")
        assertError(try ImageCodec.decode(data: Array("GIF89a....".utf8), name: "a.gif"),
                    "a.gif: not a JPEG or PNG image (it is a GIF; convert it to PNG or JPEG)")
        assertError(try ImageCodec.decode(data: Array(jpeg.prefix(jpeg.count / 2)), name: "half.jpg"),
                    "half.jpg: truncated JPEG (Premature end of JPEG file)")
        assertError(try ImageCodec.decode(data: Array(jpeg.prefix(300)), name: "head.jpg"),
                    "head.jpg: truncated JPEG (Premature end of JPEG file)")
        assertError(try ImageCodec.decode(data: [0xFF, 0xD8, 0xFF], name: "tiny.jpg"),
                    "tiny.jpg: truncated JPEG (Premature end of JPEG file)")
        XCTAssertEqual(Array(jpeg.suffix(2)), [0xFF, 0xD9])
        assertError(try ImageCodec.decode(data: Array(jpeg.dropLast(2)), name: "no-eoi.jpg"),
                    "no-eoi.jpg: truncated JPEG (Premature end of JPEG file)")
        assertError(try ImageCodec.decode(data: Array(jpeg.dropLast(40)), name: "tail.jpg"),
                    "tail.jpg: truncated JPEG (Premature end of JPEG file)")
        assertError(try ImageCodec.decode(data: Array(png.prefix(png.count - 20)), name: "cut.png"),
                    "cut.png: truncated PNG (premature end of file)")
        assertError(try ImageCodec.decode(data: Array(png.prefix(8)), name: "sig.png"),
                    "sig.png: truncated PNG (premature end of file)")
        var badCRC = png
        badCRC[29] ^= 0xFF  // last CRC byte of IHDR
        assertError(try ImageCodec.decode(data: badCRC, name: "crc.png"), "crc.png: corrupt PNG: IHDR: CRC error")
        var badData = png
        badData[badData.count - 13] ^= 0xFF  // last CRC byte of IDAT
        assertError(try ImageCodec.decode(data: badData, name: "crc2.png"), "crc2.png: corrupt PNG: IDAT: CRC error")
        var zeroPNG = png
        zeroPNG.replaceSubrange(16..<20, with: [0, 0, 0, 0])
        fixCRC(&zeroPNG, chunkAt: 8)
        assertError(try ImageCodec.decode(data: zeroPNG, name: "zero.png"), "zero.png: corrupt PNG: Image width is zero in IHDR")
        var zeroJPEG = jpeg
        let sof = try XCTUnwrap(findMarker(jpeg, 0xC0))
        zeroJPEG[sof + 7] = 0; zeroJPEG[sof + 8] = 0
        assertError(try ImageCodec.decode(data: zeroJPEG, name: "zero.jpg"), "zero.jpg: corrupt JPEG: JPEG has zero width or height")
        let missing = Fixtures.url("media/does-not-exist.png")
        assertError(try ImageCodec.decode(contentsOf: missing), "\(missing.path): cannot open: No such file or directory")
        assertError(try ImageCodec.decode(contentsOf: Fixtures.url("media")), "\(Fixtures.url("media").path): is a directory, not a file")
    }

    func testRandomCorruptionNeverCrashes() throws {
        let jpeg = try [UInt8](Data(contentsOf: Fixtures.url("media/orientation/orientation_6.jpg")))
        let png = try [UInt8](Data(contentsOf: Fixtures.url("media/png/palette4_trns.png")))
        var rng = SeededGenerator(seed: 99)
        var failures = 0
        for round in 0..<400 {
            var bytes = round % 2 == 0 ? jpeg : png
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                bytes[Int.random(in: 2..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { bytes.removeLast(Int.random(in: 0..<bytes.count / 2, using: &rng)) }
            do { _ = try ImageCodec.decode(data: bytes, name: "fuzz") } catch let error as MediaError {
                failures += 1
                XCTAssertTrue(error.description.hasPrefix("fuzz: "))
                XCTAssertFalse(error.description.contains("\n"))
            }
        }
        XCTAssertGreaterThan(failures, 100)
    }
}

// MARK: - Helpers

func regionMean(_ image: RGBAImage, x: Int, y: Int, width: Int, height: Int) -> [Double] {
    var sum = [Double](repeating: 0, count: 4)
    for yy in y..<y + height {
        for xx in x..<x + width {
            for c in 0..<4 { sum[c] += Double(image.pixels[(yy * image.width + xx) * 4 + c]) }
        }
    }
    return sum.map { $0 / Double(width * height) }
}

func assertClose(_ got: [Double], _ want: [Double], tolerance: Double, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.count, want.count, file: file, line: line)
    for (g, w) in zip(got, want) where abs(g - w) > tolerance {
        XCTFail("\(message) got \(got), want \(want) ± \(tolerance)", file: file, line: line)
        return
    }
}

func assertError<T>(_ expression: @autoclosure () throws -> T, _ text: String,
                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        XCTAssertTrue(error is MediaError, "\(type(of: error))", file: file, line: line)
        XCTAssertEqual("\(error)", text, file: file, line: line)
        XCTAssertEqual(error.localizedDescription, text, file: file, line: line)
    }
}

/// Offset of the first `FF <marker>` in a JPEG's header segments.
func findMarker(_ jpeg: [UInt8], _ marker: UInt8) -> Int? {
    var i = 2
    while i + 4 <= jpeg.count {
        guard jpeg[i] == 0xFF else { return nil }
        if jpeg[i + 1] == marker { return i }
        i += 2 + Int(jpeg[i + 2]) << 8 + Int(jpeg[i + 3])
    }
    return nil
}

/// Recomputes the CRC of the PNG chunk starting at `offset` (its length field).
func fixCRC(_ png: inout [UInt8], chunkAt offset: Int) {
    let length = Int(png[offset]) << 24 | Int(png[offset + 1]) << 16 | Int(png[offset + 2]) << 8 | Int(png[offset + 3])
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in png[offset + 4..<offset + 8 + length] {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    crc ^= 0xFFFF_FFFF
    let at = offset + 8 + length
    png[at] = UInt8(crc >> 24); png[at + 1] = UInt8(crc >> 16 & 0xFF); png[at + 2] = UInt8(crc >> 8 & 0xFF); png[at + 3] = UInt8(crc & 0xFF)
}
