import CEGL
import Foundation
import ParlaIO
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
final class LiveScreenPainterTests: XCTestCase {
    /// Largest channel difference allowed inside the picture (8-bit bilinear weights vs GL's filtering).
    static let tolerance = 3

    func testPainterMatchesBlitterInEveryRotationAndFit() throws {
        let context: GLESContext
        do {
            context = try GLESContext()
        } catch {
            if ProcessInfo.processInfo.environment["PARLA_REQUIRE_GLES"] == "1" { throw error }
            throw XCTSkip("no headless EGL/GLES 3.1 here (\(error)); set PARLA_REQUIRE_GLES=1 to make this a failure")
        }
        _ = context
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let (sw, sh) = (25, 33)
        var bytes = [UInt8](repeating: 0, count: sw * sh * 4)
        for i in stride(from: 0, to: bytes.count, by: 4) {
            bytes[i] = next(); bytes[i + 1] = next(); bytes[i + 2] = next(); bytes[i + 3] = 255
        }
        let picture = RGBAImage(width: sw, height: sh, pixels: bytes)
        var source: GLuint = 0
        glGenBuffers(1, &source)
        glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), source)
        glBufferData(GLenum(GL_SHADER_STORAGE_BUFFER), bytes.count, bytes, GLenum(GL_STATIC_DRAW))
        defer { glDeleteBuffers(1, &source) }
        let background = RGBColor(red: 10, green: 200, blue: 30)

        for (w, h) in [(64, 47), (41, 71)] {
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
            for rotation in Rotation.allCases {
                for fit in FitMode.allCases {
                    let layout = try FrameLayout(sourceWidth: sw, sourceHeight: sh, targetWidth: w, targetHeight: h,
                                                 rotation: rotation, fit: fit)
                    let painter = try LiveFrameDrawer.screenPainter(layout: layout, background: background)
                    try painter.draw(frameBuffer: source)
                    var read = [UInt8](repeating: 0, count: w * h * 4)
                    glReadPixels(0, 0, GLsizei(w), GLsizei(h), GLenum(GL_RGBA), GLenum(GL_UNSIGNED_BYTE), &read)
                    XCTAssertEqual(glGetError(), GLenum(GL_NO_ERROR))
                    var expected = [UInt32](repeating: 0xDEAD_BEEF, count: w * h)
                    expected.withUnsafeMutableBytes {
                        FrameBlitter(layout: layout, background: background).blitReference(picture, into: $0.baseAddress!, pitch: w * 4)
                    }
                    let columns = layout.contentColumns, rows = layout.contentRows
                    var worst = 0, worstAt = (0, 0), borderMismatches = 0
                    for y in 0..<h {
                        // glReadPixels returns the bottom row first; the painter's row 0 is the screen's top.
                        let line = h - 1 - y
                        for x in 0..<w {
                            let e = expected[y * w + x]
                            let want = [Int(e >> 16 & 255), Int(e >> 8 & 255), Int(e & 255)]
                            let got = (0..<3).map { Int(read[(line * w + x) * 4 + $0]) }
                            let diff = zip(want, got).map { abs($0 - $1) }.max()!
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
