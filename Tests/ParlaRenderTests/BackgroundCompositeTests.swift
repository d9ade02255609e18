import Foundation
import XCTest
import ParlaFace
import ParlaMedia
import ParlaMotion
import ParlaTestSupport
@testable import ParlaRender

/// The background composite (docs/frame-decoder.md, "Background"): `out = I_w + (B_id − B_w)(255 − α_w)/255`.
final class BackgroundCompositeTests: XCTestCase {
    static let degree = Float.pi / 180

    /// The synthetic avatar with a known mask and plate: the mask is 255 within 0.28 sides of the mouth centre and
    /// falls linearly to 0 at 0.36 sides; the plate is the texture where the mask is 0 (beyond 0.38 sides) and a
    /// flat blue-green inside, its alpha the mask.
    static func masked(side: Int) -> (synthetic: SyntheticAvatar, avatar: Avatar) {
        let synthetic = SyntheticAvatar(side: side)
        var avatar = synthetic.avatar
        let t = Float(side), c = synthetic.mouthCentre
        var plate = avatar.texture.pixels
        for y in 0..<side {
            for x in 0..<side {
                let offset: SIMD2<Float> = SIMD2(Float(x) + 0.5, Float(y) + 0.5) - c
                let d: Float = (offset * offset).sum().squareRoot() / t
                let ramp: Float = min(max((0.36 - d) / 0.08, 0), 1)
                let alpha = UInt8((ramp * 255).rounded())
                let i = (y * side + x) * 4
                if d < 0.38 { plate[i] = 40; plate[i + 1] = 160; plate[i + 2] = 220 }
                plate[i + 3] = alpha
            }
        }
        avatar.background = RGBAImage(width: side, height: side, pixels: plate)
        return (synthetic, avatar)
    }

    static func frame(yaw: Float = 0, _ edit: (inout MotionFrame) -> Void = { _ in }) -> MotionFrame {
        var f = MotionFrame(time: 0)
        f.headYaw = yaw * degree
        edit(&f)
        return f
    }

    private func rgba(_ image: RGBAImage, _ i: Int) -> UInt32 {
        image.pixels.withUnsafeBytes { $0.load(fromByteOffset: 4 * i, as: UInt32.self) }
    }

    /// The integer formula against a Double reference (rounded half away from zero, clamped; ties cannot occur
    /// because 255 is odd) on random words, and its corner cases.
    func testMixMatchesTheDoubleFormula() {
        var rng = SeededGenerator(seed: 41)
        for n in 0..<20_000 {
            let p = UInt32.random(in: 0...UInt32.max, using: &rng)
            var w = UInt32.random(in: 0...UInt32.max, using: &rng)
            if n % 4 == 0 { w = (w & 0x00FF_FFFF) }  // mask 0
            if n % 4 == 1 { w = (w & 0x00FF_FFFF) | 0xFF00_0000 }  // mask 255
            let id = UInt32.random(in: 0...UInt32.max, using: &rng)
            var expected = p & 0xFF00_0000
            let keep = Double(255 - Int(w >> 24))
            for shift in [UInt32(0), 8, 16] {
                let difference: Int = Int((id >> shift) & 0xFF) - Int((w >> shift) & 0xFF)
                let q: Double = Double(difference) * keep / 255
                let r: Double = q >= 0 ? (q + 0.5).rounded(.down) : -((-q + 0.5).rounded(.down))
                let value: Double = min(max(Double((p >> shift) & 0xFF) + r, 0), 255)
                expected |= UInt32(value) << shift
            }
            XCTAssertEqual(BackgroundBlend.mix(p, warped: w, identity: id), expected, "p \(p) w \(w) id \(id)")
        }
        // Mask 0 and the portrait equal to the warped plate: the identity plate sample, exactly.
        XCTAssertEqual(BackgroundBlend.mix(0xFF10_2030, warped: 0x0010_2030, identity: 0x77AB_CDEF), 0xFFAB_CDEF)
        // Mask 255: the portrait, whatever the plate.
        XCTAssertEqual(BackgroundBlend.mix(0xFF10_2030, warped: 0xFF00_0000, identity: 0x00FF_FFFF), 0xFF10_2030)
    }

