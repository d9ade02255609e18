import FlyingFox
import FlyingSocks
import Foundation
import ParlaFace
import ParlaIO
import ParlaMedia
import ParlaModel
import ParlaMotion
import ParlaRuntime
import ParlaVoice

/// How `parla serve` listens and what it accepts.
public struct ServeOptions: Sendable {
    /// Address to bind: an IPv4 or IPv6 literal, or "localhost".
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free one (tests).
    public var port: UInt16 = 8080
    /// Bearer token every request must carry (`Authorization: Bearer T`); required when binding beyond loopback.
    public var token: String?
    /// Largest JSON body (say, controls, avatar by path, WebSocket text message).
    public var maximumJSONBytes = 64 << 10
    /// Longest text `POST /say` takes, UTF-8 bytes (about 4 minutes of speech at the default rate).
    public var maximumTextBytes = 4000
    /// Longest utterance `POST /say` or a WAV in `POST /speak` may make, seconds (synthesis stops there).
    public var maximumUtteranceSeconds = 300.0
    /// Largest audio body (`POST /speak`): 32 MiB is 17 minutes of 16 kHz 16-bit mono.
    public var maximumAudioBytes = 32 << 20
    /// Largest WebSocket binary message (PCM chunk), enforced while its frames are read.
    public var maximumWebSocketBytes = 4 << 20
    /// `POST /say` and WAV `POST /speak` requests waiting for synthesis/composition behind the one being done.
    public var maximumWaitingUtterances = 4
    /// Largest avatar file uploaded in `POST /avatar`.
    public var maximumAvatarBytes = 64 << 20
    /// Requests per second per client address (token bucket) and the burst allowed.
    public var requestsPerSecond = 20.0
    public var burst = 40

    public init() {}

    /// Parses `HOST:PORT` (`127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:80`, `localhost:8080`).
    public mutating func setListen(_ text: String) throws {
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw RuntimeError("--listen \(text): expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080")
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw RuntimeError("--listen \(text): expected HOST:PORT, e.g. 127.0.0.1:8080")
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard let p = UInt16(port) else { throw RuntimeError("--listen \(text): port '\(port)' is not 0…65535") }
        guard !host.isEmpty else { throw RuntimeError("--listen \(text): no host") }
        self.host = String(host)
        self.port = p
    }

    /// Whether the bind address only accepts connections from this machine.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Refuses an open bind without a token, and an empty token.
    public func validate() throws {
        if let token, token.count < 8 || token.contains(where: { $0.isWhitespace }) {
            throw RuntimeError("--token must be at least 8 characters without spaces")
        }
        if !isLoopback, token == nil {
            throw RuntimeError("--listen \(host): binding beyond loopback needs --token (clients then send 'Authorization: Bearer TOKEN')")
        }
    }
}

