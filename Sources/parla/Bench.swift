import ArgumentParser
import Foundation
import ParlaRuntime

/// `parla bench`: fixed scenarios that print speed figures. Without a subcommand: the field testers' scenario.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Parla on this machine.",
        subcommands: [BenchRun.self, BenchRender.self, BenchDecode.self, BenchModels.self, BenchMotion.self],
        defaultSubcommand: BenchRun.self
    )
}

/// `parla bench render`: offline render speed as × real time, per stage.
struct BenchRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Offline render speed (× real time) per stage on the bundled portrait and speech.",
        discussion: """
            Renders the bundled 16.5 s speech clip from the bundled portrait (so face analysis is included) and
            encodes it as MP4 into a temporary file (Y4M when ffmpeg is missing). Stage times are wall clock;
            × real time = audio seconds ÷ stage seconds.
            """
    )

    @Option(help: "Frame size: N (square) or WxH.")
    var size: String = "512"

    @Option(help: "Frames per second.")
    var fps: Double = 30

    @Option(help: "Portrait to use instead of the bundled one.")
    var portrait: String?

    @Option(help: "Speech WAV to use instead of the bundled one.")
    var audio: String?

    @Flag(help: "Print the figures as JSON.")
    var json = false

    func run() throws {
        try runReportingErrors {
            let portraitURL = try portrait.map { URL(fileURLWithPath: $0) } ?? DemoContent.portrait
            let audioURL = try audio.map { URL(fileURLWithPath: $0) } ?? DemoContent.speech
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("parla-bench-\(getpid())")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: tmp) }
            let format: OutputFormat = OutputFormat.mp4.isAvailable ? .mp4 : .y4m
            var request = RenderRequest(
                face: .portrait(portraitURL), audio: audioURL,
                output: tmp.appendingPathComponent("bench.\(format.rawValue)"), format: format)
            (request.width, request.height) = try parseSize(size)
            request.motion.fps = fps
            let summary = try RenderJob(request: request).run()
            if json {
                try printJSON(summary)
                return
            }
            print("parla bench render: \(summary.width)x\(summary.height) @ \(fps) fps, \(summary.frames) frames, "
                  + String(format: "%.2f s of speech, encoder %@", summary.audioSeconds, format.rawValue as NSString))
            print("stage          seconds   ms/frame   × real time")
            for stage in Stage.allCases {
                let s = summary.stageSeconds[stage.rawValue] ?? 0
                let ratio = s > 0 ? String(format: "%10.1f", summary.audioSeconds / s) : "         ∞"
                print(stage.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
                      + String(format: "%10.3f %10.2f ", s, 1000 * s / Double(max(summary.frames, 1))) + ratio)
            }
            print(String(format: "total       %10.3f %10.2f %10.1f", summary.wallSeconds,
                         1000 * summary.wallSeconds / Double(max(summary.frames, 1)), summary.realtimeFactor))
        }
    }
}
