import Foundation
import ParlaMedia
import ParlaTestSupport
import XCTest
@testable import ParlaFace

final class AvatarFileTests: XCTestCase {
    /// A small but complete avatar with random contents (the file layer does not care what the mesh means).
    private func randomAvatar(seed: UInt64, background: Bool = true) -> Avatar {
        var rng = SeededGenerator(seed: seed)
        let side = 37
        let n = FaceTopology.refinedLandmarkCount + 13
        let pixels = (0..<(side * side * 4)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let vertices = (0..<n).map { _ in
            SIMD3<Float>(Float.random(in: 0...37, using: &rng), Float.random(in: 0...37, using: &rng),
                         Float.random(in: -5...5, using: &rng))
        }
        let triangles = (0..<50).map { _ in
            SIMD3<UInt32>(UInt32.random(in: 0..<UInt32(n), using: &rng), UInt32.random(in: 0..<UInt32(n), using: &rng),
                          UInt32.random(in: 0..<UInt32(n), using: &rng))
        }
        let rig = ["jawOpen", "eyeBlinkLeft"].map { name in
            let idx = (0..<7).map { _ in UInt32.random(in: 0..<UInt32(n), using: &rng) }
            return RigTarget(name: name, indices: idx, deltas: idx.map { _ in SIMD3(1.5, -2, 0.25) })
        }
        return Avatar(texture: RGBAImage(width: side, height: side, pixels: pixels), vertices: vertices,
                      triangles: triangles, headWeights: (0..<n).map { _ in Float.random(in: 0...1, using: &rng) },
                      headPivot: SIMD3(18, 20, 30), rig: rig, metadata: ["source": "test.jpg", "tool": "parla test"],
                      background: background
                        ? RGBAImage(width: side, height: side, pixels: pixels.map { $0 ^ 0x5A }) : nil)
    }

    private func assertSame(_ a: Avatar, _ b: Avatar, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.texture, b.texture, file: file, line: line)
        XCTAssertEqual(a.vertices, b.vertices, file: file, line: line)
        XCTAssertEqual(a.triangles, b.triangles, file: file, line: line)
        XCTAssertEqual(a.headWeights, b.headWeights, file: file, line: line)
        XCTAssertEqual(a.headPivot, b.headPivot, file: file, line: line)
        XCTAssertEqual(a.rig, b.rig, file: file, line: line)
        XCTAssertEqual(a.metadata, b.metadata, file: file, line: line)
        XCTAssertEqual(a.background, b.background, file: file, line: line)
    }