/// A request's failure as the HTTP status and the one-line JSON error the client gets.
struct APIError: Error {
    let status: HTTPStatusCode
    let message: String
    init(_ status: HTTPStatusCode, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// The control API over HTTP and WebSocket (FlyingFox): say, speak, avatar, controls, status, queue, metrics,
/// OpenAPI document, and a WebSocket for status pushes, PCM chunks and blendshape frames. Every request passes the
/// rate limit and (when a token is set) the bearer check first; every failure is a 4xx/5xx with
/// `{"error": "..."}`, never a crash.
public final class ControlServer: @unchecked Sendable {
    public let engine: FaceEngine
    public let options: ServeOptions
    let log: ServeLog
    private var server: HTTPServer!
    private let lock = NSLock()
    private var limiter: RateLimiter
    private var requestCounts: [String: Int] = [:]
    private var rejectCounts: [String: Int] = [:]
    /// Synthesis and composition, off the cooperative pool.
    let worker: SpeechWorker
    /// WebSocket frame accounting shared with the socket pool.
    let webSocketLimits = WebSocketLimits()
    /// Whether a `POST /speak` raw PCM upload is feeding the engine's stream now (one at a time).
    private var streaming = false
    /// Loads an avatar for `POST /avatar` by path (tests inject one).
    public var avatarLoader: @Sendable (URL) throws -> Avatar = { try AvatarFile.read(contentsOf: $0) }

    public init(engine: FaceEngine, options: ServeOptions, log: ServeLog) throws {
        try options.validate()
        self.engine = engine
        self.options = options
        self.log = log
        worker = SpeechWorker(maximumWaiting: options.maximumWaitingUtterances)
        limiter = RateLimiter(rate: options.requestsPerSecond, burst: options.burst)
        let address: any SocketAddress
        do {
            if options.host == "localhost" {
                address = try sockaddr_in.inet(ip4: "127.0.0.1", port: options.port)
            } else if options.host.contains(":") {
                address = try sockaddr_in6.inet6(ip6: options.host, port: options.port)
            } else {
                address = try sockaddr_in.inet(ip4: options.host, port: options.port)
            }
        } catch {
            throw RuntimeError("--listen \(options.host): not an IP address of this machine")
        }
        let pool = ServerSocketPool(base: HTTPServer.defaultPool(), limits: webSocketLimits)
        let config = HTTPServer.Configuration(address: address, timeout: 120, pool: pool, logger: log)
        server = HTTPServer(config: config, handler: ClosureHTTPHandler { [unowned self] request in
            await self.handle(request)
        })
    }

    /// Serves until cancelled (or ``stop()``); a socket that cannot listen is one line naming the address.
    public func run() async throws {
        do {
            try await server.run()
        } catch {
            throw RuntimeError("--listen \(options.host):\(options.port): \(Self.describeListenError(error))")
        }
    }

    /// The socket errors a listen meets, in words.
    static func describeListenError(_ error: Error) -> String {
        guard case let .failed(type, code, message)? = error as? SocketError else { return error.localizedDescription }
        switch code {
        case EADDRINUSE: return "the address is already in use (another program listens on it)"
        case EADDRNOTAVAIL: return "not an address of this machine"
        case EACCES: return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
        default: return "\(type.lowercased()) failed: \(message)"
        }
    }

    /// Waits until the socket listens and returns the port (useful with port 0).
    public func waitUntilListening() async throws -> UInt16 {
        try await server.waitUntilListening(timeout: 10)
        switch await server.listeningAddress {
        case let .ip4(_, port)?, let .ip6(_, port)?: return port
        default: return options.port
        }
    }

    public func stop() async {
        await server.stop(timeout: 1)
        worker.stop()
    }

    // MARK: - Dispatch

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let route = "\(request.method.rawValue) \(request.path)"
        do {
            try admit(request)
            count(route: Self.knownRoutes.contains(route) ? route : "other")
            switch route {
            case "POST /say": return try await say(request)
            case "POST /speak": return try await speak(request)
            case "POST /avatar": return try await avatar(request)
            case "PUT /controls": return try await putControls(request)
            case "GET /controls": return try json(engine.faceControls)
            case "GET /status": return try json(engine.status())
            case "DELETE /queue": return try json(["cleared": engine.clear()])
            case "GET /metrics": return metrics()
            case "GET /openapi.json": return HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json"],
                                                          body: Data(OpenAPIDocument.json.utf8))
            case "GET /ws":
                let format: PCMStreamFormat
                do {
                    format = try PCMStreamFormat(parsing: request.query.first { $0.name == "format" }?.value ?? "s16le:16000:1")
                } catch {
                    throw APIError(.badRequest, "\(error)")
                }
                let socket = LimitedWebSocket(inner: MessageFrameWSHandler(handler: StreamSocket(server: self, format: format)),
                                              limits: webSocketLimits, key: WebSocketLimits.key(request.remoteAddress),
                                              binaryLimit: options.maximumWebSocketBytes, textLimit: options.maximumJSONBytes)
                return try await WebSocketHTTPHandler(handler: socket).handleRequest(request)
            default:
                if Self.knownRoutes.contains(where: { $0.hasSuffix(" \(request.path)") }) {
                    throw APIError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(request.path)")
                }
                throw APIError(.notFound, "no such endpoint: \(request.path) (GET /openapi.json lists them)")
            }
        } catch let e as APIError {
            if e.status.code >= 500 { log.log(.error, "\(route): \(e.message)") } else { log.log(.info, "\(route): \(e.status.code) \(e.message)") }
            return errorResponse(e)
        } catch {
            log.log(.error, "\(route): \(error)")
            return errorResponse(APIError(.internalServerError, "\(error)"))
        }
    }

