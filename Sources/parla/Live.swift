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
    @Option(help: "Connector to use, e.g. HDMI-A-1, DSI-1, Virtual-1 (default: the first connected one).")
    var output: String?
    @Option(help: "preferred, WIDTHxHEIGHT or WIDTHxHEIGHT@HZ.")
    var mode = "preferred"
    @Option(help: "Turn the picture clockwise by 0, 90, 180 or 270 degrees.")
    var rotate = "0"
    @Option(help: "contain (all of the face, borders around it) or cover (fill the screen, crop the rest).")
    var fit = "contain"
    @Option(help: "Border colour, #rrggbb.")
    var background = "#000000"
    @Option(name: .customLong("audio-device"), help: "ALSA playback device, or none (no sound; the system clock paces the face).")
    var audioDevice = "default"
    @Option(help: "Side of the square face picture in pixels, before fitting it to the screen.")
    var size = 512
    @Option(help: "Motion frames per second.")
    var fps: Double = 30
    @Flag(help: "Print fps, frame time, dropped frames and the A/V offset (with --mic: the sound-to-photon delay, estimated and measured) every second, and a summary at the end.")
    var stats = false
    @Option(help: "Frame decoder: cpu (copied into dumb buffers), gles (GLES 3.1 compute drawing into a GBM/EGL scan-out surface; read back into dumb buffers where the card has no GBM/EGL) or auto (gles on a hardware GPU, else cpu).")
    var backend: DecoderBackend = .cpu
    @Option(help: "Threads the CPU decoder splits each picture over (default: the board profile's, else 1).")
    var threads: Int?
    @Flag(help: "Draw a stats overlay into the picture: fps, frame time, lag, dropped frames, CPU temperature (if readable).")
    var hud = false
    @Option(help: "DRM device file (default: the first card in /dev/dri with a connected display).")
    var card: String?
    @Option(help: "Board profile whose display, audio, size and fps defaults to use (pi5, pi4, rk3588, ...; parla bench --list-boards), auto (detect) or none.")
    var board = "auto"
    @Option(help: "KMS interface: auto, atomic or legacy.")
    var kms = "auto"
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
        if let threads, !(1...64).contains(threads) { throw ValidationError("--threads must be in 1...64, not \(threads)") }
    }

    func run() throws {
        try runReportingErrors {
            if listOutputs {
                print(LiveJob.listOutputs(card: card))
                return
            }
            var options: LiveOptions
            if let input = try pcm.input() {
                options = LiveOptions(pcm: input)
            } else {
                options = mic.map { LiveOptions(microphone: $0) } ?? LiveOptions(audio: URL(fileURLWithPath: audio!))
            }
            options.avatar = URL(fileURLWithPath: avatar!)
            try options.setDisplay(mode: mode, rotate: rotate, fit: fit, background: background, kms: kms)
            options.loop = loop
            options.output = output
            options.audioDevice = audioDevice.lowercased() == "none" ? nil : audioDevice
            options.size = size
            options.fps = fps
            options.stats = stats
            options.hud = hud
            options.backend = backend
            if let threads { options.decoderThreads = threads }
            options.card = card
            options.trace = trace.map { URL(fileURLWithPath: $0) }
            options.seed = seed
            options.controls = try motion.controls()
            if let profile = try BoardProfiles.choose(board) {
                try options.apply(profile, except: typedLongOptions())
                FileHandle.standardError.write(Data("parla: board profile \(profile.id) (\(profile.name))\n".utf8))
            }
            let job = LiveJob(options: options)
            if let preview {
                try job.writePreview(frame: previewFrame, to: URL(fileURLWithPath: preview))
                return
            }
            job.report = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
            let summary = try job.run()
            if stats { FileHandle.standardOutput.write(Data((summary + "\n").utf8)) }
        }
    }
}
