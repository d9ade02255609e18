import Foundation
import ParlaMedia
import ParlaMotion
import ParlaRender
import ParlaLiveTestSupport
import ParlaTestSupport
import XCTest
@testable import ParlaIO
@testable import ParlaRuntime

/// The `--hud` overlay: the font reads back, the text turns with `--rotate`, only the box is touched, and
/// without `--hud` nothing is drawn.
final class HUDTests: XCTestCase {
    func testFontGlyphsAreDistinctAndFitTheirCell() {
        let all = BitmapFont.characters
        XCTAssertGreaterThanOrEqual(all.count, 36 + 5)
        for c in all {
            let g = BitmapFont.glyph(c)
            XCTAssertEqual(g.count, BitmapFont.glyphHeight, "\(c)")
            XCTAssertTrue(g.allSatisfy { $0 < 32 }, "\(c) is wider than 5 pixels")
        }
        for (i, a) in all.enumerated() {
            for b in all[(i + 1)...] { XCTAssertNotEqual(BitmapFont.glyph(a), BitmapFont.glyph(b), "\(a) and \(b)") }
        }
        XCTAssertEqual(BitmapFont.glyph("m"), BitmapFont.glyph("M"))
        XCTAssertEqual(BitmapFont.glyph("€"), BitmapFont.glyph("?"))
        XCTAssertFalse(BitmapFont.covers("€"))
    }

    func testTextReadsBackInEveryRotationAndOnlyTheBoxChanges() {
        let lines = ["FPS 29.9  FRAME 12.3 MS", "LAG 85 MS  DROPPED 3", "CPU 47 C"]
        let columns = lines.map(\.count).max()!
        for rotation in Rotation.allCases {
            let (w, h) = (333, 251)   // odd sizes
            let overlay = HUDOverlay(screenWidth: w, screenHeight: h, rotation: rotation, scale: 1)
            let canary: UInt32 = 0x00_12_34_56
            var screen = [UInt32](repeating: canary, count: w * h)
            screen.withUnsafeMutableBytes { overlay.draw(lines, into: $0.baseAddress!, pitch: w * 4) }
            let padded = lines.map { $0.padding(toLength: columns, withPad: " ", startingAt: 0) }
            XCTAssertEqual(overlay.readText(screen, lines: lines.count, columns: columns), padded, "\(rotation)")
            // Every changed pixel lies in the box (viewer coordinates), every box pixel changed.
            let b = overlay.box(for: lines)
            var inBox = Set<Int>()
            for v in b.y..<(b.y + b.height) {
                for u in b.x..<(b.x + b.width) {
                    let (x, y) = overlay.screenPoint(u: u, v: v)
                    inBox.insert(y * w + x)
                }
            }
            for i in screen.indices {
                if inBox.contains(i) {
                    XCTAssertNotEqual(screen[i], canary, "\(rotation): box pixel \(i) not drawn")
                } else if screen[i] != canary {
                    XCTFail("\(rotation): pixel \(i % w),\(i / w) outside the box changed"); break
                }
            }
            // The box sits in the viewer's top-left corner: for 90°, the screen's top-right.
            let corner = overlay.screenPoint(u: b.x, v: b.y)
            switch rotation {
            case .degrees0: XCTAssertEqual(corner.x, overlay.margin); XCTAssertEqual(corner.y, overlay.margin)
            case .degrees90: XCTAssertEqual(corner.x, w - 1 - overlay.margin); XCTAssertEqual(corner.y, overlay.margin)
            case .degrees180: XCTAssertEqual(corner.x, w - 1 - overlay.margin); XCTAssertEqual(corner.y, h - 1 - overlay.margin)
            case .degrees270: XCTAssertEqual(corner.x, overlay.margin); XCTAssertEqual(corner.y, h - 1 - overlay.margin)
            }
        }
    }

