import ArgumentParser
import Foundation
import ParlaFace
import ParlaMotion
import ParlaRuntime

/// `parla render`: portrait or avatar + speech → video.
struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a talking-face video from a portrait (or prepared avatar) and speech.",
        discussion: """
            Writes an H.264 MP4 with the speech as its audio track, exactly as long as the audio.
            Examples:
              parla render --avatar anna.avatar --audio speech.wav -o anna.mp4
              parla render --portrait portrait.jpg --audio speech.wav -o out.y4m --size 720 --fps 25
            """
    )

    @Option(help: "A portrait photo (JPEG or PNG); analysed now.")
    var portrait: String?

    @Option(help: "An avatar file made by `parla prepare`.")
    var avatar: String?

    @Option(help: "Speech as a WAV file (PCM 8/16/24/32-bit or float, any rate, mono or stereo).")
    var audio: String

    @Option(name: .shortAndLong, help: "Output: .mp4, .y4m, or a folder for PNG frames.")
    var output: String

    @Option(help: "Output format: mp4, y4m or png (default: from the output name).")
    var format: OutputFormat?

    @Option(help: "Frame size: N (square) or WxH.")
    var size: String = "512"

    @Option(help: "Frames per second.")
    var fps: Double = 30

    @Option(help: "Seed for head motion and blinks (same seed, same video).")
    var seed: UInt64 = 1

    @OptionGroup(title: "Motion controls")
    var motion: MotionControlOptions

    @Option(help: "Mouth driver: visemenet (learned, default) or acoustic (loudness/spectrum).")
    var mouth: String = "visemenet"

    @Option(help: "Model precision: int8 (default: the face models with --portrait, and VisemeNet) or fp32 (the float references).")
    var precision: ModelPrecision = .int8

    @Option(help: "Frame decoder: gles (GLES 3.1 compute), cpu, or auto (GLES on a hardware GPU, else cpu).")
    var backend: DecoderBackend = .cpu

    @Flag(help: "Print a machine-readable summary (frames, seconds, fps achieved) on stdout.")
    var json = false

    func validate() throws {
        if (portrait == nil) == (avatar == nil) { throw ValidationError("give exactly one of --portrait or --avatar") }
        _ = try parseSize(size)
        if MouthDriver(rawValue: mouth) == nil { throw ValidationError("--mouth must be visemenet or acoustic") }
    }

    func run() throws {
        try runReportingErrors {
            let outURL = URL(fileURLWithPath: output)
            guard let fmt = format ?? OutputFormat.inferred(from: outURL) else {
                throw ValidationError("cannot tell the format of \(output): name it .mp4 or .y4m, or pass --format")
            }
            let face: FaceSource = portrait.map { .portrait(URL(fileURLWithPath: $0)) }
                ?? .avatar(URL(fileURLWithPath: avatar!))
            var request = RenderRequest(face: face, audio: URL(fileURLWithPath: audio), output: outURL, format: fmt)
            (request.width, request.height) = try parseSize(size)
            request.motion.fps = fps
            request.motion.seed = seed
            request.motion.controls = try motion.controls()
            request.motion.mouthDriver = MouthDriver(rawValue: mouth) ?? .visemeNet
            request.modelPrecision = precision
            request.motion.visemePrecision = precision == .fp32 ? .fp32 : .int8
            request.backend = backend
            let job = try RenderJob(request: request)
            let bar = ProgressBar(label: "render", enabled: !json && isatty(STDERR_FILENO) != 0)
            let summary = try job.run(progress: bar.update)
            for warning in summary.warnings { FileHandle.standardError.write(Data("parla: warning: \(warning)\n".utf8)) }
            if json {
                try printJSON(summary)
            } else {
                print("wrote \(summary.output): " + String(format: "%d frames, %.2f s at %dx%d, %.1f fps, %.1f× real time",
                             summary.frames, summary.videoSeconds, summary.width, summary.height,
                             summary.fpsAchieved, summary.realtimeFactor))
            }
        }
    }
}

extension OutputFormat: ExpressibleByArgument {}
extension DecoderBackend: ExpressibleByArgument {}

/// Parses "512" or "640x480".
func parseSize(_ text: String) throws -> (Int, Int) {
    let parts = text.lowercased().split(separator: "x").map { Int($0) }
    if parts.count == 1, let n = parts[0], n >= 16, n <= 8192 { return (n, n) }
    if parts.count == 2, let w = parts[0], let h = parts[1], (16...8192).contains(w), (16...8192).contains(h) {
        return (w, h)
    }
    throw ValidationError("--size \(text): give N or WxH, each 16…8192")
}
