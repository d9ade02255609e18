import Foundation
import ParlaFace
import ParlaMedia

/// Portrait → face analysis → avatar, with errors that name the portrait file.
public enum PortraitPreparation {
    /// Portraits are decoded at no less than this many pixels on their shorter side (JPEGs larger than that are
    /// scaled down by libjpeg while decoding, which bounds memory for huge photos).
    public static let decodeMinimumSide = 2048

    /// Decodes a portrait (JPEG or PNG, EXIF orientation applied).
    public static func decode(_ url: URL) throws -> RGBAImage {
        try ImageCodec.decode(contentsOf: url, minimumSide: decodeMinimumSide)
    }

    /// Finds the face in `image`, decoded from `source`.
    public static func analyze(_ image: RGBAImage, source: URL, modelsDirectory: URL? = nil,
                               precision: ModelPrecision = .int8, threads: Int = 1) throws -> FaceAnalysis {
        try FaceAnalyzer(modelsDirectory: modelsDirectory, precision: precision, threads: threads)
            .analyze(image, source: source.path)
    }

    /// Builds the avatar from a found face, with its person mask and background plate (MediaPipe's selfie
    /// segmentation on the framed texture).
    public static func avatar(from image: RGBAImage, analysis: FaceAnalysis, source: URL, modelsDirectory: URL? = nil,
                              precision: ModelPrecision = .int8, threads: Int = 1) throws -> Avatar {
        let segmenter = try PersonSegmenter(directory: modelsDirectory, precision: precision, threads: threads)
        return try AvatarBuilder.build(image: image, analysis: analysis, source: source.lastPathComponent,
                                       segmenter: segmenter)
    }
}