    static let knownRoutes: Set<String> = ["POST /say", "POST /speak", "POST /avatar", "PUT /controls", "GET /controls",
                                           "GET /status", "DELETE /queue", "GET /metrics", "GET /openapi.json", "GET /ws"]

    /// Rate limit, then bearer token.
    private func admit(_ request: HTTPRequest) throws {
        let client: String
        switch request.remoteAddress {
        case let .ip4(ip, _)?, let .ip6(ip, _)?: client = ip
        default: client = "local"
        }
        lock.lock()
        let allowed = limiter.allow(client, now: MonotonicClock.now())
        if !allowed { rejectCounts["rate", default: 0] += 1 }
        lock.unlock()
        guard allowed else { throw APIError(.tooManyRequests, "too many requests: at most \(Int(options.requestsPerSecond))/s per client") }
        if let token = options.token {
            let given = request.headers[.authorization] ?? ""
            guard Self.constantTimeEqual(given, "Bearer \(token)") else {
                lock.lock(); rejectCounts["token", default: 0] += 1; lock.unlock()
                throw APIError(.unauthorized, given.isEmpty ? "missing 'Authorization: Bearer TOKEN' header" : "wrong token")
            }
        }
    }

    private func count(route: String) {
        lock.lock(); requestCounts[route, default: 0] += 1; lock.unlock()
    }

    func reject(_ reason: String) {
        lock.lock(); rejectCounts[reason, default: 0] += 1; lock.unlock()
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0
    }

    // MARK: - Endpoints

    struct SayBody: Decodable {
        var text: String
        var voice: String?
        var rate: Int?
        var pitch: Int?
        var ssml: Bool?
        var interrupt: Bool?
    }

    struct Queued: Encodable {
        var id: Int
        var duration: Double
        var queue: Int
    }

    /// `POST /say`: synthesis and the frames on the speech worker; the text and the speech are capped
    /// (``ServeOptions/maximumTextBytes``, ``ServeOptions/maximumUtteranceSeconds``).
    private func say(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body: SayBody = try decodeJSON(try await readBody(request, limit: options.maximumJSONBytes))
        let bytes = body.text.utf8.count
        guard bytes <= options.maximumTextBytes else {
            reject("size")
            throw APIError(.payloadTooLarge, "the text (\(bytes) bytes) is longer than the \(options.maximumTextBytes)-byte limit of one /say; split it")
        }
        var voice = VoiceOptions()
        voice.voice = body.voice ?? voice.voice
        voice.rate = body.rate ?? voice.rate
        voice.pitch = body.pitch ?? voice.pitch
        voice.ssml = body.ssml ?? false
        let interrupt = body.interrupt ?? false
        try checkRoom(seconds: 0, interrupt: interrupt)
        let engine = self.engine, text = body.text, cap = options.maximumUtteranceSeconds, chosen = voice
        let u: Utterance = try await worker.run {
            let speech: SynthesizedSpeech
            do {
                speech = try SpeechSynthesizer.shared.synthesize(text, options: chosen, maximumSeconds: cap)
            } catch let e as SpeechTooLongError {
                throw APIError(.payloadTooLarge, e.description)
            } catch let e as VoiceError {
                throw APIError(.unprocessableContent, e.message)
            }
            return engine.utterance(speech: speech, text: text)
        }
        return try enqueue(u, interrupt: interrupt)
    }

