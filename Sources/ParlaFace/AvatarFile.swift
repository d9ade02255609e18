import Foundation
import ParlaMedia
import ParlaModel

/// Reads and writes avatar files (`.avatar`): a 64-byte little-endian header, a JSON block (metadata and rig
/// target names), then the texture, the background plate (when flag bit 0 is set), mesh and rig as raw
/// little-endian arrays, all covered by CRC-32s.
/// The layout is in docs/avatar.md. Reading validates every size, index and value before building the
/// ``Avatar``, so a damaged or hostile file is refused with one line and never traps.
public enum AvatarFile {
    /// Format version this build writes and reads.
    public static let version: UInt32 = 2
    /// Header flag: a background plate (RGB + person mask in alpha, texture size) follows the texture.
    static let backgroundFlag: UInt32 = 1
    static let magic: [UInt8] = Array("PARLAAVT".utf8)
    static let headerSize = 64
    /// Limits that keep a hostile file from asking for unbounded memory.
    static let maxTextureSide = 4096
    static let maxVertices = 200_000
    static let maxTriangles = 400_000
    static let maxRigTargets = 256

    struct Document: Codable {
        struct Target: Codable {
            var name: String
            var count: Int
        }
        var metadata: [String: String]
        var rig: [Target]
    }

    // MARK: - Writing

