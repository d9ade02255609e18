import ArgumentParser
import Foundation
import ParlaFace
import ParlaMedia
import ParlaRuntime

/// `parla mask`: the person mask of a portrait (MediaPipe selfie segmentation), as a grey PNG.
struct Mask: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the person mask of a portrait as a grey PNG (white = person).",
        discussion: """
            The mask has the picture's size (EXIF orientation applied); each pixel is 255 × the probability that it \
            shows a person, from MediaPipe's selfie segmentation model (int8 unless --precision fp32).
            """
    )

    @Argument(help: "A portrait photo (JPEG or PNG).")
    var portrait: String

    @Option(name: .shortAndLong, help: "Where to write the mask (PNG).")
    var output: String

    @Flag(help: "Print JSON (size, person coverage at probability 0.5, precision) instead of a summary.")
    var json = false

    @OptionGroup var models: ModelOptions

    struct Output: Encodable {
        var image: String
        var mask: String
        var width: Int
        var height: Int
        var coverage: Float
        var precision: String
    }

    func run() throws {
        try runReportingErrors {
            let url = URL(fileURLWithPath: portrait)
            let image = try PortraitPreparation.decode(url)
            let segmenter = try PersonSegmenter(precision: models.precision, threads: models.threads)
            let mask = try segmenter.segment(image, name: url.lastPathComponent)
            try ImageCodec.writePNG(mask.greyImage(), to: URL(fileURLWithPath: output))
            let out = Output(image: portrait, mask: output, width: mask.width, height: mask.height,
                             coverage: mask.coverage(), precision: models.precision.rawValue)
            if json {
                try printJSON(out)
                return
            }
            print("\(portrait): \(mask.width)×\(mask.height), person covers "
                  + String(format: "%.1f %%", 100 * out.coverage) + " (probability ≥ 0.5, \(out.precision)); wrote \(output)")
        }
    }
}