    /// Refuses up front (429) what the queue could not take, before time is spent composing it.
    private func checkRoom(seconds: Double, bytes: Int = 0, interrupt: Bool) throws {
        do { try engine.checkRoom(forSeconds: seconds, bytes: bytes, interrupt: interrupt) } catch let e as QueueFullError { throw queueFull(e) }
    }

    private func queueFull(_ e: QueueFullError) -> APIError {
        reject("queue")
        return APIError(.tooManyRequests, e.message)
    }

    private func enqueue(_ u: Utterance, interrupt: Bool) throws -> HTTPResponse {
        let id: Int
        do {
            id = try engine.enqueue(u, interrupt: interrupt)
        } catch let e as QueueFullError {
            throw queueFull(e)
        } catch {
            throw APIError(.serviceUnavailable, "\(error)")
        }
        log.log(.info, "utterance \(id) (\(u.kind), \(String(format: "%.2f", u.duration)) s) queued\(interrupt ? ", interrupting" : "")")
        return try json(Queued(id: id, duration: u.duration, queue: engine.status().queue), status: .accepted)
    }

    /// `POST /speak`: a WAV file, queued as an utterance; or raw PCM described by `?format=s16le:16000:1`, played
    /// as it arrives through the engine's PCM stream.
    private func speak(_ request: HTTPRequest) async throws -> HTTPResponse {
        let interrupt = request.query.first { $0.name == "interrupt" }.map { $0.value == "true" || $0.value == "1" } ?? false
        let limit = options.maximumAudioBytes
        if let length = request.bodySequence.count, length > limit { throw tooLarge(length, limit) }
        if let formatText = request.query.first(where: { $0.name == "format" })?.value {
            let format: PCMStreamFormat
            do { format = try PCMStreamFormat(parsing: formatText) } catch { throw APIError(.badRequest, "\(error)") }
            return try await streamSpeak(request, format: format, interrupt: interrupt)
        }
        // The body is read into the one array the WAV reader takes (no Data copy); it is gone once decoded.
        let bytes = try await readBytes(request, limit: limit)
        guard bytes.count >= 12, bytes.prefix(4).elementsEqual("RIFF".utf8) else {
            throw APIError(.unsupportedMediaType, "the body is not a WAV file; for raw PCM add ?format=s16le:RATE:CHANNELS")
        }
        let info: WAVFile.Info
        do { info = try WAVFile.info(data: bytes, name: "request body") } catch { throw APIError(.badRequest, "\(error)") }
        guard info.frameCount > 0 else { throw APIError(.badRequest, "the audio has no samples") }
        let seconds = Double(info.frameCount) / Double(info.sampleRate)
        guard seconds <= options.maximumUtteranceSeconds else {
            reject("size")
            throw APIError(.payloadTooLarge, String(format: "the audio lasts %.1f s, more than the %g s limit for one utterance (stream longer speech as raw PCM with ?format=)",
                                                    seconds, options.maximumUtteranceSeconds))
        }
        // What the utterance will keep: the sound as it is and its 16 kHz copy (the frames are a few % more).
        let keeps = (info.frameCount * info.channels + Int(seconds * Double(AudioBuffer.analysisRate))) * MemoryLayout<Float>.stride
        try checkRoom(seconds: seconds, bytes: keeps, interrupt: interrupt)
        let engine = self.engine
        let u: Utterance = try await worker.run {
            let sound: InterleavedAudio
            do { sound = try WAVFile.readInterleaved(data: bytes, name: "request body") } catch { throw APIError(.badRequest, "\(error)") }
            do { return try engine.utterance(sound: sound) } catch { throw APIError(.badRequest, "\(error)") }
        }
        return try enqueue(u, interrupt: interrupt)
    }

    struct Streamed: Encodable {
        /// Seconds of audio received and played (or queued to play).
        var streamed: Double
        /// The upload was cut by `DELETE /queue` or a barge-in: the rest of it was read and dropped.
        var interrupted: Bool
    }

