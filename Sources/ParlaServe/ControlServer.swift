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
    /// Largest audio body (`POST /speak`): 32 MiB is 17 minutes of 16 kHz 16-bit mono.
    public var maximumAudioBytes = 32 << 20
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
    /// Loads an avatar for `POST /avatar` by path (tests inject one).
    public var avatarLoader: @Sendable (URL) throws -> Avatar = { try AvatarFile.read(contentsOf: $0) }

    public init(engine: FaceEngine, options: ServeOptions, log: ServeLog) throws {
        try options.validate()
        self.engine = engine
        self.options = options
        self.log = log
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
        let config = HTTPServer.Configuration(address: address, timeout: 120, logger: log)
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
                return try await WebSocketHTTPHandler(handler: MessageFrameWSHandler(handler: StreamSocket(server: self, format: format)))
                    .handleRequest(request)
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

    private func say(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body: SayBody = try decodeJSON(try await readBody(request, limit: options.maximumJSONBytes))
        var voice = VoiceOptions()
        voice.voice = body.voice ?? voice.voice
        voice.rate = body.rate ?? voice.rate
        voice.pitch = body.pitch ?? voice.pitch
        voice.ssml = body.ssml ?? false
        let speech: SynthesizedSpeech
        do {
            speech = try SpeechSynthesizer.shared.synthesize(body.text, options: voice)
        } catch let e as VoiceError {
            throw APIError(.unprocessableContent, e.message)
        }
        let u = engine.utterance(speech: speech, text: body.text)
        return try enqueue(u, interrupt: body.interrupt ?? false)
    }

    private func enqueue(_ u: Utterance, interrupt: Bool) throws -> HTTPResponse {
        let id: Int
        do {
            id = try engine.enqueue(u, interrupt: interrupt)
        } catch {
            throw APIError(.serviceUnavailable, "\(error)")
        }
        log.log(.info, "utterance \(id) (\(u.kind), \(String(format: "%.2f", u.duration)) s) queued\(interrupt ? ", interrupting" : "")")
        return try json(Queued(id: id, duration: u.duration, queue: engine.status().queue), status: .accepted)
    }

    /// `POST /speak`: a WAV file, or raw PCM described by `?format=s16le:16000:1`, decoded while it arrives.
    private func speak(_ request: HTTPRequest) async throws -> HTTPResponse {
        let interrupt = request.query.first { $0.name == "interrupt" }.map { $0.value == "true" || $0.value == "1" } ?? false
        let limit = options.maximumAudioBytes
        if let length = request.bodySequence.count, length > limit { throw tooLarge(length, limit) }
        var audio: InterleavedAudio
        if let formatText = request.query.first(where: { $0.name == "format" })?.value {
            let format: PCMStreamFormat
            do { format = try PCMStreamFormat(parsing: formatText) } catch { throw APIError(.badRequest, "\(error)") }
            var decoder = PCMStreamDecoder(format: format)
            var samples = [Float]()
            var total = 0
            for try await chunk in request.bodySequence {
                total += chunk.count
                if total > limit { throw tooLarge(total, limit) }
                chunk.withUnsafeBytes { decoder.push($0, into: &samples) }
            }
            audio = InterleavedAudio(sampleRate: format.sampleRate, channels: format.channels, samples: samples)
        } else {
            let bytes = try await readBody(request, limit: limit)
            guard bytes.count >= 12, bytes.prefix(4) == Data("RIFF".utf8) else {
                throw APIError(.unsupportedMediaType, "the body is not a WAV file; for raw PCM add ?format=s16le:RATE:CHANNELS")
            }
            do {
                audio = try WAVFile.readInterleaved(data: [UInt8](bytes), name: "request body")
            } catch {
                throw APIError(.badRequest, "\(error)")
            }
        }
        guard !audio.samples.isEmpty else { throw APIError(.badRequest, "the audio has no samples") }
        guard audio.duration <= 1800 else { throw APIError(.payloadTooLarge, "more than 30 minutes of audio") }
        do {
            return try enqueue(try engine.utterance(sound: audio), interrupt: interrupt)
        } catch let e as APIError {
            throw e
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
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
