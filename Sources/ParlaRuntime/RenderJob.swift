import Foundation
import ParlaFace
import ParlaIO
import ParlaMedia
import ParlaMotion
import ParlaRender
import ParlaRenderGLES

/// The container a render writes.
public enum OutputFormat: String, CaseIterable, Codable, Sendable {
    /// H.264 yuv420p + AAC in MP4, through ffmpeg.
    case mp4
    /// YUV4MPEG2 video; the speech is copied beside it as `<name>.wav`.
    case y4m
    /// A folder of PNG frames plus `audio.wav`.
    case png
    /// No output: measures the pipeline (benchmarks).
    case null

    /// Whether this machine can write the format (MP4 needs ffmpeg on PATH).
    public var isAvailable: Bool {
        self != .mp4 || FFmpegMP4Sink.findExecutable("ffmpeg") != nil
    }

    /// The format a file name implies, if any.
    public static func inferred(from url: URL) -> OutputFormat? {
        switch url.pathExtension.lowercased() {
        case "mp4", "m4v", "mov": return .mp4
        case "y4m": return .y4m
        case "": return .png
        default: return nil
        }
    }
}

/// Which frame decoder draws the pictures (`--backend`).
public enum DecoderBackend: String, CaseIterable, Codable, Sendable {
    /// GLES 3.1 compute shaders (Shaders/); fails when no EGL/GLES 3.1 context can be made.
    case gles
    /// The Swift CPU reference.
    case cpu
    /// GLES when a context with compute shaders on a hardware GPU is available, else CPU (on a software
    /// rasterizer — Mesa llvmpipe/softpipe — the CPU decoder is about ten times cheaper, see docs/frame-decoder.md).
    case auto

    /// A decoder for `avatar` at `width × height`; `.auto` falls back to the CPU when GLES cannot start. The CPU
    /// decoder splits each picture over `cpuThreads` threads (the same pixels for any count).
    public func makeDecoder(avatar: Avatar, width: Int, height: Int, cpuThreads: Int = 1) throws -> FrameDecoder {
        switch self {
        case .cpu: return try CPUFrameDecoder(avatar: avatar, width: width, height: height, threads: cpuThreads)
        case .gles: return try GLESFrameDecoder(avatar: avatar, width: width, height: height)
        case .auto:
            if let context = try? GLESContext(), !context.isSoftwareRenderer {
                return try GLESFrameDecoder(avatar: avatar, width: width, height: height, context: context)
            }
            return try CPUFrameDecoder(avatar: avatar, width: width, height: height, threads: cpuThreads)
        }
    }
}

/// Where the face comes from: a portrait analysed now, or an avatar prepared earlier.
public enum FaceSource: Sendable {
    case portrait(URL)
    case avatar(URL)
}

/// Everything one offline render needs.
public struct RenderRequest: Sendable {
    public var face: FaceSource
    public var audio: URL
    public var output: URL
    public var format: OutputFormat
    public var width = 512
    public var height = 512
    public var motion = MotionOptions()
    public var backend = DecoderBackend.cpu
    /// Precision of the face models when `face` is a portrait (VisemeNet's is `motion.visemePrecision`).
    public var modelPrecision = ModelPrecision.int8

    public init(face: FaceSource, audio: URL, output: URL, format: OutputFormat) {
        self.face = face
        self.audio = audio
        self.output = output
        self.format = format
    }
}

/// What a finished render reports (`parla render --json`).
public struct RenderSummary: Codable, Sendable {
    public var output: String
    public var format: OutputFormat
    public var width: Int
    public var height: Int
    public var fps: Double
    public var frames: Int
    public var audioSeconds: Double
    public var videoSeconds: Double
    public var wallSeconds: Double
    /// Frames produced per wall-clock second, whole job.
    public var fpsAchieved: Double
    /// Seconds of video per second of wall clock, whole job.
    public var realtimeFactor: Double
    /// Wall-clock seconds per stage.
    public var stageSeconds: [String: Double]
    /// Problems with the input that did not stop the render (e.g. a WAV cut short), one line each.
    public var warnings: [String]
}

/// Runs portrait/avatar + speech → frames → sink, stage by stage, with the audio clock as master:
/// frame n shows the motion at n / fps seconds, and there are ceil(duration · fps) frames.
public final class RenderJob {
    public let request: RenderRequest
    public private(set) var timer = StageTimer()

    public init(request: RenderRequest) throws {
        try request.format.checkVideo(width: request.width, height: request.height, fps: request.motion.fps)
        self.request = request
    }

