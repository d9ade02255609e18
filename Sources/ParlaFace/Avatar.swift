import ParlaMedia

/// A prepared portrait: everything the frame decoder needs to animate one face, built once by
/// `AvatarBuilder` and stored in an avatar file.
///
/// Coordinates are texture pixels: x right, y down, origin at the texture's top-left corner, pixel centres at
/// half-integers. `z` is depth in the same pixel units, growing away from the camera (MediaPipe's convention).
public struct Avatar: Sendable {
    /// The portrait framed for output (square, face centred), at most 1024 px a side. Rendering the avatar
    /// at rest reproduces this picture.
    public var texture: RGBAImage
    /// Mesh vertices at rest: `FaceTopology.landmarkCount` face-mesh landmarks (MediaPipe numbering),
    /// then `FaceTopology.irisCount` iris points, then ring points (forehead and hair, ears, neck, and the
    /// texture border).
    public var vertices: [SIMD3<Float>]
    /// Triangles over `vertices`, covering the whole texture except the mouth opening (the area inside the
    /// inner-lip contour), which the decoder fills with the drawn mouth interior.
    public var triangles: [SIMD3<UInt32>]
    /// How strongly each vertex follows head motion: 1 on the face, falling through hair, ears and neck,
    /// 0 on the texture border (the background never moves).
    public var headWeights: [Float]
    /// The centre of head rotation (texture pixels, with depth).
    public var headPivot: SIMD3<Float>
    /// Displacements per blendshape at weight 1 (ARKit names); a weight `w` moves vertex `indices[i]` by
    /// `w * deltas[i]`.
    public var rig: [RigTarget]
    /// Where the portrait came from and how it was prepared (file name, tool version, date).
    public var metadata: [String: String]
    /// The background plate (``BackgroundPlate``), the texture's size: RGB is the portrait with the person
    /// inpainted from the surrounding background, alpha is the person mask (0 = background, 255 = person).
    /// The decoders composite with it so the background never warps; nil: no mask, everything follows the mesh.
    public var background: RGBAImage?

    public init(
        texture: RGBAImage, vertices: [SIMD3<Float>], triangles: [SIMD3<UInt32>], headWeights: [Float],
        headPivot: SIMD3<Float>, rig: [RigTarget], metadata: [String: String], background: RGBAImage? = nil
    ) {
        self.texture = texture
        self.background = background
        self.vertices = vertices
        self.triangles = triangles
        self.headWeights = headWeights
        self.headPivot = headPivot
        self.rig = rig
        self.metadata = metadata
    }
}

/// One blendshape's sparse vertex displacement field.
public struct RigTarget: Sendable, Equatable {
    /// The blendshape's ARKit name, e.g. `"jawOpen"`.
    public var name: String
    public var indices: [UInt32]
    /// Displacement at weight 1, texture pixels (x, y, depth).
    public var deltas: [SIMD3<Float>]

    public init(name: String, indices: [UInt32], deltas: [SIMD3<Float>]) {
        precondition(indices.count == deltas.count, "rig target \(name): indices and deltas differ in length")
        self.name = name
        self.indices = indices
        self.deltas = deltas
    }
}
