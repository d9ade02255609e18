/// Named landmarks and landmark groups used by the detector-to-avatar pipeline (MediaPipe numbering).
extension FaceTopology {
    /// Landmark count with the refined iris points (468 mesh + 10 iris).
    public static let refinedLandmarkCount = landmarkCount + irisCount

    /// Tip of the nose.
    public static let noseTip = 1
    /// Bottom of the chin.
    public static let chin = 152
    /// Top of the forehead (start of `faceOval`).
    public static let foreheadTop = 10
    /// Subject's right eye, outer (image-left) corner.
    public static let rightEyeOuterCorner = 33
    /// Subject's right eye, inner corner.
    public static let rightEyeInnerCorner = 133
    /// Subject's left eye, outer (image-right) corner.
    public static let leftEyeOuterCorner = 263
    /// Subject's left eye, inner corner.
    public static let leftEyeInnerCorner = 362
    /// Subject's right mouth corner (outer lip).
    public static let rightMouthCorner = 61
    /// Subject's left mouth corner (outer lip).
    public static let leftMouthCorner = 291
    /// Upper inner lip, centre.
    public static let upperLipCentre = 13
    /// Lower inner lip, centre.
    public static let lowerLipCentre = 14
    /// Face-oval points at ear level on the subject's right and left (the widest points of the cheeks).
    public static let rightCheekSide = 234
    /// See ``rightCheekSide``.
    public static let leftCheekSide = 454

    // MARK: - Eyebrows (outer end to inner end)
    /// Subject's right eyebrow, upper edge.
    public static let rightEyebrowUpper = [70, 63, 105, 66, 107]
    /// Subject's right eyebrow, lower edge.
    public static let rightEyebrowLower = [46, 53, 52, 65, 55]
    /// Subject's left eyebrow, upper edge.
    public static let leftEyebrowUpper = [300, 293, 334, 296, 336]
    /// Subject's left eyebrow, lower edge.
    public static let leftEyebrowLower = [276, 283, 282, 295, 285]

    /// The iris contour points after the centre are, for both eyes, in image order: 1 = image right, 2 = top,
    /// 3 = image left, 4 = bottom (MediaPipe's 478-point layout).
    public static let irisContourOrder = ["image right", "top", "image left", "bottom"]

    /// The subject's left and right as one value, for per-side landmark sets.
    public enum Side: String, Sendable, CaseIterable {
        case left = "Left"
        case right = "Right"
    }

    /// Upper lid contour (outer corner to inner corner) of one eye.
    public static func eyeUpper(_ side: Side) -> [Int] { side == .left ? leftEyeUpper : rightEyeUpper }
    /// Lower lid contour (outer corner to inner corner) of one eye.
    public static func eyeLower(_ side: Side) -> [Int] { side == .left ? leftEyeLower : rightEyeLower }
    /// Iris centre then four contour points of one eye.
    public static func iris(_ side: Side) -> [Int] { side == .left ? leftIris : rightIris }
    /// Eyebrow upper edge, outer to inner.
    public static func eyebrowUpper(_ side: Side) -> [Int] { side == .left ? leftEyebrowUpper : rightEyebrowUpper }
    /// Eyebrow lower edge, outer to inner.
    public static func eyebrowLower(_ side: Side) -> [Int] { side == .left ? leftEyebrowLower : rightEyebrowLower }
    /// Outer lip corner on one side.
    public static func mouthCorner(_ side: Side) -> Int { side == .left ? leftMouthCorner : rightMouthCorner }
}
