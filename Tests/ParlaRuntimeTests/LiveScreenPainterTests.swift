import CEGL
import Foundation
import ParlaIO
import ParlaLiveTestSupport
import ParlaMedia
import ParlaRenderGLES
import XCTest
@testable import ParlaRuntime

/// The GPU scan-out path's geometry: `GLESScreenPainter`, set up by `LiveFrameDrawer.screenPainter(layout:)`, must put
/// the picture where the CPU path's `FrameBlitter` puts it, in every rotation and fit, on odd sizes. Drawn into an
/// offscreen framebuffer on a headless context (the same GL calls as on the GBM surface), read back and compared with
/// `blitReference`: GL's bilinear sampling rounds differently from the blitter's 8-bit weights, so picture pixels may
/// differ by a little; border pixels must be the background exactly, and a picture turned or mirrored the wrong way
/// differs by far more (the source is random noise).
///
/// With `--hud` the GL painter draws the overlay box over the picture: it must be the CPU path's box (``LivePainter``)
/// pixel for pixel, in the same place for every rotation, with the same text read back, and change nothing else.
final class LiveScreenPainterTests: XCTestCase {
    /// Largest channel difference allowed inside the picture (8-bit bilinear weights vs GL's filtering).
    static let tolerance = 3

    /// A headless context, or a skip (a failure with PARLA_REQUIRE_GLES=1).
    func makeContext() throws -> GLESContext {
        do {
            return try GLESContext()
        } catch {
            if ProcessInfo.processInfo.environment["PARLA_REQUIRE_GLES"] == "1" { throw error }
            throw XCTSkip("no headless EGL/GLES 3.1 here (\(error)); set PARLA_REQUIRE_GLES=1 to make this a failure")
        }
    }

