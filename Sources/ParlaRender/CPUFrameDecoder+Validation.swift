import ParlaFace
import ParlaMedia
import ParlaMotion

extension CPUFrameDecoder {
    /// Smallest and largest output side the decoder accepts.
    static let outputSides = 16...8192
    /// Largest texture side the decoder accepts (keeps fixed-point sample positions far from overflow).
    static let maximumTextureSide = 16384

    /// The avatar's name for error messages: its `file`, `source` or `name` metadata, else "avatar".
    static func name(of avatar: Avatar) -> String {
        for key in ["file", "source", "name"] {
            if let value = avatar.metadata[key], !value.isEmpty { return "avatar \(value)" }
        }
        return "avatar"
    }

    /// Checks everything the decoder relies on, so nothing later can index out of range or see NaN.
    static func validate(_ avatar: Avatar, subject: String, width: Int, height: Int) throws {
        func fail(_ problem: String) -> FrameDecoderError { FrameDecoderError(subject: subject, problem: problem) }
        guard outputSides.contains(width), outputSides.contains(height) else {
            throw FrameDecoderError(
                subject: "output",
                problem: "size \(width)x\(height) is outside \(outputSides.lowerBound)...\(outputSides.upperBound) pixels a side")
        }
        let texture = avatar.texture
        guard texture.width > 0, texture.height > 0 else {
            throw fail("texture is empty (\(texture.width)x\(texture.height))")
        }
        guard texture.width <= maximumTextureSide, texture.height <= maximumTextureSide else {
            throw fail("texture \(texture.width)x\(texture.height) is larger than \(maximumTextureSide) pixels a side")
        }
        guard texture.pixels.count == texture.width * texture.height * 4 else {
            throw fail("texture holds \(texture.pixels.count) bytes, not \(texture.width)x\(texture.height)x4")
        }
        if let plate = avatar.background {
            guard plate.width == texture.width, plate.height == texture.height,
                  plate.pixels.count == plate.width * plate.height * 4 else {
                throw fail("background plate is \(plate.width)x\(plate.height) (\(plate.pixels.count) bytes), "
                           + "the texture \(texture.width)x\(texture.height)")
            }
        }
        let count = avatar.vertices.count
        let needed = FaceTopology.landmarkCount + FaceTopology.irisCount
        guard count >= needed else {
            throw fail("has \(count) vertices but needs at least \(needed) (face-mesh landmarks and iris points)")
        }
        if let bad = avatar.vertices.firstIndex(where: { !($0.x.isFinite && $0.y.isFinite && $0.z.isFinite) }) {
            throw fail("vertex \(bad) is not a finite number")
        }
        guard avatar.headWeights.count == count else {
            throw fail("has \(avatar.headWeights.count) head weights for \(count) vertices")
        }
        if let bad = avatar.headWeights.firstIndex(where: { !$0.isFinite }) {
            throw fail("head weight \(bad) is not a finite number")
        }
        let pivot = avatar.headPivot
        guard pivot.x.isFinite, pivot.y.isFinite, pivot.z.isFinite else { throw fail("head pivot is not finite") }
        guard !avatar.triangles.isEmpty else { throw fail("has no triangles") }
        for (k, t) in avatar.triangles.enumerated() where t.x >= count || t.y >= count || t.z >= count {
            throw fail("triangle \(k) uses vertex \(max(t.x, t.y, t.z)) but there are only \(count) vertices")
        }
        for target in avatar.rig {
            guard target.indices.count == target.deltas.count else {
                throw fail("rig target \(target.name) has \(target.indices.count) indices but \(target.deltas.count) deltas")
            }
            if let bad = target.indices.first(where: { $0 >= count }) {
                throw fail("rig target \(target.name) moves vertex \(bad) but there are only \(count) vertices")
            }
            if target.deltas.contains(where: { !($0.x.isFinite && $0.y.isFinite && $0.z.isFinite) }) {
                throw fail("rig target \(target.name) has a displacement that is not a finite number")
            }
        }
    }

    /// Rejects frames with non-finite numbers (they would smear the whole mesh).
    static func validate(_ frame: MotionFrame) throws {
        func fail(_ what: String) -> FrameDecoderError {
            FrameDecoderError(subject: "motion frame at \(frame.time) s", problem: "\(what) is not a finite number")
        }
        guard frame.headPitch.isFinite else { throw fail("head pitch") }
        guard frame.headYaw.isFinite else { throw fail("head yaw") }
        guard frame.headRoll.isFinite else { throw fail("head roll") }
        guard frame.translation.x.isFinite, frame.translation.y.isFinite else { throw fail("translation") }
        guard frame.scale.isFinite else { throw fail("scale") }
        for (k, w) in frame.blendshapes.values.enumerated() where !w.isFinite {
            throw fail("blendshape \(Blendshape(rawValue: k).map(\.name) ?? String(k))")
        }
    }
}
