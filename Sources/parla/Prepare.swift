import ArgumentParser
import Foundation
import ParlaFace
import ParlaMedia
import ParlaRuntime

/// `parla prepare`: portrait → avatar file.
struct Prepare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the face in a portrait and save an avatar for fast rendering.",
        discussion: "Example: parla prepare portrait.jpg -o anna.avatar --debug-png anna-mesh.png"
    )

    @Argument(help: "A portrait photo or painting (JPEG or PNG) with one face looking roughly at the camera.")
    var portrait: String

    @Option(name: .shortAndLong, help: "The avatar file to write.")
    var output: String

    @Option(help: "Also write the portrait with the found face mesh drawn over it.")
    var debugPng: String?

    @Flag(help: "Print a machine-readable summary on stdout.")
    var json = false

    @OptionGroup var models: ModelOptions

    struct Summary: Encodable {
        var avatar: String
        var portrait: String
        var imageWidth: Int
        var imageHeight: Int
        var textureSide: Int
        var vertices: Int
        var triangles: Int
        var rigTargets: Int
        var detectionScore: Float
        var seconds: Double
    }

    func run() throws {
        try runReportingErrors {
            let start = Date()
            let url = URL(fileURLWithPath: portrait)
            let image = try PortraitPreparation.decode(url)
            let analysis = try PortraitPreparation.analyze(image, source: url, precision: models.precision,
                                                                threads: models.threads)
            let avatar = try PortraitPreparation.avatar(from: image, analysis: analysis, source: url,
                                                        precision: models.precision, threads: models.threads)
            try AvatarFile.write(avatar, to: URL(fileURLWithPath: output))
            if let debugPng {
                try ImageCodec.writePNG(FaceDebugDrawing.meshOverlay(image: image, analysis: analysis),
                                        to: URL(fileURLWithPath: debugPng))
            }
            let summary = Summary(
                avatar: output, portrait: portrait, imageWidth: image.width, imageHeight: image.height,
                textureSide: avatar.texture.width, vertices: avatar.vertices.count, triangles: avatar.triangles.count,
                rigTargets: avatar.rig.count, detectionScore: analysis.detection.score,
                seconds: Date().timeIntervalSince(start))
            if json {
                try printJSON(summary)
            } else {
                print("wrote \(output): \(summary.textureSide)×\(summary.textureSide) texture, \(summary.vertices) vertices, "
                      + "\(summary.triangles) triangles, \(summary.rigTargets) blendshapes "
                      + String(format: "(face score %.2f, %.2f s)", summary.detectionScore, summary.seconds))
            }
        }
    }
}