    /// The GPU path's overlay image is what `draw` writes, cut out at `screenRect`: put back into a screen at that
    /// rectangle it gives the same screen, in every rotation, with the box whole or clipped by the screen's edge.
    func testImageIsTheDrawnBoxInItsScreenRectangle() {
        let lines = LivePainter.hudLines(LiveHUD.Reading(fps: 29.9, frameMilliseconds: 12.3, lagMilliseconds: 85,
                                                         dropped: 3, cpuCelsius: 47))
        for (w, h, scale) in [(333, 251, 1), (517, 483, 2), (97, 20, 1), (21, 150, 2)] {
            for rotation in Rotation.allCases {
                let overlay = HUDOverlay(screenWidth: w, screenHeight: h, rotation: rotation, scale: scale)
                let canary: UInt32 = 0x00_12_34_56
                var drawn = [UInt32](repeating: canary, count: w * h)
                drawn.withUnsafeMutableBytes { overlay.draw(lines, into: $0.baseAddress!, pitch: w * 4) }
                let image = overlay.image(for: lines)
                let shape = "\(w)x\(h) scale \(scale), rotate \(rotation)"
                XCTAssertGreaterThan(image.width * image.height, 0, shape)
                XCTAssertTrue(image.x >= 0 && image.y >= 0 && image.x + image.width <= w && image.y + image.height <= h, shape)
                var pasted = [UInt32](repeating: canary, count: w * h)
                for y in 0..<image.height {
                    for x in 0..<image.width {
                        let i = 4 * (y * image.width + x)
                        XCTAssertEqual(image.rgba[i + 3], 255, shape)
                        pasted[(image.y + y) * w + image.x + x] =
                            UInt32(image.rgba[i]) << 16 | UInt32(image.rgba[i + 1]) << 8 | UInt32(image.rgba[i + 2])
                    }
                }
                XCTAssertEqual(pasted, drawn, "\(shape): the image differs from the drawn box")
                // Every pixel of the rectangle is the box's (no canary left inside it).
                for y in image.y..<(image.y + image.height) {
                    XCTAssertFalse(pasted[(y * w + image.x)..<(y * w + image.x + image.width)].contains(canary), "\(shape): row \(y)")
                }
            }
        }
        let offScreen = HUDOverlay(screenWidth: 3, screenHeight: 3, scale: 1)   // the margin alone is 4 pixels
        XCTAssertEqual(offScreen.image(for: lines).rgba.count, 0)
        XCTAssertEqual(HUDOverlay(screenWidth: 50, screenHeight: 50).image(for: []).rgba.count, 0)
    }

    func testScaleGrowsWithTheScreenAndClipsAtItsEdge() {
        XCTAssertEqual(HUDOverlay(screenWidth: 640, screenHeight: 480).scale, 2)
        XCTAssertEqual(HUDOverlay(screenWidth: 1920, screenHeight: 1080).scale, 4)
        XCTAssertEqual(HUDOverlay(screenWidth: 100, screenHeight: 60).scale, 1)
        // A screen smaller than the box: drawing stays inside the buffer (a canary row after it).
        let (w, h) = (40, 9)
        let overlay = HUDOverlay(screenWidth: w, screenHeight: h, scale: 1)
        var screen = [UInt32](repeating: 7, count: w * (h + 1))
        screen.withUnsafeMutableBytes { overlay.draw(["A LONG LINE THAT DOES NOT FIT", "TWO"], into: $0.baseAddress!, pitch: w * 4) }
        XCTAssertTrue(screen[(w * h)...].allSatisfy { $0 == 7 })
        XCTAssertTrue(screen[..<(w * h)].contains(overlay.textColor))
        // A screen smaller than the margin: nothing of the box shows, nothing is touched.
        let tiny = HUDOverlay(screenWidth: 3, screenHeight: 2, scale: 1)
        var small = [UInt32](repeating: 7, count: 6)
        small.withUnsafeMutableBytes { tiny.draw(["FPS"], into: $0.baseAddress!, pitch: 12) }
        XCTAssertEqual(small, [UInt32](repeating: 7, count: 6))
    }