    /// An opaque `sw × sh` picture of random noise, in memory and in a GL buffer as a decoder's frame buffer (the
    /// caller deletes it).
    func randomPicture(width sw: Int, height sh: Int) -> (picture: RGBAImage, buffer: GLuint) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        var bytes = [UInt8](repeating: 0, count: sw * sh * 4)
        for i in stride(from: 0, to: bytes.count, by: 4) {
            bytes[i] = next(); bytes[i + 1] = next(); bytes[i + 2] = next(); bytes[i + 3] = 255
        }
        var buffer: GLuint = 0
        glGenBuffers(1, &buffer)
        glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), buffer)
        glBufferData(GLenum(GL_SHADER_STORAGE_BUFFER), bytes.count, bytes, GLenum(GL_STATIC_DRAW))
        return (RGBAImage(width: sw, height: sh, pixels: bytes), buffer)
    }

    /// Runs `body` with a `w × h` offscreen framebuffer bound for drawing.
    func withOffscreen(width w: Int, height h: Int, _ body: () throws -> Void) throws {
        var target: GLuint = 0, framebuffer: GLuint = 0
        glGenTextures(1, &target)
        glBindTexture(GLenum(GL_TEXTURE_2D), target)
        glTexStorage2D(GLenum(GL_TEXTURE_2D), 1, GLenum(GL_RGBA8), GLsizei(w), GLsizei(h))
        glGenFramebuffers(1, &framebuffer)
        glBindFramebuffer(GLenum(GL_FRAMEBUFFER), framebuffer)
        glFramebufferTexture2D(GLenum(GL_FRAMEBUFFER), GLenum(GL_COLOR_ATTACHMENT0), GLenum(GL_TEXTURE_2D), target, 0)
        XCTAssertEqual(glCheckFramebufferStatus(GLenum(GL_FRAMEBUFFER)), GLenum(GL_FRAMEBUFFER_COMPLETE))
        defer {
            glBindFramebuffer(GLenum(GL_FRAMEBUFFER), 0)
            glDeleteFramebuffers(1, &framebuffer)
            glDeleteTextures(1, &target)
        }
        try body()
    }

    /// The offscreen framebuffer as a screen: XRGB8888 like a dumb buffer, row 0 at the top (glReadPixels returns
    /// the bottom row first; the painter's row 0 is the screen's top).
    func readScreen(width w: Int, height h: Int) -> [UInt32] {
        var read = [UInt8](repeating: 0, count: w * h * 4)
        glReadPixels(0, 0, GLsizei(w), GLsizei(h), GLenum(GL_RGBA), GLenum(GL_UNSIGNED_BYTE), &read)
        XCTAssertEqual(glGetError(), GLenum(GL_NO_ERROR))
        var screen = [UInt32](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                let i = ((h - 1 - y) * w + x) * 4
                screen[y * w + x] = UInt32(read[i]) << 16 | UInt32(read[i + 1]) << 8 | UInt32(read[i + 2])
            }
        }
        return screen
    }

    /// Largest channel difference between two XRGB8888 pixels.
    static func difference(_ a: UInt32, _ b: UInt32) -> Int {
        [16, 8, 0].map { abs(Int(a >> UInt32($0) & 255) - Int(b >> UInt32($0) & 255)) }.max()!
    }

    func testPainterMatchesBlitterInEveryRotationAndFit() throws {
        let context = try makeContext()
        _ = context
        let (sw, sh) = (25, 33)
        let (picture, buffer) = randomPicture(width: sw, height: sh)
        var source = buffer
        defer { glDeleteBuffers(1, &source) }
        let background = RGBColor(red: 10, green: 200, blue: 30)

        for (w, h) in [(64, 47), (41, 71)] {
            try withOffscreen(width: w, height: h) {
                for rotation in Rotation.allCases {
                    for fit in FitMode.allCases {
                        let layout = try FrameLayout(sourceWidth: sw, sourceHeight: sh, targetWidth: w, targetHeight: h,
                                                     rotation: rotation, fit: fit)
                        let painter = try LiveFrameDrawer.screenPainter(layout: layout, background: background)
                        try painter.draw(frameBuffer: source)
                        let screen = readScreen(width: w, height: h)
                        var expected = [UInt32](repeating: 0xDEAD_BEEF, count: w * h)
                        expected.withUnsafeMutableBytes {
                            FrameBlitter(layout: layout, background: background).blitReference(picture, into: $0.baseAddress!, pitch: w * 4)
                        }
                        let columns = layout.contentColumns, rows = layout.contentRows
                        var worst = 0, worstAt = (0, 0), borderMismatches = 0
                        for y in 0..<h {
                            for x in 0..<w {
                                let diff = Self.difference(expected[y * w + x], screen[y * w + x])
                                if columns.contains(x) && rows.contains(y) {
                                    if diff > worst { worst = diff; worstAt = (x, y) }
                                } else if diff != 0 {
                                    borderMismatches += 1
                                }
                            }
                        }
                        let shape = "source \(sw)x\(sh) on \(w)x\(h), rotate \(rotation), \(fit)"
                        XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(shape): pixel \(worstAt) differs by \(worst)")
                        XCTAssertEqual(borderMismatches, 0, "\(shape): border pixels that are not the background")
                    }
                }
            }
        }
    }

    /// `--hud` on the GPU path: the painter set up as `LiveFrameDrawer` sets it up draws the CPU path's box
    /// (``LivePainter/paint(_:into:hud:background:)``) exactly, turned and placed the same in every rotation and fit,
    /// on odd screens where the box is whole (the text read back) or cut by the screen's edge; pixels outside the
    /// box are those of the same picture drawn without the overlay; new text replaces the old, and hiding the
    /// overlay gives the picture without it again.
    func testOverlayIsTheCPUPathsBoxInEveryRotationAndFit() throws {
        let context = try makeContext()
        _ = context
        let size = 27
        let (picture, buffer) = randomPicture(width: size, height: size)
        var source = buffer
        defer { glDeleteBuffers(1, &source) }
        let readings = [
            LiveHUD.Reading(fps: 29.9, frameMilliseconds: 12.3, lagMilliseconds: 85, dropped: 3, cpuCelsius: 47),
            LiveHUD.Reading(fps: 7.5, frameMilliseconds: 133.0, lagMilliseconds: nil, dropped: 120, cpuCelsius: nil),
        ]
        // 517x483: the overlay's scale is 2 and the box fits; the small ones cut it (scale 1).
        for (w, h) in [(517, 483), (64, 47), (41, 71)] {
            try withOffscreen(width: w, height: h) {
                for rotation in Rotation.allCases {
                    for fit in FitMode.allCases {
                        var options = LiveOptions(audio: URL(fileURLWithPath: "/dev/null"))
                        options.size = size
                        options.rotation = rotation
                        options.fit = fit
                        options.background = RGBColor(red: 10, green: 200, blue: 30)
                        let cpu = try LivePainter(options: options, screenWidth: w, screenHeight: h)
                        let gl = try LiveFrameDrawer.screenPainter(layout: cpu.layout, background: options.background)
                        let shape = "\(size)x\(size) on \(w)x\(h), rotate \(rotation), \(fit)"
                        try gl.draw(frameBuffer: source)
                        let plain = readScreen(width: w, height: h)
                        for reading in readings {
                            let lines = LivePainter.hudLines(reading)
                            try LiveFrameDrawer.setOverlay(lines, drawnBy: cpu.overlay, on: gl)
                            try gl.draw(frameBuffer: source)
                            let screen = readScreen(width: w, height: h)
                            var expected = [UInt32](repeating: 0xDEAD_BEEF, count: w * h)
                            expected.withUnsafeMutableBytes {
                                cpu.paint(picture, into: ScanoutTarget(pixels: $0.baseAddress!, pitch: w * 4, width: w, height: h),
                                          hud: reading, background: true)
                            }
                            let box = cpu.overlay.screenRect(for: lines)
                            XCTAssertGreaterThan(box.width * box.height, 0, shape)
                            var boxMismatches = 0, firstMismatch = (0, 0), outsideChanged = 0, worst = 0
                            for y in 0..<h {
                                for x in 0..<w {
                                    let i = y * w + x
                                    if (box.x..<(box.x + box.width)).contains(x) && (box.y..<(box.y + box.height)).contains(y) {
                                        if screen[i] != expected[i] & 0xFF_FFFF {
                                            if boxMismatches == 0 { firstMismatch = (x, y) }
                                            boxMismatches += 1
                                        }
                                    } else {
                                        if screen[i] != plain[i] { outsideChanged += 1 }
                                        worst = max(worst, Self.difference(screen[i], expected[i]))
                                    }
                                }
                            }
                            XCTAssertEqual(boxMismatches, 0, "\(shape): box pixels unlike the CPU path's, the first at \(firstMismatch)")
                            XCTAssertEqual(outsideChanged, 0, "\(shape): pixels outside the box changed")
                            XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(shape): outside the box")
                            let whole = cpu.overlay.box(for: lines)
                            if box.width * box.height == whole.width * whole.height {
                                XCTAssertEqual(cpu.overlay.readText(screen, lines: lines.count, columns: lines[0].count), lines, shape)
                            }
                        }
                        try LiveFrameDrawer.setOverlay(nil, drawnBy: cpu.overlay, on: gl)
                        try gl.draw(frameBuffer: source)
                        XCTAssertTrue(readScreen(width: w, height: h) == plain, "\(shape): the overlay stayed after it was hidden")
                    }
                }
            }
        }
        XCTAssertEqual(HUDOverlay(screenWidth: 517, screenHeight: 483).scale, 2)
    }
}
