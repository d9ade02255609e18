import Foundation
import ParlaMedia
import ParlaTestSupport
import XCTest

final class ExifOrientationTests: XCTestCase {
    /// Quadrant colours of the upright 32×16 fixture: top-left, top-right, bottom-left, bottom-right.
    let quadrants: [[Double]] = [[220, 30, 30, 255], [30, 200, 40, 255], [40, 60, 220, 255], [240, 240, 240, 255]]

    func testEveryOrientationInBothByteOrdersDecodesToTheSameUprightPicture() throws {
        let upright = try ImageCodec.decode(contentsOf: Fixtures.url("media/orientation/upright.png"))
        XCTAssertEqual(upright.width, 32)
        XCTAssertEqual(upright.height, 16)
        for n in 1...8 {
            for suffix in ["", "_intel"] {
                let name = "media/orientation/orientation_\(n)\(suffix).jpg"
                let bytes = try [UInt8](Data(contentsOf: Fixtures.url(name)))
                XCTAssertEqual(ExifOrientation.read(fromJPEG: bytes).rawValue, n, name)
                let image = try ImageCodec.decode(data: bytes, name: name)
                XCTAssertEqual(image.width, 32, name)
                XCTAssertEqual(image.height, 16, name)
                // Quadrant centres carry the upright colours; JPEG noise stays small.
                for (q, colour) in quadrants.enumerated() {
                    let x = (q % 2) * 16 + 4, y = (q / 2) * 8 + 2
                    assertClose(regionMean(image, x: x, y: y, width: 8, height: 4), colour, tolerance: 8, "\(name) q\(q)")
                }
                var worst = 0
                for (a, b) in zip(image.pixels, upright.pixels) { worst = max(worst, abs(Int(a) - Int(b))) }
                XCTAssertLessThan(worst, 60, "\(name): max difference from upright")
            }
        }
    }

    func testApplyingOrientationMatchesTheEXIFDefinitionOnA3x2Image() {
        // Stored:  a b c
        //          d e f
        let stored = RGBAImage(width: 3, height: 2, pixels: (1...6).flatMap { [UInt8($0), 0, 0, 255] })
        func letters(_ image: RGBAImage) -> String {
            var rows: [String] = []
            for y in 0..<image.height {
                rows.append(String((0..<image.width).map { x in
                    Character(UnicodeScalar(UInt8(96) + image.pixels[(y * image.width + x) * 4]))
                }))
            }
            return rows.joined(separator: "/")
        }
        let expected: [ExifOrientation: String] = [
            .up: "abc/def", .upMirrored: "cba/fed", .down: "fed/cba", .downMirrored: "def/abc",
            .leftMirrored: "ad/be/cf", .right: "da/eb/fc", .rightMirrored: "fc/eb/da", .left: "cf/be/ad",
        ]
        for orientation in ExifOrientation.allCases {
            XCTAssertEqual(letters(stored.applyingOrientation(orientation)), expected[orientation], "\(orientation)")
        }
    }

    func testTIFFParsingInBothByteOrdersAndOddTypes() {
        func tiff(bigEndian: Bool, type: UInt16, value: UInt32, entries: UInt16 = 1, ifdOffset: UInt32 = 8) -> [UInt8] {
            func u16(_ v: UInt16) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
            func u32(_ v: UInt32) -> [UInt8] { bigEndian ? u16(UInt16(v >> 16)) + u16(UInt16(v & 0xFFFF)) : u16(UInt16(v & 0xFFFF)) + u16(UInt16(v >> 16)) }
            let value: [UInt8] = type == 3 ? u16(UInt16(value)) + [0, 0] : u32(value)
            return (bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]) + u16(42) + u32(ifdOffset) + u16(entries)
                + u16(0x0112) + u16(type) + u32(1) + value + u32(0)
        }
        XCTAssertEqual(ExifOrientation.read(fromTIFF: tiff(bigEndian: true, type: 3, value: 6)), .right)
        XCTAssertEqual(ExifOrientation.read(fromTIFF: tiff(bigEndian: false, type: 3, value: 8)), .left)
        XCTAssertEqual(ExifOrientation.read(fromTIFF: tiff(bigEndian: false, type: 4, value: 3)), .down)
        XCTAssertEqual(ExifOrientation.read(fromTIFF: tiff(bigEndian: false, type: 3, value: 9)), .up, "out of range")
        XCTAssertEqual(ExifOrientation.read(fromTIFF: tiff(bigEndian: false, type: 3, value: 0)), .up, "zero")
        XCTAssertEqual(ExifOrientation.read(fromTIFF: tiff(bigEndian: false, type: 2, value: 6)), .up, "ASCII type")
        XCTAssertEqual(ExifOrientation.read(fromTIFF: tiff(bigEndian: true, type: 3, value: 6, entries: 500)), .right,
                       "the entry is found before the count runs off the end")
        XCTAssertEqual(ExifOrientation.read(fromTIFF: tiff(bigEndian: true, type: 3, value: 6, ifdOffset: 4000)), .up)
        XCTAssertEqual(ExifOrientation.read(fromTIFF: tiff(bigEndian: true, type: 3, value: 6, ifdOffset: 0xFFFF_FFFF)), .up)
        XCTAssertEqual(ExifOrientation.read(fromTIFF: tiff(bigEndian: true, type: 3, value: 6, ifdOffset: 2)), .up)
        XCTAssertEqual(ExifOrientation.read(fromTIFF: []), .up)
        XCTAssertEqual(ExifOrientation.read(fromTIFF: Array(tiff(bigEndian: true, type: 3, value: 6).prefix(15))), .up)
    }

    func testCorruptEXIFIsIgnoredAndNeverCrashes() throws {
        let good = try [UInt8](Data(contentsOf: Fixtures.url("media/orientation/orientation_6_intel.jpg")))
        // APP1 starts at 2: FF E1 len(2) "Exif\0\0" TIFF…; the TIFF starts at 12.
        var badOffset = good
        badOffset[16] = 0xFF; badOffset[17] = 0xFF  // IFD offset far beyond the segment
        let image = try ImageCodec.decode(data: badOffset, name: "bad-exif.jpg")
        XCTAssertEqual(image.width, 16, "left as stored (16×32) when the EXIF cannot be read")
        XCTAssertEqual(image.height, 32)
        var badLength = good
        badLength[4] = 0xFF; badLength[5] = 0xFF  // segment length past the end of the file
        XCTAssertEqual(ExifOrientation.read(fromJPEG: badLength), .up)

        var rng = SeededGenerator(seed: 5)
        for _ in 0..<3000 {
            var bytes = Array(good.prefix(64 + Int.random(in: 0..<64, using: &rng)))
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 2..<min(bytes.count, 60), using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = ExifOrientation.read(fromJPEG: bytes)  // must return, whatever it finds
        }
        var random = [UInt8](repeating: 0, count: 256)
        for _ in 0..<3000 {
            for i in random.indices { random[i] = UInt8.random(in: 0...255, using: &rng) }
            random[0] = 0x4D; random[1] = 0x4D
            _ = ExifOrientation.read(fromTIFF: random)
        }
    }
}