    /// Renders the whole clip. `progress(done, total)` is called after each frame.
    public func run(progress: ((Int, Int) -> Void)? = nil) throws -> RenderSummary {
        let start = DispatchTime.now().uptimeNanoseconds
        let speech = try timer.measure(.decode) { try SpeechInput.load(request.audio) }
        let avatar = try loadAvatar()
        let frames = timer.measure(.motion) { MotionComposer(options: request.motion).frames(for: speech.analysis) }
        let decoder = try request.backend.makeDecoder(avatar: avatar, width: request.width, height: request.height)
        let sink = try timer.measure(.encode) { try makeSink(speech: speech) }
        try timer.write(frames, decoder: decoder, to: sink, progress: progress) { try copySpeechBeside(speech) }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let videoSeconds = Double(frames.count) / request.motion.fps
        return RenderSummary(
            output: request.output.path, format: request.format, width: request.width, height: request.height,
            fps: request.motion.fps, frames: frames.count, audioSeconds: speech.duration, videoSeconds: videoSeconds,
            wallSeconds: wall, fpsAchieved: Double(frames.count) / wall, realtimeFactor: videoSeconds / wall,
            stageSeconds: Dictionary(uniqueKeysWithValues: Stage.allCases.map { ($0.rawValue, timer.seconds[$0] ?? 0) }),
            warnings: speech.warning.map { [$0] } ?? []
        )
    }

    private func loadAvatar() throws -> Avatar {
        switch request.face {
        case .avatar(let url):
            return try timer.measure(.decode) { try AvatarFile.read(contentsOf: url) }
        case .portrait(let url):
            let image = try timer.measure(.decode) { try PortraitPreparation.decode(url) }
            return try timer.measure(.analysis) {
                let analysis = try PortraitPreparation.analyze(image, source: url, precision: request.modelPrecision)
                return try PortraitPreparation.avatar(from: image, analysis: analysis, source: url,
                                                      precision: request.modelPrecision)
            }
        }
    }

    private func makeSink(speech: SpeechInput) throws -> FrameSink {
        try request.format.makeSink(output: request.output, width: request.width, height: request.height,
                                    fps: request.motion.fps, audio: speech.url)
    }

    private func copySpeechBeside(_ speech: SpeechInput) throws {
        try request.format.copySpeech(speech.url, besideOutput: request.output)
    }
}

extension StageTimer {
    /// Decodes `frames` one by one into `sink` (timed as frame decode and encode), finishes the file, then runs
    /// `finished` (e.g. copying the speech beside it). On any error the sink is cancelled, so no half-written
    /// output is left, and the error is rethrown.
    mutating func write(_ frames: [MotionFrame], decoder: FrameDecoder, to sink: FrameSink,
                        progress: ((Int, Int) -> Void)?, finished: () throws -> Void) throws {
        var image = RGBAImage(width: decoder.width, height: decoder.height)
        do {
            for (n, frame) in frames.enumerated() {
                try measure(.frameDecode) { try decoder.decode(frame, into: &image) }
                try measure(.encode) { try sink.write(image) }
                progress?(n + 1, frames.count)
            }
            try measure(.encode) { try sink.finish() }
            try finished()
        } catch {
            sink.cancel()
            throw error
        }
    }
}

extension OutputFormat {
    /// Refuses a video size or frame rate this format (or any) cannot take, in one line naming the option.
    func checkVideo(width: Int, height: Int, fps: Double) throws {
        guard (16...8192).contains(width), (16...8192).contains(height) else {
            throw RuntimeError("--size \(width)x\(height): each side must be 16…8192 pixels")
        }
        guard fps >= 1, fps <= 240 else { throw RuntimeError("--fps \(String(format: "%g", fps)): must be between 1 and 240") }
        if self == .mp4, width % 2 != 0 || height % 2 != 0 {
            throw RuntimeError("--size \(width)x\(height): MP4 (yuv420p) needs even sides")
        }
    }

    /// The sink that writes this format to `output`, carrying the synthetic mark (MP4 muxes `audio` in).
    func makeSink(output: URL, width: Int, height: Int, fps: Double, audio: URL) throws -> FrameSink {
        let mark = VideoMetadata.syntheticMark(version: ParlaVersion.string)
        switch self {
        case .mp4:
            return try FFmpegMP4Sink(url: output, width: width, height: height, fps: fps, audio: audio, comment: mark)
        case .y4m:
            return try Y4MSink(url: output, width: width, height: height, fps: fps)
        case .png:
            return try PNGSequenceSink(directory: output, comment: mark)
        case .null:
            return NullSink()
        }
    }

    /// Formats without an audio track get the speech next to them, so the result is never silent by accident.
    func copySpeech(_ wav: URL, besideOutput output: URL) throws {
        let target: URL
        switch self {
        case .y4m: target = output.deletingPathExtension().appendingPathExtension("wav")
        case .png: target = output.appendingPathComponent("audio.wav")
        case .mp4, .null: return
        }
        do {
            if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
            try FileManager.default.copyItem(at: wav, to: target)
        } catch {
            throw RuntimeError("\(target.path): cannot copy the speech beside the video: \(error.localizedDescription)")
        }
    }
}
