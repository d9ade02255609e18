import ArgumentParser
import Foundation
import ParlaFace
import ParlaRuntime

/// `parla landmarks`: the face mesh of a portrait, in its pixels.
struct Landmarks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the face box, 468 face-mesh landmarks and 10 iris points of a portrait.",
        discussion: """
            Coordinates are pixels of the picture as displayed (EXIF orientation applied), x right, y down;
            z is relative depth in the same units (smaller is nearer the camera). Landmark numbering is MediaPipe's.
            """
    )

    @Argument(help: "A portrait photo (JPEG or PNG).")
    var portrait: String

    @Flag(help: "Print JSON (box, score, keypoints, landmarks, iris) instead of a summary.")
    var json = false

    @OptionGroup var models: ModelOptions

    struct Output: Encodable {
        struct Box: Encodable { var x, y, width, height: Float }
        var image: String
        var width: Int
        var height: Int
        var box: Box
        var score: Float
        var presence: Float
        /// Detector keypoints: right eye, left eye, nose tip, mouth, right ear, left ear.
        var keypoints: [[Float]]
        var landmarks: [[Float]]
        var iris: [[Float]]
    }

    func run() throws {
        try runReportingErrors {
            let url = URL(fileURLWithPath: portrait)
            let image = try PortraitPreparation.decode(url)
            let a = try PortraitPreparation.analyze(image, source: url, precision: models.precision,
                                                         threads: models.threads)
            let points = a.landmarks.map { [$0.x, $0.y, $0.z] }
            let out = Output(
                image: portrait, width: image.width, height: image.height,
                box: .init(x: a.detection.boxMin.x, y: a.detection.boxMin.y,
                           width: a.detection.boxSize.x, height: a.detection.boxSize.y),
                score: a.detection.score, presence: a.presence,
                keypoints: a.detection.keypoints.map { [$0.x, $0.y] },
                landmarks: Array(points.prefix(FaceTopology.landmarkCount)),
                iris: Array(points.dropFirst(FaceTopology.landmarkCount)))
            if json {
                try printJSON(out)
                return
            }
            print("\(portrait): \(image.width)×\(image.height), face box "
                  + String(format: "x %.0f y %.0f w %.0f h %.0f, score %.2f, presence %.2f",
                           out.box.x, out.box.y, out.box.width, out.box.height, out.score, out.presence))
            let eyes = a.eyeCentres
            print(String(format: "eye centres (%.1f, %.1f) and (%.1f, %.1f), inter-ocular %.1f px; %d landmarks + %d iris points (--json for all)",
                         eyes.right.x, eyes.right.y, eyes.left.x, eyes.left.y, a.interOcularDistance,
                         out.landmarks.count, out.iris.count))
        }
    }
}
