import ArgumentParser
import Foundation
import ParlaRuntime
import ParlaVoice

/// `parla say`: text → speech (espeak-ng) → talking face, live or to a file.
struct Say: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Speak text with the built-in voice (espeak-ng) and move the face in sync, live or to a video file.",
        discussion: """
            The mouth follows the phonemes at the sample positions the synthesizer reports, so the picture cannot \
            drift from the sound. Punctuation makes pauses (comma, full stop, paragraph break); with --ssml, \
            <break time="500ms"/> and friends work too.
            Examples:
              parla say "Welcome to the museum." --avatar anna.avatar --voice en-us      (live: KMS + ALSA)
              parla say --text-file script.txt --avatar anna.avatar -o welcome.mp4       (offline)
              parla say --list-voices
            """
    )

    @Argument(help: "The text to say (or use --text-file).")
    var text: String?
    @Option(name: .customLong("text-file"), help: "Read the text from this UTF-8 file.")
    var textFile: String?
    @Flag(name: .customLong("list-voices"), help: "List the installed voices and exit.")
    var listVoices = false
    @Option(help: "espeak-ng voice or language (en-us, en-gb, de, fr, en-us+f3 …) or an installed MBROLA voice (mb-us1).")
    var voice = "en-us"
    @Option(help: "Words per minute (80…450).")
    var rate = 175
    @Option(help: "Base pitch (0…100, 50 = the voice's own).")
    var pitch = 50
    @Option(name: .customLong("word-gap"), help: "Extra pause between words, in 10 ms units.")
    var wordGap = 0
    @Flag(help: "Treat <…> in the text as SSML (breaks, emphasis, prosody).")
    var ssml = false
    @Option(help: "An avatar file made by `parla prepare` (default: the bundled demo portrait).")
    var avatar: String?
    @Option(name: .shortAndLong, help: "Write a video (.mp4, .y4m, or a folder for PNG frames) instead of playing live.")
    var output: String?
    @Option(help: "Output format: mp4, y4m or png (default: from the output name).")
    var format: OutputFormat?
    @Option(help: "Frame size: N (square) or WxH (files only; live pictures are square, fitted to the screen).")
    var size: String = "512"
    @Option(help: "Frames per second.")
    var fps: Double = 30
    @Option(help: "Seed for head motion and blinks.")
    var seed: UInt64 = 1
    @Option(name: .customLong("audio-device"), help: "Live: ALSA playback device.")
    var audioDevice = "default"
    @Option(help: "Live: DRM device file (default: the first card with a connected display).")
    var card: String?
    @Flag(help: "Offline: print a machine-readable summary (frames, lip closures with their times) on stdout.")
    var json = false

    func validate() throws {
        if listVoices { return }
        if (text == nil) == (textFile == nil) { throw ValidationError("give the text as an argument or with --text-file (one of them)") }
        let (width, height) = try parseSize(size)
        if output == nil, width != height {
            throw ValidationError("--size \(size): the live picture is square: give one number (WxH is for files, -o)")
        }
        if output == nil, json { throw ValidationError("--json needs -o (it reports a rendered file)") }
    }

    func run() throws {
        try runReportingErrors {
            if listVoices {
                for v in try SpeechSynthesizer.shared.voices() {
                    print(v.name.padding(toLength: 16, withPad: " ", startingAt: 0) + v.title)
                }
                return
            }
            let words = try textFile.map(Self.readText) ?? text!
            var options = VoiceOptions()
            options.voice = voice.trimmingCharacters(in: .whitespaces)
            options.rate = rate
            options.pitch = pitch
            options.wordGap = wordGap
            options.ssml = ssml
            try options.validate()
            guard let output else {
                try runLive(text: words, voice: options)
                return
            }
            let outURL = URL(fileURLWithPath: output)
            guard let fmt = format ?? OutputFormat.inferred(from: outURL) else {
                throw ValidationError("cannot tell the format of \(output): name it .mp4 or .y4m, or pass --format")
            }
            var request = SayRequest(text: words, output: outURL, format: fmt)
            request.voice = options
            request.face = avatar.map { .avatar(URL(fileURLWithPath: $0)) }
            (request.width, request.height) = try parseSize(size)
            request.motion.fps = fps
            request.motion.seed = seed
            let bar = ProgressBar(label: "say", enabled: !json && isatty(STDERR_FILENO) != 0)
            let summary = try SayJob(request: request).run(progress: bar.update)
            if json {
                try printJSON(summary)
            } else {
                let r = summary.render
                print("wrote \(r.output): " + String(format: "%d frames, %.2f s at %dx%d, %d phonemes (%d lip closures), %.1f× real time",
                                                     r.frames, r.videoSeconds, r.width, r.height, summary.phonemes,
                                                     summary.closures.count, r.realtimeFactor))
            }
        }
    }

    /// Live: the speech through ALSA and the face on the KMS display, as `parla live` plays a clip, the mouth from
    /// the synthesizer's phoneme events (as in the file path), not from the audio.
    private func runLive(text: String, voice: VoiceOptions) throws {
        let speech = try SpeechSynthesizer.shared.synthesize(text, options: voice)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("parla-say-\(getpid()).wav")
        defer { try? FileManager.default.removeItem(at: work) }
        try SayLive.writeSpeech(speech, to: work)
        var options = LiveOptions(audio: work)
        options.visemes = speech.visemeEvents()
        options.avatar = avatar.map { URL(fileURLWithPath: $0) }
        options.audioDevice = audioDevice.lowercased() == "none" ? nil : audioDevice
        options.card = card
        options.size = try parseSize(size).0
        options.fps = fps
        options.seed = seed
        options.idleSeconds = 2
        let job = LiveJob(options: options)
        job.report = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
        _ = try job.run(stop: SayLive.stopAfter(seconds: speech.audio.duration + 1.5), makeDecoder: SayLive.decoder(avatar: options.avatar))
    }

    static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw RuntimeError("\(path): cannot read the text file") }
        guard let s = String(data: data, encoding: .utf8) else { throw RuntimeError("\(path): the text is not UTF-8") }
        return s
    }
}
