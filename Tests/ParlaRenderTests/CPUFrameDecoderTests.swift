import Foundation
import XCTest
import ParlaFace
import ParlaMedia
import ParlaMotion
import ParlaTestSupport
@testable import ParlaRender

final class CPUFrameDecoderTests: XCTestCase {
    private typealias S = DecoderTestSupport

    func testRestFrameEqualsTheTextureByteForByte() throws {
        for side in [128, 97] {
            let synthetic = SyntheticAvatar(side: side)
            let decoder = try CPUFrameDecoder(avatar: synthetic.avatar, width: side, height: side)
            var out = RGBAImage(width: side, height: side, fill: (1, 2, 3, 4))
            try decoder.decode(MotionFrame(time: 0), into: &out)
            XCTAssertEqual(out, synthetic.avatar.texture, "side \(side)")
            XCTAssertEqual(decoder.lastCoverage().filter { $0 != 1 }.count, 0, "side \(side): every pixel covered once")
        }
    }

    func testPixelsNoTriangleCoversShowTheTextureUnmoved() throws {
        var avatar = SyntheticAvatar(side: 100).avatar
        avatar.triangles.removeSubrange(40..<70)
        let decoder = try CPUFrameDecoder(avatar: avatar, width: 100, height: 100)
        var out = RGBAImage(width: 100, height: 100)
        try decoder.decode(MotionFrame(time: 0), into: &out)
        XCTAssertGreaterThan(decoder.lastCoverage().filter { $0 == 0 }.count, 100, "the test needs holes")
        XCTAssertEqual(out, avatar.texture)
        var frame = MotionFrame(time: 0)
        frame.headYaw = 0.2
        try decoder.decode(frame, into: &out)
        let coverage = decoder.lastCoverage()
        for y in 0..<100 {
            for x in 0..<100 where coverage[y * 100 + x] == 0 {
                XCTAssertEqual(DecoderTestSupport.pixel(out, x, y), DecoderTestSupport.pixel(avatar.texture, x, y))
            }
        }
    }

    func testRestFrameAtOtherSizesIsTheResizedTexture() throws {
        let synthetic = SyntheticAvatar(side: 128)
        for (w, h) in [(64, 64), (200, 150), (101, 217), (255, 255), (16, 40)] {
            let decoder = try CPUFrameDecoder(avatar: synthetic.avatar, width: w, height: h)
            var out = RGBAImage(width: w, height: h)
            try decoder.decode(MotionFrame(time: 0), into: &out)
            let expected = S.coverResize(synthetic.avatar.texture, width: w, height: h)
            XCTAssertLessThanOrEqual(S.maxDifference(out, expected), 1, "\(w)x\(h)")
        }
    }

    func testScanlineAndReferenceRasterizersAgreeBitForBit() throws {
        var rng = SeededGenerator(seed: 8)
        let rig = S.smoothRig(for: SyntheticAvatar(side: 90), names: ["mouthSmileLeft", "mouthFunnel"], amplitude: 3, seed: 4)
        let synthetic = SyntheticAvatar(side: 90, extraRig: rig)
        for (w, h) in [(90, 90), (77, 53), (131, 160)] {
            let fast = try CPUFrameDecoder(avatar: synthetic.avatar, width: w, height: h)
            let slow = try CPUFrameDecoder(avatar: synthetic.avatar, width: w, height: h, rasterizer: .reference, drawsMouthInterior: true)
            var a = RGBAImage(width: w, height: h), b = RGBAImage(width: w, height: h)
            for k in 0..<6 {
                let frame = S.randomFrame(&rng, head: k < 3 ? 0.15 : 0.5)
                try fast.decode(frame, into: &a)
                try slow.decode(frame, into: &b)
                XCTAssertEqual(a, b, "\(w)x\(h) frame \(k)")
                XCTAssertEqual(fast.lastCoverage(), slow.lastCoverage(), "\(w)x\(h) frame \(k)")
            }
        }
    }

    func testSmoothDeformationLeavesNoHoleAndNoDoubleCover() throws {
        let names = ["mouthSmileLeft", "mouthSmileRight", "browInnerUp", "mouthFunnel"]
        let rig = S.smoothRig(for: SyntheticAvatar(side: 120), names: names, amplitude: 2.5, seed: 9)
        let synthetic = SyntheticAvatar(side: 120, extraRig: rig)
        var rng = SeededGenerator(seed: 1)
        for (w, h) in [(120, 120), (97, 143)] {
            let decoder = try CPUFrameDecoder(avatar: synthetic.avatar, width: w, height: h)
            var out = RGBAImage(width: w, height: h)
            for k in 0..<8 {
                var frame = S.randomFrame(&rng, head: 0.08)
                frame.blendshapes[.jawOpen] = Float(k) / 7
                try decoder.decode(frame, into: &out)
                let coverage = decoder.lastCoverage()
                XCTAssertEqual(coverage.filter { $0 == 0 }.count, 0, "\(w)x\(h) frame \(k): holes")
                XCTAssertEqual(coverage.filter { $0 > 1 }.count, 0, "\(w)x\(h) frame \(k): double cover")
            }
        }
    }