    /// A head turn on the synthetic avatar: every pixel is the formula applied to the warped portrait, the warped
    /// plate (from decoders of the plain avatar and of an avatar whose texture is the plate) and the plate's
    /// identity sample; where the mask is 0 and the portrait equals the plate there, that is the plate's identity
    /// sample; where the mask is 255, the warped portrait.
    func testHeadTurnKeepsTheBackgroundAndMovesThePerson() throws {
        let side = 96
        let (synthetic, avatar) = Self.masked(side: side)
        let plate = try XCTUnwrap(avatar.background)
        var plateAvatar = synthetic.avatar
        plateAvatar.texture = plate
        let full = try CPUFrameDecoder(avatar: avatar, width: side, height: side, rasterizer: .scanline, drawsMouthInterior: false)
        let plain = try CPUFrameDecoder(avatar: synthetic.avatar, width: side, height: side, rasterizer: .scanline,
                                        drawsMouthInterior: false)
        let warpedPlate = try CPUFrameDecoder(avatar: plateAvatar, width: side, height: side, rasterizer: .scanline,
                                              drawsMouthInterior: false)
        var out = RGBAImage(width: side, height: side), i_w = out, b_w = out
        var rng = SeededGenerator(seed: 8)
        let frames = [Self.frame(yaw: 15), Self.frame(yaw: -15), Self.frame(yaw: 12) { $0.blendshapes[.jawOpen] = 0.6 }]
            + (0..<6).map { _ in DecoderTestSupport.randomFrame(&rng, head: 0.3) }
        for (n, frame) in frames.enumerated() {
            try full.decode(frame, into: &out)
            try plain.decode(frame, into: &i_w)
            try warpedPlate.decode(frame, into: &b_w)
            var background = 0, person = 0, changed = 0
            for i in 0..<(side * side) {
                let p = rgba(i_w, i), w = rgba(b_w, i), id = rgba(plate, i), o = rgba(out, i)
                XCTAssertEqual(o, BackgroundBlend.mix(p, warped: w, identity: id), "frame \(n) pixel \(i % side),\(i / side)")
                if w >> 24 == 0 && (p & 0xFF_FFFF) == (w & 0xFF_FFFF) {
                    XCTAssertEqual(o & 0xFF_FFFF, id & 0xFF_FFFF, "frame \(n): background at \(i % side),\(i / side) is the plate")
                    background += 1
                }
                if w >> 24 == 255 {
                    XCTAssertEqual(o, p, "frame \(n): person at \(i % side),\(i / side) is the warped portrait")
                    person += 1
                }
                if o != p { changed += 1 }
            }
            XCTAssertGreaterThan(background, side * side / 4, "frame \(n)")
            XCTAssertGreaterThan(person, side * side / 8, "frame \(n)")
            if n < 3 { XCTAssertGreaterThan(changed, 20, "frame \(n): the head turn uncovers background") }
        }
    }

    /// At rest the masked avatar still reproduces the portrait byte for byte (one and three threads), and the
    /// skips (opaque and identity triangles) change nothing: flagging every triangle gives the same frames.
    func testRestFrameIsThePortraitAndTheSkipsAreExact() throws {
        let (_, avatar) = Self.masked(side: 96)
        var out = RGBAImage(width: 96, height: 96)
        for threads in [1, 3] {
            try CPUFrameDecoder(avatar: avatar, width: 96, height: 96, threads: threads).decode(MotionFrame(time: 0), into: &out)
            XCTAssertEqual(out, avatar.texture, "rest frame = texture (\(threads) threads)")
        }
        let portrait = try PortraitAvatarTests.portraitAvatar()
        XCTAssertNotNil(portrait.background)
        for (a, w, h) in [(avatar, 96, 96), (avatar, 131, 77), (portrait, 512, 512), (portrait, 640, 360)] {
            let fast = try CPUFrameDecoder(avatar: a, width: w, height: h)
            let slow = try CPUFrameDecoder(avatar: a, width: w, height: h)
            slow.blendEveryTriangle(true)
            var x = RGBAImage(width: w, height: h), y = x
            for frame in [MotionFrame(time: 0), Self.frame(yaw: 15), Self.frame(yaw: -15) { $0.headPitch = 8 * Self.degree },
                          Self.frame(yaw: 5) { $0.blendshapes[.jawOpen] = 0.7; $0.scale = 1.04; $0.translation = SIMD2(0.01, 0.02) }] {
                try fast.decode(frame, into: &x)
                try slow.decode(frame, into: &y)
                XCTAssertEqual(x, y, "\(w)x\(h) yaw \(frame.headYaw): skipping changes nothing")
            }
        }
    }

    /// On the portrait at yaw ±15° the composite changes the silhouette's surroundings, and the threaded decoder
    /// draws the same picture.
    func testPortraitHeadTurnBlendsAndThreadsAgree() throws {
        let avatar = try PortraitAvatarTests.portraitAvatar()
        var plain = avatar
        plain.background = nil
        for yaw: Float in [15, -15] {
            var a = RGBAImage(width: 512, height: 512), b = a, c = a
            try CPUFrameDecoder(avatar: avatar, width: 512, height: 512).decode(Self.frame(yaw: yaw), into: &a)
            try CPUFrameDecoder(avatar: plain, width: 512, height: 512).decode(Self.frame(yaw: yaw), into: &b)
            try CPUFrameDecoder(avatar: avatar, width: 512, height: 512, threads: 2).decode(Self.frame(yaw: yaw), into: &c)
            var changed = 0
            for i in 0..<(512 * 512) where rgba(a, i) != rgba(b, i) { changed += 1 }
            print("yaw \(yaw): \(changed) of 512² pixels composited differently from the plain warp")
            XCTAssertGreaterThan(changed, 500)
            XCTAssertEqual(a, c)
            XCTAssertTrue(stride(from: 3, to: a.pixels.count, by: 4).allSatisfy { a.pixels[$0] == 255 }, "opaque output")
        }
    }

    func testAPlateOfTheWrongSizeIsRefused() {
        var (_, avatar) = Self.masked(side: 64)
        avatar.background = RGBAImage(width: 63, height: 64)
        XCTAssertThrowsError(try CPUFrameDecoder(avatar: avatar, width: 64, height: 64)) { error in
            XCTAssertEqual("\(error)", "avatar synthetic: background plate is 63x64 (16128 bytes), the texture 64x64")
        }
    }
}