    /// Claims (true) or releases (false) the PCM stream for one upload; false when it is claimed already.
    private func claimStream(_ claim: Bool) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if claim && streaming { return false }
        streaming = claim
        return true
    }

    /// Raw PCM in `POST /speak`: each piece of the body is decoded as it arrives and written to the engine's PCM
    /// stream (as WebSocket binary messages are), so the face speaks while the upload goes on. A producer ahead of
    /// real time is held back by the stream queue (10 s): the body is not read while it is full. A stop
    /// (`DELETE /queue`, a barge-in) ends the feeding; the rest of the body is read and dropped.
    private func streamSpeak(_ request: HTTPRequest, format: PCMStreamFormat, interrupt: Bool) async throws -> HTTPResponse {
        guard claimStream(true) else { throw APIError(.conflict, "another POST /speak stream is playing; one raw PCM upload at a time") }
        defer { _ = claimStream(false) }
        if interrupt { engine.clear() }
        let queue: PCMSampleQueue
        do { queue = try engine.streamQueue(sampleRate: format.sampleRate, channels: format.channels) } catch {
            throw APIError(.serviceUnavailable, "\(error)")
        }
        let stops = engine.stopCount
        let limit = options.maximumAudioBytes
        var decoder = PCMStreamDecoder(format: format)
        var samples = [Float]()
        var total = 0, fed = 0
        var cut = false
        /// Writes `samples` to the stream, waiting (without holding a thread) while it is full.
        func feed() async throws {
            var rest = samples[...]
            while !rest.isEmpty && !cut {
                if engine.stopCount != stops { cut = true; break }
                let n = queue.offer(rest)
                fed += n
                rest = rest.dropFirst(n)
                if !rest.isEmpty {
                    if queue.isClosed { throw APIError(.serviceUnavailable, "the PCM stream was closed") }
                    try await Task.sleep(nanoseconds: 20_000_000)
                }
            }
            samples.removeAll(keepingCapacity: true)
        }
        for try await chunk in request.bodySequence {
            total += chunk.count
            if total > limit { throw tooLarge(total, limit) }
            if cut { continue }
            chunk.withUnsafeBytes { decoder.push($0, into: &samples) }
            try await feed()
        }
        guard total > 0 else { throw APIError(.badRequest, "the audio has no samples") }
        let seconds = Double(fed / format.channels) / Double(format.sampleRate)
        log.log(.info, "streamed \(String(format: "%.2f", seconds)) s of \(format) PCM\(cut ? " (cut by a stop)" : "")")
        return try json(Streamed(streamed: seconds, interrupted: cut))
    }

    struct AvatarBody: Decodable {
        var path: String
        var fade: Double?
    }

    /// `POST /avatar`: `{"path": "/srv/anna.avatar", "fade": 0.5}` or the avatar file itself
    /// (`Content-Type: application/octet-stream`, `?fade=0.5`).
    private func avatar(_ request: HTTPRequest) async throws -> HTTPResponse {
        let type = request.headers[.contentType] ?? ""
        let avatar: Avatar, name: String, fade: Double
        if type.hasPrefix("application/json") {
            let body: AvatarBody = try decodeJSON(try await readBody(request, limit: options.maximumJSONBytes))
            let url = URL(fileURLWithPath: body.path)
            do { avatar = try avatarLoader(url) } catch { throw APIError(.unprocessableContent, "\(error)") }
            name = url.lastPathComponent
            fade = body.fade ?? 0.5
        } else {
            let bytes = try await readBody(request, limit: options.maximumAvatarBytes)
            do { avatar = try AvatarFile.decode([UInt8](bytes), name: "uploaded avatar") } catch {
                throw APIError(.unprocessableContent, "\(error)")
            }
            name = "uploaded"
            fade = request.query.first { $0.name == "fade" }.flatMap { Double($0.value) } ?? 0.5
        }
        guard fade.isFinite, (0...10).contains(fade) else { throw APIError(.badRequest, "fade \(fade) must be 0…10 seconds") }
        do { try engine.switchAvatar(avatar, name: name, fade: fade) } catch { throw APIError(.unprocessableContent, "\(error)") }
        log.log(.info, "avatar switched to \(name) (fade \(fade) s)")
        return try json(engine.status())
    }

    /// `PUT /controls`: any subset of the fields of ``MotionControls``; unknown fields are refused.
    private func putControls(_ request: HTTPRequest) async throws -> HTTPResponse {
        let data = try await readBody(request, limit: options.maximumJSONBytes)
        guard isValidUTF8(data), let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw APIError(.badRequest, "the body must be a JSON object")
        }
        let known = Set(MotionControls.fieldNames)
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError(.badRequest, "unknown control '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        // Merge: encode the current controls, overlay the given fields, decode (which checks every type).
        var merged = (try JSONSerialization.jsonObject(with: JSONEncoder().encode(engine.faceControls))) as! [String: Any]
        for (k, v) in object { merged[k] = v }
        let controls: MotionControls
        do {
            controls = try JSONDecoder().decode(MotionControls.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch {
            throw APIError(.badRequest, "bad control value: \(Self.describe(error))")
        }
        do { try controls.validate() } catch { throw APIError(.badRequest, "\(error)") }
        engine.faceControls = controls
        return try json(controls)
    }

    private func metrics() -> HTTPResponse {
        lock.lock()
        let requests = requestCounts, rejected = rejectCounts
        lock.unlock()
        let text = PrometheusText.render(engine.metricsSnapshot(), status: engine.status(), requests: requests,
                                         rejected: rejected, cpuCelsius: PrometheusText.cpuTemperature())
        return HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: Data(text.utf8))
    }

    // MARK: - Helpers

    /// The whole body as bytes, refusing more than `limit` (by Content-Length before reading, else while reading).
    func readBytes(_ request: HTTPRequest, limit: Int) async throws -> [UInt8] {
        if let length = request.bodySequence.count, length > limit { throw tooLarge(length, limit) }
        var bytes = [UInt8]()
        if let length = request.bodySequence.count { bytes.reserveCapacity(length) }
        for try await chunk in request.bodySequence {
            bytes.append(contentsOf: chunk)
            if bytes.count > limit { throw tooLarge(bytes.count, limit) }
        }
        return bytes
    }

    /// The whole body, refusing more than `limit` bytes (by Content-Length before reading, else while reading).
    func readBody(_ request: HTTPRequest, limit: Int) async throws -> Data {
        if let length = request.bodySequence.count, length > limit { throw tooLarge(length, limit) }
        var data = Data()
        for try await chunk in request.bodySequence {
            data.append(chunk)
            if data.count > limit { throw tooLarge(data.count, limit) }
        }
        return data
    }

    private func tooLarge(_ size: Int, _ limit: Int) -> APIError {
        reject("size")
        return APIError(.payloadTooLarge, "the body (\(size) bytes or more) is larger than the \(limit)-byte limit")
    }

    func decodeJSON<T: Decodable>(_ data: Data) throws -> T {
        do {
            return try JSONDecoder().decodeUntrusted(T.self, from: data)
        } catch {
            throw APIError(.badRequest, "malformed JSON body: \(Self.describe(error))")
        }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let c):
            return c.codingPath.isEmpty ? "not valid JSON" : "bad value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: return "\(error)"
        }
    }

    func json<T: Encodable>(_ value: T, status: HTTPStatusCode = .ok) throws -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return HTTPResponse(statusCode: status, headers: [.contentType: "application/json"], body: try encoder.encode(value))
    }

    private func errorResponse(_ e: APIError) -> HTTPResponse {
        let body = (try? JSONEncoder().encode(["error": e.message])) ?? Data("{\"error\":\"error\"}".utf8)
        var headers: HTTPHeaders = [.contentType: "application/json"]
        if e.status == .unauthorized { headers[HTTPHeader("WWW-Authenticate")] = "Bearer" }
        if e.status == .tooManyRequests { headers[HTTPHeader("Retry-After")] = "1" }
        return HTTPResponse(statusCode: e.status, headers: headers, body: body)
    }
}