    func testJawOpenShowsADarkCavityInsideTheLipsAndLeavesTheBackgroundAlone() throws {
        let synthetic = SyntheticAvatar(side: 160)
        let decoder = try CPUFrameDecoder(avatar: synthetic.avatar, width: 160, height: 160)
        var out = RGBAImage(width: 160, height: 160)
        var frame = MotionFrame(time: 0)
        frame.blendshapes[.jawOpen] = 0.8
        try decoder.decode(frame, into: &out)
        let polygon = innerLipPolygon(decoder)
        var dark = 0
        for y in 0..<160 {
            for x in 0..<160 {
                let p = S.pixel(out, x, y)
                guard p.x < 90, p.y < 45, p.z < 45, p.x > p.z else { continue }  // dark warm red-brown
                if SyntheticAvatar.inside(SIMD2(Float(x) + 0.5, Float(y) + 0.5), polygon, margin: 0) { dark += 1 }
            }
        }
        XCTAssertGreaterThan(dark, 150, "the open mouth shows a dark cavity")
        let texture = synthetic.avatar.texture
        for p in synthetic.staticPixels {
            XCTAssertEqual(S.pixel(out, p.x, p.y), S.pixel(texture, p.x, p.y), "background pixel \(p)")
        }
    }

    func testDrawnInteriorNeverLeavesTheInnerLipPolygon() throws {
        let synthetic = SyntheticAvatar(side: 140)
        // mouthClose pushes the lower lip up through the upper lip (crossed lips: nothing may show).
        let lower = FaceTopology.innerLipLower[1...9].map { UInt32($0) }
        let close = RigTarget(name: "mouthClose", indices: lower, deltas: lower.map { _ in SIMD3(0, -6, 0) })
        let rig = S.smoothRig(for: synthetic, names: ["mouthSmileLeft", "mouthRollLower"], amplitude: 3, seed: 2)
        let avatar = SyntheticAvatar(side: 140, extraRig: rig + [close]).avatar
        let with = try CPUFrameDecoder(avatar: avatar, width: 140, height: 140)
        let without = try CPUFrameDecoder(avatar: avatar, width: 140, height: 140, rasterizer: .scanline, drawsMouthInterior: false)
        var a = RGBAImage(width: 140, height: 140), b = RGBAImage(width: 140, height: 140)
        var rng = SeededGenerator(seed: 6)
        var changed = 0
        for k in 0..<12 {
            var frame = S.randomFrame(&rng, head: 0.3)
            frame.blendshapes[.mouthRollLower] = Float.random(in: 0...1, using: &rng)
            if k == 0 { frame = MotionFrame(time: 0) }
            if k == 1 { frame.blendshapes[.jawOpen] = 0; frame.blendshapes[.mouthClose] = 1 }
            try with.decode(frame, into: &a)
            try without.decode(frame, into: &b)
            let polygon = innerLipPolygon(with)
            var changedHere = 0
            for y in 0..<140 {
                for x in 0..<140 where S.pixel(a, x, y) != S.pixel(b, x, y) {
                    changedHere += 1
                    XCTAssertTrue(SyntheticAvatar.inside(SIMD2(Float(x) + 0.5, Float(y) + 0.5), polygon, margin: 0.01),
                                  "frame \(k): interior drawn at \(x),\(y) outside the inner lips")
                }
            }
            if k <= 1 { XCTAssertEqual(changedHere, 0, "frame \(k): rest or closed lips show no interior") }
            changed += changedHere
        }
        XCTAssertGreaterThan(changed, 500)
    }

