/// Fixed facts about MediaPipe's 468-point face mesh (plus 10 refined iris points) that every portrait shares.
///
/// Contours run from the subject's right mouth or eye corner to the left one. "Left" and "right" are the
/// subject's own sides (the subject's left appears on the image's right), as in MediaPipe and ARKit.
public enum FaceTopology {
    public static let landmarkCount = 468
    public static let irisCount = 10

    // MARK: - Face oval (clockwise from the top of the forehead, 10, as seen in the image)
    public static let faceOval = [
        10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
        152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    ]

    // MARK: - Lips
    public static let outerLipUpper = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
    public static let outerLipLower = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
    public static let innerLipUpper = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
    public static let innerLipLower = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]

    // MARK: - Eyes (lid contours, outer corner to inner corner)
    public static let rightEyeUpper = [33, 246, 161, 160, 159, 158, 157, 173, 133]
    public static let rightEyeLower = [33, 7, 163, 144, 145, 153, 154, 155, 133]
    public static let leftEyeUpper = [263, 466, 388, 387, 386, 385, 384, 398, 362]
    public static let leftEyeLower = [263, 249, 390, 373, 374, 380, 381, 382, 362]

    // MARK: - Iris (refined landmarks: centre then four contour points)
    public static let rightIris = [468, 469, 470, 471, 472]
    public static let leftIris = [473, 474, 475, 476, 477]
}
