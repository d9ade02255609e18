import ArgumentParser
import Foundation
import ParlaFace
import ParlaMedia
import ParlaRuntime

struct Poses: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw the face in fixed poses and mouth shapes, tiled into one PNG.",
        discussion: "Left to right: " + PoseSheet.poses.map(\.name).joined(separator: ", ") + ".")

    @Option(help: "A portrait photo (JPEG or PNG); analysed now.")
    var portrait: String?

    @Option(help: "An avatar file made by `parla prepare`.")
    var avatar: String?

    @Option(name: .shortAndLong, help: "The PNG to write.")
    var output: String

    @Option(help: "Size of each frame: N (square) or WxH.")
    var size = "256"

    @Option(help: "Tiles per row.")
    var columns = 4

    @Option(help: "Frame decoder: gles (GLES 3.1 compute), cpu, or auto (GLES on a hardware GPU, else cpu).")
    var backend: DecoderBackend = .cpu

    func validate() throws {
        if (portrait == nil) == (avatar == nil) { throw ValidationError("give exactly one of --portrait or --avatar") }
        _ = try parseSize(size)
        if columns < 1 { throw ValidationError("--columns must be at least 1") }
    }

    func run() throws {
        try runReportingErrors {
            let face: Avatar
            if let portrait {
                let url = URL(fileURLWithPath: portrait)
                let image = try PortraitPreparation.decode(url)
                let analysis = try PortraitPreparation.analyze(image, source: url)
                face = try PortraitPreparation.avatar(from: image, analysis: analysis, source: url)
            } else {
                face = try AvatarFile.read(contentsOf: URL(fileURLWithPath: avatar!))
            }
            let (width, height) = try parseSize(size)
            let decoder = try backend.makeDecoder(avatar: face, width: width, height: height)
            let sheet = try PoseSheet.render(with: decoder, columns: columns)
            try ImageCodec.writePNG(sheet, to: URL(fileURLWithPath: output))
            print("wrote \(output): \(PoseSheet.poses.count) poses at \(width)x\(height) (\(backend) decoder)")
        }
    }
}
