import Foundation
import ParlaFace
import ParlaIO
import ParlaMedia
import ParlaMotion
import ParlaRender
import ParlaVoice

/// Everything one offline `parla say` needs.
public struct SayRequest: Sendable {
    /// The text to speak.
    public var text: String
    /// Voice, rate, pitch.
    public var voice = VoiceOptions()
    /// The face; nil takes the bundled demo portrait.
    public var face: FaceSource?
    /// Where the video goes.
    public var output: URL
    public var format: OutputFormat
    public var width = 512
    public var height = 512
    public var motion = MotionOptions()

    public init(text: String, output: URL, format: OutputFormat) {
        self.text = text
        self.output = output
        self.format = format
    }
}

/// What a finished `parla say` reports (`--json`), including every lip closure with its time, so a user (or a
/// test) can check the mouth against the phonemes.
public struct SaySummary: Codable, Sendable {
    /// One p/b/m: its espeak-ng phoneme and the span (seconds) it covers.
    public struct Closure: Codable, Sendable {
        public var phoneme: String
        public var start: Double
        public var end: Double
    }
    public var render: RenderSummary
    public var voice: String
    public var phonemes: Int
    public var closures: [Closure]
}

/// Text → espeak-ng speech and phoneme timing → viseme track → motion frames → decoder → file. The mouth follows
/// the phoneme events' sample positions, so there is no lip-sync error to measure: frame n shows the visemes due
/// at n / fps of the very audio muxed into the file.
public final class SayJob {
    public let request: SayRequest
    public private(set) var timer = StageTimer()
    /// The motion frames of the last run (for tests and diagnostics).
    public private(set) var frames: [MotionFrame] = []
    /// The speech of the last run.
    public private(set) var speech: SynthesizedSpeech?

    public init(request: SayRequest) throws {
        try request.format.checkVideo(width: request.width, height: request.height, fps: request.motion.fps)
        self.request = request
    }

    /// Speaks and renders the whole text. `progress(done, total)` is called after each frame.
    public func run(progress: ((Int, Int) -> Void)? = nil) throws -> SaySummary {
        let start = DispatchTime.now().uptimeNanoseconds
        let r = request
        let speech = try timer.measure(.decode) { try SpeechSynthesizer.shared.synthesize(r.text, options: r.voice) }
        self.speech = speech
        let avatar = try loadAvatar()
        let frames = timer.measure(.motion) { speech.motionFrames(options: r.motion) }
        self.frames = frames
        let decoder = try CPUFrameDecoder(avatar: avatar, width: r.width, height: r.height)

        // The speech as a WAV: muxed into the MP4, or kept beside Y4M/PNG output.
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("parla-say-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let wav = work.appendingPathComponent("speech.wav")
        try WAVFile.write(speech.audio, to: wav)

        let sink = try timer.measure(.encode) { try makeSink(audio: wav) }
        try timer.write(frames, decoder: decoder, to: sink, progress: progress) { try copySpeechBeside(wav) }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let videoSeconds = Double(frames.count) / r.motion.fps
        let render = RenderSummary(
            output: r.output.path, format: r.format, width: r.width, height: r.height, fps: r.motion.fps,
            frames: frames.count, audioSeconds: speech.audio.duration, videoSeconds: videoSeconds, wallSeconds: wall,
            fpsAchieved: Double(frames.count) / wall, realtimeFactor: videoSeconds / wall,
            stageSeconds: Dictionary(uniqueKeysWithValues: Stage.allCases.map { ($0.rawValue, timer.seconds[$0] ?? 0) }),
            warnings: [])
        return SaySummary(render: render, voice: speech.voice, phonemes: speech.phonemes.count,
                          closures: speech.lipClosures().map { .init(phoneme: $0.phoneme, start: $0.start, end: $0.end) })
    }

    private func loadAvatar() throws -> Avatar {
        let face = try request.face ?? .portrait(DemoContent.portrait)
        switch face {
        case .avatar(let url):
            return try timer.measure(.decode) { try AvatarFile.read(contentsOf: url) }
        case .portrait(let url):
            let image = try timer.measure(.decode) { try PortraitPreparation.decode(url) }
            return try timer.measure(.analysis) {
                let analysis = try PortraitPreparation.analyze(image, source: url)
                return try PortraitPreparation.avatar(from: image, analysis: analysis, source: url)
            }
        }
    }

    private func makeSink(audio: URL) throws -> FrameSink {
        try request.format.makeSink(output: request.output, width: request.width, height: request.height,
                                    fps: request.motion.fps, audio: audio)
    }

    private func copySpeechBeside(_ wav: URL) throws {
        try request.format.copySpeech(wav, besideOutput: request.output)
    }
}

/// The pieces `parla say` needs to play speech live through ``LiveJob``.
public enum SayLive {
    /// Writes the synthesized speech as a 16-bit WAV (what ``LiveJob`` plays).
    public static func writeSpeech(_ speech: SynthesizedSpeech, to url: URL) throws {
        try WAVFile.write(speech.audio, to: url)
    }

    /// A stop signal that fires after `seconds` (the utterance and a short rest), or earlier on SIGINT/SIGTERM.
    public static func stopAfter(seconds: Double) -> StopSignal {
        let stop = StopSignal(handlingSignals: true)
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { stop.trigger() }
        return stop
    }

    /// The frame decoder for `avatar`, or for the bundled demo portrait when nil (analysed now).
    public static func decoder(avatar: URL?) -> LiveDecoderFactory {
        return { width, height in
            let face: Avatar
            if let avatar {
                face = try AvatarFile.read(contentsOf: avatar)
            } else {
                let url = try DemoContent.portrait
                let image = try PortraitPreparation.decode(url)
                face = try PortraitPreparation.avatar(from: image, analysis: PortraitPreparation.analyze(image, source: url), source: url)
            }
            return try CPUFrameDecoder(avatar: face, width: width, height: height)
        }
    }
}