    /// Writes `avatar` to `url` atomically (temporary file, then rename).
    public static func write(_ avatar: Avatar, to url: URL) throws {
        let bytes = try encode(avatar, name: url.lastPathComponent)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())")
        do {
            try Data(bytes).write(to: tmp)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw FaceError(.avatarFile, file: url.path, problem: "cannot write: \(error.localizedDescription)")
        }
        if rename(tmp.path, url.path) != 0 {
            let cause = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw FaceError(.avatarFile, file: url.path, problem: "cannot move into place: \(cause)")
        }
    }

    /// The file's bytes for `avatar`.
    public static func encode(_ avatar: Avatar, name: String = "avatar") throws -> [UInt8] {
        let doc = Document(metadata: avatar.metadata, rig: avatar.rig.map { .init(name: $0.name, count: $0.indices.count) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var json = [UInt8](try encoder.encode(doc))
        while json.count % 4 != 0 { json.append(0x20) }
        var payload = json
        payload.reserveCapacity(json.count + avatar.texture.pixels.count + avatar.vertices.count * 16 + avatar.triangles.count * 12)
        payload += avatar.texture.pixels
        if let plate = avatar.background {
            guard plate.width == avatar.texture.width, plate.height == avatar.texture.height,
                  plate.pixels.count == plate.width * plate.height * 4 else {
                throw FaceError(.avatarFile, file: name, problem: "background plate is \(plate.width)x\(plate.height), "
                                    + "the texture \(avatar.texture.width)x\(avatar.texture.height)")
            }
            payload += plate.pixels
        }
        for v in avatar.vertices { appendFloats(&payload, v.x, v.y, v.z) }
        for w in avatar.headWeights { appendFloats(&payload, w) }
        appendFloats(&payload, avatar.headPivot.x, avatar.headPivot.y, avatar.headPivot.z)
        for t in avatar.triangles { appendU32(&payload, t.x); appendU32(&payload, t.y); appendU32(&payload, t.z) }
        for target in avatar.rig {
            for i in target.indices { appendU32(&payload, i) }
            for d in target.deltas { appendFloats(&payload, d.x, d.y, d.z) }
        }
        var header = magic
        appendU32(&header, version)
        appendU32(&header, avatar.background == nil ? 0 : backgroundFlag)
        appendU32(&header, UInt32(avatar.texture.width))
        appendU32(&header, UInt32(avatar.texture.height))
        appendU32(&header, UInt32(avatar.vertices.count))
        appendU32(&header, UInt32(avatar.triangles.count))
        appendU32(&header, UInt32(avatar.rig.count))
        appendU32(&header, UInt32(json.count))
        appendU64(&header, UInt64(payload.count))
        appendU32(&header, CRC32.checksum(payload))
        appendU32(&header, 0)
        appendU32(&header, 0)
        appendU32(&header, CRC32.checksum(header))
        precondition(header.count == headerSize)
        return header + payload
    }

    // MARK: - Reading

    /// Reads and validates an avatar file.
    public static func read(contentsOf url: URL) throws -> Avatar {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw FaceError(.avatarFile, file: url.path, problem: "cannot read: \(error.localizedDescription)")
        }
        return try decode([UInt8](data), name: url.path)
    }

    /// Decodes avatar file bytes; `name` is used in error messages.
    public static func decode(_ bytes: [UInt8], name: String) throws -> Avatar {
        func fail(_ problem: String) -> FaceError { FaceError(.avatarFile, file: name, problem: problem) }
        guard bytes.count >= headerSize else {
            throw fail(bytes.isEmpty ? "empty file, not an avatar" : "truncated avatar file (\(bytes.count) bytes)")
        }
        guard Array(bytes[0..<8]) == magic else { throw fail("not a Parla avatar file (made by `parla prepare`)") }
        var r = ByteReader(bytes: bytes, offset: 8)
        let fileVersion = r.u32()
        guard fileVersion == version else {
            throw fail(fileVersion < version
                ? "avatar format version \(fileVersion) is older than this build's (\(version), which adds the person mask): run `parla prepare` on the portrait again"
                : "avatar format version \(fileVersion) is newer than this build's (\(version)); use a newer parla or run `parla prepare` again")
        }
        var crcReader = ByteReader(bytes: bytes, offset: 60)
        guard CRC32.checksum(Array(bytes[0..<60])) == crcReader.u32() else {
            throw fail("header checksum mismatch (file damaged)")
        }
        let flags = r.u32()
        guard flags & ~backgroundFlag == 0 else { throw fail("unknown header flags 0x\(String(flags, radix: 16))") }
        let hasBackground = flags & backgroundFlag != 0
        let tw = Int(r.u32()), th = Int(r.u32())
        let nv = Int(r.u32()), nt = Int(r.u32()), nr = Int(r.u32()), jsonLength = Int(r.u32())
        let payloadLength = r.u64()
        let payloadCRC = r.u32()
        guard (1...maxTextureSide).contains(tw), (1...maxTextureSide).contains(th) else {
            throw fail("texture size \(tw)x\(th) is outside 1…\(maxTextureSide)")
        }
        guard nv >= FaceTopology.refinedLandmarkCount, nv <= maxVertices else {
            throw fail("\(nv) vertices: expected \(FaceTopology.refinedLandmarkCount)…\(maxVertices)")
        }
        guard (1...maxTriangles).contains(nt) else { throw fail("\(nt) triangles: expected 1…\(maxTriangles)") }
        guard nr <= maxRigTargets else { throw fail("\(nr) rig targets: at most \(maxRigTargets)") }
        guard payloadLength == UInt64(bytes.count - headerSize) else {
            throw fail(payloadLength > UInt64(bytes.count - headerSize)
                ? "truncated avatar file (payload \(payloadLength) bytes, \(bytes.count - headerSize) present)"
                : "\(UInt64(bytes.count - headerSize) - payloadLength) unexpected bytes after the avatar data")
        }
        let payload = bytes[headerSize...]
        let crc = payload.withUnsafeBytes { CRC32.checksum($0) }
        guard crc == payloadCRC else { throw fail("checksum mismatch (file damaged)") }
        guard jsonLength <= payload.count else { throw fail("JSON block of \(jsonLength) bytes exceeds the file") }
        let doc: Document
        do {
            doc = try JSONDecoder().decodeUntrusted(Document.self, from: Data(payload.prefix(jsonLength)))
        } catch {
            throw fail("metadata block is not valid JSON")
        }
        guard doc.rig.count == nr else { throw fail("rig lists \(doc.rig.count) targets, header says \(nr)") }
        let rigEntries = doc.rig.reduce(0) { $0 + max($1.count, 0) }
        guard doc.rig.allSatisfy({ (0...nv).contains($0.count) }) else { throw fail("a rig target has an invalid vertex count") }
        let plateBytes = hasBackground ? tw * th * 4 : 0
        let expected = jsonLength + tw * th * 4 + plateBytes + nv * 12 + nv * 4 + 12 + nt * 12 + rigEntries * 16
        guard expected == payload.count else {
            throw fail("data section is \(payload.count) bytes, the header's counts need \(expected)")
        }

        var p = ByteReader(bytes: bytes, offset: headerSize + jsonLength)
        let pixels = Array(bytes[p.offset..<(p.offset + tw * th * 4)])
        p.offset += tw * th * 4
        var background: RGBAImage?
        if hasBackground {
            background = RGBAImage(width: tw, height: th, pixels: Array(bytes[p.offset..<(p.offset + plateBytes)]))
            p.offset += plateBytes
        }
        var vertices = [SIMD3<Float>](); vertices.reserveCapacity(nv)
        for _ in 0..<nv { vertices.append(SIMD3(p.f32(), p.f32(), p.f32())) }
        var weights = [Float](); weights.reserveCapacity(nv)
        for _ in 0..<nv { weights.append(p.f32()) }
        let pivot = SIMD3(p.f32(), p.f32(), p.f32())
        guard vertices.allSatisfy({ $0.x.isFinite && $0.y.isFinite && $0.z.isFinite }), pivot.x.isFinite,
              pivot.y.isFinite, pivot.z.isFinite else { throw fail("a vertex position is not a finite number") }
        guard weights.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else { throw fail("a head weight is outside 0…1") }
        var triangles = [SIMD3<UInt32>](); triangles.reserveCapacity(nt)
        for _ in 0..<nt {
            let t = SIMD3(p.u32(), p.u32(), p.u32())
            guard Int(t.x) < nv, Int(t.y) < nv, Int(t.z) < nv else {
                throw fail("triangle \(triangles.count) refers to vertex \(max(t.x, t.y, t.z)) of \(nv)")
            }
            triangles.append(t)
        }
        var rig = [RigTarget]()
        for target in doc.rig {
            var indices = [UInt32](), deltas = [SIMD3<Float>]()
            for _ in 0..<target.count {
                let i = p.u32()
                guard Int(i) < nv else { throw fail("rig target \(target.name) moves vertex \(i) of \(nv)") }
                indices.append(i)
            }
            for _ in 0..<target.count {
                let d = SIMD3(p.f32(), p.f32(), p.f32())
                guard d.x.isFinite, d.y.isFinite, d.z.isFinite else {
                    throw fail("rig target \(target.name) has a displacement that is not a finite number")
                }
                deltas.append(d)
            }
            rig.append(RigTarget(name: target.name, indices: indices, deltas: deltas))
        }
        return Avatar(texture: RGBAImage(width: tw, height: th, pixels: pixels), vertices: vertices, triangles: triangles,
                      headWeights: weights, headPivot: pivot, rig: rig, metadata: doc.metadata, background: background)
    }

    // MARK: - Little-endian helpers

    private static func appendU32(_ out: inout [UInt8], _ v: UInt32) {
        out.append(UInt8(v & 0xFF)); out.append(UInt8((v >> 8) & 0xFF))
        out.append(UInt8((v >> 16) & 0xFF)); out.append(UInt8(v >> 24))
    }

    private static func appendU64(_ out: inout [UInt8], _ v: UInt64) {
        appendU32(&out, UInt32(v & 0xFFFF_FFFF)); appendU32(&out, UInt32(v >> 32))
    }

    private static func appendFloats(_ out: inout [UInt8], _ values: Float...) {
        for v in values { appendU32(&out, v.bitPattern) }
    }
}

/// Sequential little-endian reads; callers check lengths first.
private struct ByteReader {
    let bytes: [UInt8]
    var offset: Int

    mutating func u32() -> UInt32 {
        defer { offset += 4 }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    mutating func u64() -> UInt64 {
        let lo = UInt64(u32())
        return lo | UInt64(u32()) << 32
    }

    mutating func f32() -> Float { Float(bitPattern: u32()) }
}