    func testHeadYawMovesTheFaceButNotTheBorder() throws {
        let synthetic = SyntheticAvatar(side: 128)
        let decoder = try CPUFrameDecoder(avatar: synthetic.avatar, width: 128, height: 128)
        var rest = RGBAImage(width: 128, height: 128), turned = RGBAImage(width: 128, height: 128)
        try decoder.decode(MotionFrame(time: 0), into: &rest)
        let restPositions = decoder.lastOutputPositions()
        var frame = MotionFrame(time: 0)
        frame.headYaw = 0.3
        try decoder.decode(frame, into: &turned)
        let positions = decoder.lastOutputPositions()
        for i in synthetic.staticVertices { XCTAssertEqual(positions[i], restPositions[i], "vertex \(i)") }
        let nose = FaceTopology.outerLipUpper[5]
        XCTAssertGreaterThan(positions[nose].x - restPositions[nose].x, 2, "yaw > 0 turns the face to the image's right")
        for p in synthetic.staticPixels {
            XCTAssertEqual(S.pixel(turned, p.x, p.y), S.pixel(rest, p.x, p.y), "border pixel \(p)")
        }
        var changed = 0
        for y in 40..<100 { for x in 30..<100 where S.pixel(turned, x, y) != S.pixel(rest, x, y) { changed += 1 } }
        XCTAssertGreaterThan(changed, 1000)
    }

    /// The decoder draws straight into the caller's pixels (no replacement buffer). That `decode` makes no
    /// heap allocation at all is checked outside the tests with valgrind (see docs/frame-decoder.md).
    func testDecodeWritesIntoTheCallersBuffer() throws {
        let synthetic = SyntheticAvatar(side: 96)
        let decoder = try CPUFrameDecoder(avatar: synthetic.avatar, width: 64, height: 80)
        var out = RGBAImage(width: 64, height: 80)
        let address = out.pixels.withUnsafeBufferPointer { $0.baseAddress }
        var rng = SeededGenerator(seed: 12)
        let frames = (0..<20).map { _ in S.randomFrame(&rng, head: 0.3) }
        for f in frames { try decoder.decode(f, into: &out) }
        XCTAssertEqual(out.pixels.withUnsafeBufferPointer { $0.baseAddress }, address)
    }

    func testInvalidInputsThrowOneLineErrors() throws {
        let good = SyntheticAvatar(side: 64).avatar
        func expectError(_ avatar: Avatar, _ w: Int, _ h: Int, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try CPUFrameDecoder(avatar: avatar, width: w, height: h), file: file, line: line) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(text), message, file: file, line: line)
                XCTAssertFalse(message.contains("\n"), file: file, line: line)
                XCTAssertEqual((error as? LocalizedError)?.errorDescription, message, file: file, line: line)
            }
        }
        expectError(good, 15, 64, containing: "15x64")
        expectError(good, 64, 8193, containing: "64x8193")
        var bad = good
        bad.triangles[3] = SIMD3(0, 1, UInt32(good.vertices.count))
        expectError(bad, 64, 64, containing: "triangle 3 uses vertex \(good.vertices.count)")
        bad = good
        bad.texture = RGBAImage(width: 0, height: 0)
        expectError(bad, 64, 64, containing: "texture is empty")
        bad = good
        bad.headWeights.removeLast()
        expectError(bad, 64, 64, containing: "head weights")
        bad = good
        bad.vertices[7].x = .nan
        expectError(bad, 64, 64, containing: "vertex 7")
        bad = good
        bad.rig.append(RigTarget(name: "jawLeft", indices: [9999], deltas: [.zero]))
        expectError(bad, 64, 64, containing: "rig target jawLeft moves vertex 9999")
        bad = good
        bad.vertices = Array(bad.vertices.prefix(100))
        expectError(bad, 64, 64, containing: "at least 478")
        bad = good
        bad.metadata = ["file": "anna.avatar"]
        bad.triangles = []
        expectError(bad, 64, 64, containing: "avatar anna.avatar: has no triangles")

        let decoder = try CPUFrameDecoder(avatar: good, width: 32, height: 32)
        var wrong = RGBAImage(width: 31, height: 32)
        XCTAssertThrowsError(try decoder.decode(MotionFrame(time: 0), into: &wrong)) { error in
            XCTAssertEqual("\(error)", "output: image is 31x32 but the decoder draws 32x32")
        }
        var out = RGBAImage(width: 32, height: 32)
        var frame = MotionFrame(time: 1.5)
        frame.headYaw = .infinity
        XCTAssertThrowsError(try decoder.decode(frame, into: &out)) { error in
            XCTAssertEqual("\(error)", "motion frame at 1.5 s: head yaw is not a finite number")
        }
        frame = MotionFrame(time: 2)
        frame.scale = .nan
        XCTAssertThrowsError(try decoder.decode(frame, into: &out))
    }

    /// The deformed inner-lip polygon (upper contour, then lower reversed) of the decoder's last frame.
    private func innerLipPolygon(_ decoder: CPUFrameDecoder) -> [SIMD2<Float>] {
        let positions = decoder.lastOutputPositions()
        return (FaceTopology.innerLipUpper + FaceTopology.innerLipLower.reversed()).map { positions[$0] }
    }
}