    func testRoundTripIsExactThroughAFile() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let avatar = randomAvatar(seed: 7)
        let url = dir.appendingPathComponent("a.avatar")
        try AvatarFile.write(avatar, to: url)
        assertSame(try AvatarFile.read(contentsOf: url), avatar)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a.avatar"], "no temporary left")
        XCTAssertEqual(try AvatarFile.encode(avatar), try AvatarFile.encode(avatar), "deterministic bytes")
    }

    private func decodeError(_ bytes: [UInt8]) -> String {
        do {
            _ = try AvatarFile.decode(bytes, name: "x.avatar")
            return "decoded"
        } catch {
            return "\(error)"
        }
    }

    func testDamagedFilesAreRefusedWithOneLine() throws {
        let good = try AvatarFile.encode(randomAvatar(seed: 3))
        XCTAssertEqual(decodeError([]), "x.avatar: empty file, not an avatar")
        XCTAssertEqual(decodeError(Array(good.prefix(40))), "x.avatar: truncated avatar file (40 bytes)")
        XCTAssertEqual(decodeError(Array("PNGGGGGG".utf8) + Array(good.dropFirst(8))),
                       "x.avatar: not a Parla avatar file (made by `parla prepare`)")
        var v1 = good
        v1[8] = 1
        XCTAssertEqual(decodeError(v1), "x.avatar: avatar format version 1 is older than this build's (2, which adds "
                           + "the person mask): run `parla prepare` on the portrait again")
        var v3 = good
        v3[8] = 3
        XCTAssertEqual(decodeError(v3), "x.avatar: avatar format version 3 is newer than this build's (2); use a newer "
                           + "parla or run `parla prepare` again")
        var header = good
        header[20] ^= 1
        XCTAssertEqual(decodeError(header), "x.avatar: header checksum mismatch (file damaged)")
        var body = good
        body[good.count / 2] ^= 0x40
        XCTAssertEqual(decodeError(body), "x.avatar: checksum mismatch (file damaged)")
        XCTAssertTrue(decodeError(Array(good.dropLast(10))).hasPrefix("x.avatar: truncated avatar file (payload"))
        XCTAssertTrue(decodeError(good + [0, 0]).hasSuffix("2 unexpected bytes after the avatar data"))
    }

    /// The background plate (flag bit 0) round-trips; an avatar without one too; a file whose flag and sections
    /// disagree, or whose plate bytes are cut or damaged, is refused with one line.
    func testBackgroundPlateSectionRoundTripsAndIsChecked() throws {
        let with = randomAvatar(seed: 17), without = randomAvatar(seed: 17, background: false)
        let a = try AvatarFile.encode(with), b = try AvatarFile.encode(without)
        assertSame(try AvatarFile.decode(a, name: "a"), with)
        assertSame(try AvatarFile.decode(b, name: "b"), without)
        XCTAssertNil(try AvatarFile.decode(b, name: "b").background)
        XCTAssertEqual(a.count - b.count, 37 * 37 * 4, "the plate is one texture-sized RGBA section")
        XCTAssertEqual(a[12], 1, "flag bit 0 set")
        XCTAssertEqual(b[12], 0)

        // Flag set but no plate in the data (and the reverse): the counts no longer add up.
        var flagged = b
        flagged[12] = 1
        reseal(&flagged)
        XCTAssertTrue(decodeError(flagged).hasPrefix("x.avatar: data section is"), decodeError(flagged))
        var unflagged = a
        unflagged[12] = 0
        reseal(&unflagged)
        XCTAssertTrue(decodeError(unflagged).hasPrefix("x.avatar: data section is"), decodeError(unflagged))
        var unknown = a
        unknown[12] = 3
        reseal(&unknown)
        XCTAssertEqual(decodeError(unknown), "x.avatar: unknown header flags 0x3")

        // The plate follows the JSON block and the texture: cut inside it, or flip a byte of it.
        let jsonLength = Int(a[36]) | Int(a[37]) << 8 | Int(a[38]) << 16 | Int(a[39]) << 24
        let plateStart = 64 + jsonLength + 37 * 37 * 4
        XCTAssertEqual(Array(a[plateStart..<(plateStart + 37 * 37 * 4)]), with.background!.pixels)
        var cut = Array(a.prefix(plateStart + 100))
        XCTAssertTrue(decodeError(cut).hasPrefix("x.avatar: truncated avatar file (payload"), decodeError(cut))
        reseal(&cut)
        for i in 40..<48 { cut[i] = 0 }
        let length = UInt64(cut.count - 64)
        for k in 0..<8 { cut[40 + k] = UInt8((length >> (8 * UInt64(k))) & 0xFF) }
        reseal(&cut)
        XCTAssertTrue(decodeError(cut).hasPrefix("x.avatar: data section is"), decodeError(cut))
        var damaged = a
        damaged[plateStart + 500] ^= 0x10
        XCTAssertEqual(decodeError(damaged), "x.avatar: checksum mismatch (file damaged)")

        // A plate whose size is not the texture's cannot be written.
        var odd = with
        odd.background = RGBAImage(width: 36, height: 37)
        XCTAssertThrowsError(try AvatarFile.encode(odd, name: "odd.avatar")) { error in
            XCTAssertEqual("\(error)", "odd.avatar: background plate is 36x37, the texture 37x37")
        }
    }

    func testResealedHostileContentsNeverTrap() throws {
        // Flip bytes in the payload, then fix the checksums, so validation (not the CRC) must catch it.
        let good = try AvatarFile.encode(randomAvatar(seed: 11))
        var rng = SeededGenerator(seed: 99)
        var refused = 0
        for _ in 0..<300 {
            var bytes = good
            for _ in 0..<3 {
                let i = Int.random(in: 12..<bytes.count, using: &rng)
                bytes[i] = UInt8.random(in: 0...255, using: &rng)
            }
            reseal(&bytes)
            let result = decodeError(bytes)
            XCTAssertFalse(result.contains("\n"), result)
            if result != "decoded" { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 0)
    }

    /// Foundation's JSONDecoder in Swift 6.0 (the arm64 toolchain) traps on invalid UTF-8 inside a JSON string; the
    /// reader must refuse such a file in one line on every toolchain (the random test above found it on arm64).
    func testInvalidUTF8InTheMetadataIsRefusedWithOneLine() throws {
        let good = try AvatarFile.encode(randomAvatar(seed: 11))
        let quote = UInt8(ascii: "\"")
        // The first string value of the JSON block: the byte after the first `":"` pair's opening quote.
        let start = try XCTUnwrap((64..<(good.count - 2)).first { good[$0] == UInt8(ascii: ":") && good[$0 + 1] == quote })
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0x80]] {
            var bytes = good
            for (k, b) in bad.enumerated() { bytes[start + 2 + k] = b }
            reseal(&bytes)
            XCTAssertEqual(decodeError(bytes), "x.avatar: metadata block is not valid JSON", "bytes \(bad)")
        }
    }

    func testOutOfRangeTriangleIndexIsNamed() throws {
        var avatar = randomAvatar(seed: 5)
        avatar.triangles[3] = SIMD3(0, 1, UInt32(avatar.vertices.count + 4))
        let bytes = try AvatarFile.encode(avatar)
        XCTAssertEqual(decodeError(bytes), "x.avatar: triangle 3 refers to vertex \(avatar.vertices.count + 4) of \(avatar.vertices.count)")
    }

    /// Recomputes both CRCs after a deliberate edit.
    private func reseal(_ bytes: inout [UInt8]) {
        func put(_ v: UInt32, at o: Int) {
            for k in 0..<4 { bytes[o + k] = UInt8((v >> (8 * UInt32(k))) & 0xFF) }
        }
        put(CRC32Reference.checksum(Array(bytes[64...])), at: 48)
        put(CRC32Reference.checksum(Array(bytes[0..<60])), at: 60)
    }
}

/// Bitwise CRC-32 (IEEE, reflected), independent of the implementation under test.
enum CRC32Reference {
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
