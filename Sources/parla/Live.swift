import ArgumentParser
import Foundation
import ParlaRuntime

/// `parla live`: the talking face full-screen on a KMS display, the speech on ALSA, in sync.
struct Live: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Show the talking face full-screen through DRM/KMS (no desktop needed) with the speech on ALSA.",
        discussion: """
        Run it from a text console or over ssh, not under X or Wayland: it takes the display, plays the speech and \
        moves the face in sync with what is heard, then idles (or loops with --loop) until Ctrl-C or SIGTERM, and \
        restores the previous mode. A TTS streaming raw PCM drives it too: \
        some-tts --stdout | parla live --avatar anna.avatar --pcm-stdin s16le:22050:1. See docs/live.md.
        """)

    @Flag(name: .customLong("list-outputs"), help: "List connectors, modes, CRTCs, planes, whether GBM/EGL gives GLES 3.1 (the GPU path), and ALSA devices, then exit.")
    var listOutputs = false
    @Option(help: "The prepared avatar file (made by `parla prepare`).")
    var avatar: String?
    @Option(help: "The speech to play (WAV).")
    var audio: String?
    @Option(help: "Follow an ALSA capture device instead of a file (e.g. default, hw:1,0, plughw:CARD=Device): the face speaks along with the microphone.")
    var mic: String?
    @OptionGroup(title: "PCM stream, instead of --audio or --mic")
    var pcm: PCMStreamOptions
    @Flag(help: "Play the clip again and again instead of idling after it.")
    var loop = false
    @OptionGroup
    var display: DisplayOptions
    @Option(help: "Side of the square face picture in pixels, before fitting it to the screen.")
    var size = 512
    @Option(help: "Motion frames per second.")
    var fps: Double = 30
    @Option(help: "Frame decoder: cpu (copied into dumb buffers), gles (GLES 3.1 compute drawing into a GBM/EGL scan-out surface; read back into dumb buffers where the card has no GBM/EGL) or auto (gles on a hardware GPU, else cpu).")
    var backend: DecoderBackend = .cpu
    @Option(help: "Write one CSV line per frame shown (tick, frame, flip time, audio position) to this file.")
    var trace: String?
    @Option(help: "Motion seed (blinks, head motion).")
    var seed: UInt64 = 1
    @OptionGroup(title: "Motion controls")
    var motion: MotionControlOptions
    @Option(help: "Write the screen that composed frame --preview-frame gives in --mode WIDTHxHEIGHT to this PNG and exit (no display needed).")
    var preview: String?
    @Option(name: .customLong("preview-frame"), help: "The composed frame --preview shows (frame n is due at n / fps).")
    var previewFrame = 0

    func validate() throws {
        guard !listOutputs else { return }
        guard avatar != nil else { throw ValidationError("--avatar is required (or use --list-outputs)") }
        guard [audio != nil, mic != nil, pcm.isGiven].filter({ $0 }).count == 1 else {
            throw ValidationError("give one of --audio FILE, --mic DEVICE, --pcm-stdin FORMAT, --pcm-socket PATH, --pcm-fifo PATH")
        }
        if audio == nil && preview != nil { throw ValidationError("--preview needs --audio (there is no live picture to preview)") }
        if pcm.isGiven && loop { throw ValidationError("--loop needs --audio (a stream is not replayed)") }
        guard (16...4096).contains(size) else { throw ValidationError("--size must be between 16 and 4096") }
        guard fps > 0 && fps <= 240 else { throw ValidationError("--fps must be above 0 and at most 240") }
    }

    func run() throws {
        try runReportingErrors {
            if listOutputs {
                print(LiveJob.listOutputs(card: display.card))
                return
            }
            var options: LiveOptions
            if let input = try pcm.input() {
                options = LiveOptions(pcm: input)
            } else {
                options = mic.map { LiveOptions(microphone: $0) } ?? LiveOptions(audio: URL(fileURLWithPath: audio!))
            }
            options.avatar = URL(fileURLWithPath: avatar!)
            options.loop = loop
            options.size = size
            options.fps = fps
            options.stats = display.stats
            options.backend = backend
            options.trace = trace.map { URL(fileURLWithPath: $0) }
            options.seed = seed
            options.controls = try motion.controls()
            try display.apply(to: &options)
            let job = LiveJob(options: options)
            if let preview {
                try job.writePreview(frame: previewFrame, to: URL(fileURLWithPath: preview))
                return
            }
            job.report = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
            let summary = try job.run()
            if display.stats { FileHandle.standardOutput.write(Data((summary + "\n").utf8)) }
        }
    }
}
