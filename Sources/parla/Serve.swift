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
            Examples:
              parla serve --avatar anna.avatar --listen 127.0.0.1:8080
              parla serve --sink null --listen 127.0.0.1:8080          (headless: frames drawn and dropped)
            """
    )

    @Option(help: "An avatar file made by `parla prepare` (default: the bundled demo portrait).")
    var avatar: String?
    @Option(help: "HOST:PORT to listen on.")
    var listen = "127.0.0.1:8080"
    @Option(help: "Where pictures go: null (drawn and dropped, timing real) or kms (the display).")
    var sink = "null"
    @Option(name: .customLong("audio-device"), help: "ALSA playback device, or none (default: 'default' with --sink kms, none with null).")
    var audioDevice: String?
    @Option(help: "DRM device file for --sink kms (default: the first card with a connected display).")
    var card: String?
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
            var config = FaceEngine.Configuration()
            guard let engineSink = EngineSink(rawValue: sink) else { throw RuntimeError("--sink \(sink): must be null or kms") }
            config.sink = engineSink
            let device = audioDevice ?? (engineSink == .kms ? "default" : "none")
            config.audioDevice = device.lowercased() == "none" ? nil : device
            config.card = card
            config.size = size
            config.fps = fps
            config.seed = seed
            let (face, name) = try ServeRunner.loadAvatar(avatar.map { URL(fileURLWithPath: $0) })
            let engine = try FaceEngine(configuration: config, avatar: face, name: name)
            let source = try pcm.input().map { try PCMStreamSource(endpoint: $0.endpoint, format: $0.format) }
            if let source {
                try engine.attachStream(source.queue)
                source.start()
            }
            defer { source?.stop() }
            try ServeRunner.run(engine: engine, options: options, log: ServeLog(level: ServeLog.Level(name: logLevel)!))
        }
    }
}
