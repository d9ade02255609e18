import Foundation
import ParlaMedia

/// Where the avatar's square texture sits in the source picture (pixels; may reach outside the picture, where
/// edge pixels are repeated).
public struct AvatarFraming: Sendable, Equatable {
    /// Left edge in picture pixels.
    public var x: Int
    /// Top edge in picture pixels.
    public var y: Int
    /// Side of the square in picture pixels.
    public var side: Int
    /// Side of the texture in pixels (`side`, capped at ``AvatarBuilder/maximumTextureSide``).
    public var textureSide: Int

    /// Texture pixels per picture pixel.
    public var scale: Float { Float(textureSide) / Float(side) }

    /// Maps a picture point (with depth) into texture pixels.
    public func toTexture(_ p: SIMD3<Float>) -> SIMD3<Float> {
        SIMD3(p.x - Float(x), p.y - Float(y), p.z) * scale
    }

    /// Whether the square lies entirely inside a `width`×`height` picture.
    public func isInside(width: Int, height: Int) -> Bool {
        x >= 0 && y >= 0 && x + side <= width && y + side <= height
    }
}

/// Turns a portrait and its ``FaceAnalysis`` into an ``Avatar``: a square texture framed around the face, a
/// triangle mesh covering the whole texture except the mouth opening, per-vertex head weights, a head pivot and
/// a blendshape rig (see docs/avatar.md for the numbers).
public enum AvatarBuilder {
    /// Largest texture side; bigger framings are area-downscaled.
    public static let maximumTextureSide = 1024
    /// Face width (widest face-oval extent) as a fraction of the square, when the picture allows.
    public static let faceWidthFraction: Float = 0.43
    /// Largest face fraction accepted to keep the square inside the picture.
    public static let maximumFaceWidthFraction: Float = 0.55
    /// Height of the eye line in the square, from the top, as a fraction of the side.
    public static let eyeHeightFraction: Float = 0.40

    /// The square around the face: face centred horizontally, eyes at 40 % height, face 43 % of the width,
    /// shrunk (down to a 55 % face) and shifted to stay inside the picture when possible.
    public static func framing(for analysis: FaceAnalysis) -> AvatarFraming {
        let points = analysis.landmarks
        let oval = FaceTopology.faceOval.map { xy(points[$0]) }
        var lo = oval[0], hi = oval[0]
        for p in oval {
            lo = pointwiseMin(lo, p)
            hi = pointwiseMax(hi, p)
        }
        let faceWidth = max(hi.x - lo.x, 1)
        let (rightEye, leftEye) = analysis.eyeCentres
        let eyeY = (rightEye.y + leftEye.y) / 2
        let centreX = (lo.x + hi.x) / 2
        let width = Float(analysis.imageWidth), height = Float(analysis.imageHeight)
        var side = max(faceWidth / maximumFaceWidthFraction, min(faceWidth / faceWidthFraction, min(width, height)))
        // Keep the whole face outline inside with a margin, whatever its proportions.
        side = max(side, (hi.y - eyeY) / (1 - eyeHeightFraction) * 1.15, (eyeY - lo.y) / eyeHeightFraction * 1.15)
        let sideInt = max(8, Int(side.rounded()))
        let s = Float(sideInt)
        var left = (centreX - s / 2).rounded()
        var top = (eyeY - eyeHeightFraction * s).rounded()
        if sideInt <= analysis.imageWidth { left = min(max(left, 0), width - s) }
        if sideInt <= analysis.imageHeight { top = min(max(top, 0), height - s) }
        return AvatarFraming(x: Int(left), y: Int(top), side: sideInt, textureSide: min(sideInt, maximumTextureSide))
    }

    /// Builds the avatar. `source` is the portrait's file name, recorded in the metadata and used in errors.
    /// With a `segmenter`, the framed texture's person mask and a ``BackgroundPlate`` are made too
    /// (``Avatar/background``; `parla prepare` always passes one); without, the avatar has no background plate.
    public static func build(image: RGBAImage, analysis: FaceAnalysis, source: String,
                             segmenter: PersonSegmenter? = nil) throws -> Avatar {
        guard image.width == analysis.imageWidth && image.height == analysis.imageHeight else {
            throw FaceError(.avatar, file: source, problem: "the face analysis is for a \(analysis.imageWidth)x"
                                + "\(analysis.imageHeight) picture, not this \(image.width)x\(image.height) one")
        }
        guard analysis.landmarks.count == FaceTopology.refinedLandmarkCount,
              analysis.landmarks.allSatisfy({ $0.x.isFinite && $0.y.isFinite && $0.z.isFinite }) else {
            throw FaceError(.avatar, file: source, problem: "the face analysis needs \(FaceTopology.refinedLandmarkCount) "
                                + "finite landmarks, has \(analysis.landmarks.count)")
        }
        let framing = framing(for: analysis)
        var texture = image.cropped(x: framing.x, y: framing.y, width: framing.side, height: framing.side)
        if framing.textureSide != framing.side {
            texture = texture.resized(width: framing.textureSide, height: framing.textureSide)
        }
        let face = analysis.landmarks.map { framing.toTexture($0) }
        let mesh = try AvatarMesh(face: face, textureSide: framing.textureSide, source: source)
        let rig = AvatarRig(mesh: mesh).targets()
        var metadata: [String: String] = [
            "source": (source as NSString).lastPathComponent,
            "source.size": "\(image.width)x\(image.height)",
            "framing": "x=\(framing.x) y=\(framing.y) side=\(framing.side)",
            "texture.size": "\(framing.textureSide)x\(framing.textureSide)",
            "face.models": analysis.modelNames.joined(separator: ","),
            "face.detection.score": String(format: "%.3f", analysis.detection.score),
            "face.presence": String(format: "%.3f", analysis.presence),
            "face.width": String(format: "%.1f", mesh.frame.faceWidth),
            "builder": "ParlaFace.AvatarBuilder (docs/avatar.md)",
            "vertices.layout": "0..<478 face mesh + iris, then \(mesh.ringCount) rings of \(mesh.ringSize), "
                + "then \(mesh.borderCount) border points",
            "created": ISO8601DateFormatter().string(from: Date()),
            "command": ProcessInfo.processInfo.arguments.joined(separator: " "),
        ]
        var background: RGBAImage?
        if let segmenter {
            let mask = try segmenter.segment(texture, name: (source as NSString).lastPathComponent)
            background = BackgroundPlate.make(texture: texture, mask: mask)
            metadata["person.mask"] = "\(segmenter.model.name) on the texture, person (≥ 0.5) covers "
                + String(format: "%.1f %%", 100 * mask.coverage())
        }
        if mesh.movedLandmarks > 0 {
            metadata["mesh.untangled"] = "\(mesh.movedLandmarks) landmarks moved (max \(String(format: "%.2f", mesh.maximumMove)) px) "
                + "to remove folded triangles"
        }
        return Avatar(texture: texture, vertices: mesh.posedVertices, triangles: mesh.triangles,
                      headWeights: mesh.headWeights, headPivot: mesh.headPivot, rig: rig, metadata: metadata,
                      background: background)
    }
}
