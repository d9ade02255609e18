import ArgumentParser
import Foundation
import ParlaRuntime
import ParlaServe

/// `parla serve`: the face as a service other programs drive over HTTP and WebSocket.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the face as a service: an HTTP + WebSocket control API (say, speak, avatar, controls, status, metrics).",
        discussion: """
            Listens on loopback unless told otherwise; any other address needs --token, and clients then send \
            'Authorization: Bearer TOKEN'. GET /openapi.json describes the API; README "Drive it from your robot" \
            has curl and Python examples.
            By default the face is shown full screen on the panel through DRM/KMS (no desktop), with the sound on \
            ALSA, as `parla live` shows it, and the same display options; without a display it fails at once with \
            one line saying what is missing. --sink null runs headless (frames drawn and dropped, no sound unless \
            --audio-device is given). See docs/live.md.
            Examples:
              parla serve --avatar anna.avatar --listen 127.0.0.1:8080
              parla serve --avatar anna.avatar --output HDMI-A-2 --rotate 90 --fit cover --hud
              parla serve --sink null --listen 127.0.0.1:8080          (headless: no panel, no sound card)
            """
    )

    @Option(help: "An avatar file made by `parla prepare` (default: the bundled demo portrait).")
    var avatar: String?
    @Option(help: "HOST:PORT to listen on.")
    var listen = "127.0.0.1:8080"
    @Option(help: "Where pictures go: kms (the panel, full screen, sound on ALSA; fails without a display) or null (headless: drawn and dropped, timing real, silent unless --audio-device).")
    var sink = "kms"
    @OptionGroup(title: "Panel and sound (--sink kms), as in parla live")
    var display: DisplayOptions
    @OptionGroup(title: "PCM stream, driving the face between utterances")
    var pcm: PCMStreamOptions
    @Option(help: "Bearer token required on every request (required when --listen is not loopback).")
    var token: String?
    @Option(help: "Side of the square face picture in pixels.")
    var size = 512
    @Option(help: "Frames per second.")
    var fps: Double = 30
    @Option(help: "Motion seed (blinks, head motion).")
    var seed: UInt64 = 1
    @Option(name: .customLong("max-body-mb"), help: "Largest audio body for POST /speak, MiB.")
    var maxBodyMB = 32
    @Option(name: .customLong("rate-limit"), help: "Requests per second per client (bursts of twice that).")
    var rateLimit = 20.0
    @Option(name: .customLong("log-level"), help: "debug, info, warning or error.")
    var logLevel = "info"

    func validate() throws {
        guard EngineSink(rawValue: sink) != nil else { throw ValidationError("--sink must be kms or null") }
        if sink == EngineSink.null.rawValue {
            let typed = typedLongOptions()
            let panelOnly = DisplayOptions.panelOnly.filter(typed.contains)
            guard panelOnly.isEmpty else {
                throw ValidationError("--\(panelOnly.joined(separator: ", --")) only apply to the panel: drop them or use --sink kms")
            }
        }
        guard ServeLog.Level(name: logLevel) != nil else { throw ValidationError("--log-level must be debug, info, warning or error") }
        guard (1...1024).contains(maxBodyMB) else { throw ValidationError("--max-body-mb must be 1…1024") }
        guard rateLimit > 0, rateLimit <= 10_000 else { throw ValidationError("--rate-limit must be above 0 and at most 10000") }
    }

    func run() throws {
        try runReportingErrors {
            var options = ServeOptions()
            try options.setListen(listen)
            options.token = token ?? ProcessInfo.processInfo.environment["PARLA_TOKEN"]
            options.maximumAudioBytes = maxBodyMB << 20
            options.requestsPerSecond = rateLimit
            options.burst = max(1, Int(2 * rateLimit))
            try options.validate()
            let log = ServeLog(level: ServeLog.Level(name: logLevel)!)
            let config = try engineConfiguration()
            // The panel first: a missing or busy display fails in milliseconds, in one line, before the avatar is
            // analysed or anything listens.
            var panel: EnginePanel?
            if config.sink == .kms {
                do {
                    panel = try EnginePanel(configuration: config, report: { log.log(.info, $0) })
                } catch where !typedLongOptions().contains("sink") && "\(error)".hasPrefix("no display") {
                    throw RuntimeError("\(error); to serve without a panel: --sink null")
                }
            }
            let (face, name) = try ServeRunner.loadAvatar(avatar.map { URL(fileURLWithPath: $0) })
            let engine = try FaceEngine(configuration: config, avatar: face, name: name, panel: panel)
            engine.report = { log.log(.info, $0) }
            let source = try pcm.input().map { try PCMStreamSource(endpoint: $0.endpoint, format: $0.format) }
            if let source {
                try engine.attachStream(source.queue)
                source.start()
            }
            defer { source?.stop() }
            try ServeRunner.run(engine: engine, options: options, log: log)
        }
    }

    /// The engine's settings from the command line: with the kms sink the panel options, the board profile's
    /// defaults and ALSA's default device; with null no panel and no sound unless `--audio-device` names a device.
    func engineConfiguration(typed: Set<String> = typedLongOptions()) throws -> FaceEngine.Configuration {
        var config = FaceEngine.Configuration()
        config.sink = EngineSink(rawValue: sink) ?? .kms
        config.size = size
        config.fps = fps
        config.seed = seed
        config.stats = display.stats
        if config.sink == .kms {
            try display.apply(to: &config, typed: typed)
        } else {
            if let threads = display.threads { config.decoderThreads = threads }
            let device = display.audioDevice ?? "none"
            config.audioDevice = device.lowercased() == "none" ? nil : device
        }
        return config
    }
}