    func testReadingLinesAndMeter() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Zone 0 is a battery; the CPU's zone is preferred.
        for (zone, type, temp) in [(0, "battery", "30000"), (1, "cpu-thermal", "47250\n"), (2, "gpu", "52000")] {
            let z = dir.appendingPathComponent("thermal_zone\(zone)")
            try FileManager.default.createDirectory(at: z, withIntermediateDirectories: true)
            try type.write(to: z.appendingPathComponent("type"), atomically: true, encoding: .utf8)
            try temp.write(to: z.appendingPathComponent("temp"), atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(CPUTemperature(root: dir.path).read(), 47.25)
        XCTAssertNil(CPUTemperature(root: dir.appendingPathComponent("none").path).read())

        var meter = LiveHUD(temperature: CPUTemperature(root: dir.path))
        for k in 0..<20 { meter.recordFlip(at: 10 + Double(k) * 0.04) }   // 25 fps
        let r = meter.reading(now: 11, frameSeconds: 0.0123, lagSeconds: 0.085, dropped: 3)
        XCTAssertEqual(r.fps, 25, accuracy: 1e-9)
        XCTAssertEqual(LiveHUD.lines(r), ["FPS 25.0  FRAME 12.3 MS", "LAG 85 MS  DROPPED 3", "CPU 47 C"])
        let none = LiveHUD.Reading(fps: 0, frameMilliseconds: 0, lagMilliseconds: nil, dropped: 0, cpuCelsius: nil)
        XCTAssertEqual(LiveHUD.lines(none), ["FPS 0.0  FRAME 0.0 MS", "LAG -  DROPPED 0"])
        // The painter's box never shrinks: a shorter reading covers a longer one.
        XCTAssertEqual(Set(LivePainter.hudLines(none).map(\.count)), [LivePainter.hudColumns])
        XCTAssertEqual(LivePainter.hudLines(none).count, LivePainter.hudRows)
    }

    /// A flat grey face, so any overlay pixel stands out.
    final class FlatDecoder: FrameDecoder {
        let width: Int, height: Int
        init(_ w: Int, _ h: Int) { width = w; height = h }
        func decode(_ frame: MotionFrame, into output: inout RGBAImage) throws {
            for i in stride(from: 0, to: output.pixels.count, by: 4) {
                output.pixels[i] = 90; output.pixels[i + 1] = 100; output.pixels[i + 2] = 110; output.pixels[i + 3] = 255
            }
        }
    }

    func testPreviewDrawsTheOverlayOnlyWithHUD() throws {
        var options = LiveOptions(audio: Fixtures.url("motion/speech_en_16k.wav"))
        try options.setDisplay(mode: "320x240", rotate: "0", fit: "contain", background: "#000000", kms: "auto")
        options.size = 64
        options.idleSeconds = 1
        options.thermalRoot = "/nonexistent"
        let plain = try LiveJob(options: options).preview(frame: 3) { FlatDecoder($0, $1) }
        options.hud = true
        let withHUD = try LiveJob(options: options).preview(frame: 3) { FlatDecoder($0, $1) }
        let overlay = HUDOverlay(screenWidth: 320, screenHeight: 240)
        let text = UInt32(0xF0)   // the text colour's red channel
        func texts(_ image: RGBAImage) -> Int {
            stride(from: 0, to: image.pixels.count, by: 4).filter { UInt32(image.pixels[$0]) == text && image.pixels[$0 + 1] == 0xF0 }.count
        }
        XCTAssertEqual(texts(plain), 0, "text pixels without --hud")
        XCTAssertGreaterThan(texts(withHUD), 100)
        let box = overlay.box(for: [String](repeating: String(repeating: " ", count: LivePainter.hudColumns), count: LivePainter.hudRows))
        for y in 0..<240 {
            for x in 0..<320 where !(box.x..<(box.x + box.width)).contains(x) || !(box.y..<(box.y + box.height)).contains(y) {
                let i = 4 * (y * 320 + x)
                if plain.pixels[i..<(i + 4)] != withHUD.pixels[i..<(i + 4)] { return XCTFail("pixel \(x),\(y) outside the box differs") }
            }
        }
    }
}
