import FlyingFox
import FlyingSocks
import Foundation

/// FlyingFox's epoll socket pool with two things FlyingFox 0.27.1 has no option for, done at the one seam it opens
/// on its sockets (every socket waiting to become readable passes through ``suspendSocket(_:untilReadyFor:)``):
///
/// - **TCP_NODELAY** on every connection. FlyingFox writes a response's head and body in two `send`s; with Nagle on,
///   the body waits for the ACK of the head, which a keep-alive client delays by up to 40 ms: each request on a
///   kept-alive connection took ~44 ms instead of under 1 ms. Set on the listening socket (Linux copies it to the
///   sockets it accepts) and on each connection the first time it waits to read (covers a connection accepted
///   before the listener first waited).
/// - **The WebSocket message limit while a frame is read** (``WebSocketLimits``): FlyingFox reads a frame's whole
///   payload, whatever length its header declares, before handing it over, so a 300 MiB frame took 645 MB. Here,
///   the bytes the kernel has received on a WebSocket connection (`TCP_INFO`), less those still unread in its
///   buffer (`FIONREAD`) and those of the frames already delivered, are the frame FlyingFox is reading; past the
///   limit the read fails (checked each time the connection waits for bytes, and every 10 ms by
///   ``LimitedWebSocket``, which then cancels the read: FlyingFox checks for cancellation every 4 KiB) and the
///   handler closes the connection with 1009 (message too big).
struct ServerSocketPool: AsyncSocketPool {
    let base: any AsyncSocketPool
    let limits: WebSocketLimits

    func prepare() async throws { try await base.prepare() }

    func run() async throws { try await base.run() }

    func suspendSocket(_ socket: Socket, untilReadyFor events: Socket.Events) async throws {
        if events.contains(.read) {
            var on: Int32 = 1
            _ = setsockopt(socket.file.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            try limits.check(socket)
        }
        try await base.suspendSocket(socket, untilReadyFor: events)
    }
}

/// The WebSocket connections open and what each has delivered, keyed by the peer's address and port (what the
/// request handler knows) and found again from a socket by `getpeername`.
final class WebSocketLimits: @unchecked Sendable {
    struct TooBig: Error, LocalizedError {
        let limit: Int
        var errorDescription: String? { "WebSocket frame over the \(limit)-byte limit" }
    }

    private struct Connection {
        var limit: Int
        /// Bytes of the frames delivered so far (headers included).
        var delivered = 0
        /// Bytes the kernel had received before the first frame (the HTTP request).
        var baseline: UInt64?
        var exceeded = false
        /// The connection's socket, when found at the upgrade.
        var fd: Int32?
    }

    private let lock = NSLock()
    private var connections: [String: Connection] = [:]

    static func key(_ address: HTTPRequest.Address?) -> String? {
        switch address {
        case let .ip4(ip, port)?, let .ip6(ip, port)?: return "\(ip) \(port)"
        default: return nil
        }
    }

    /// Starts counting for the connection from `key`; called before the handshake's answer is sent, when the
    /// client has sent nothing but its request, so what its socket has received then is the baseline.
    func open(_ key: String, limit: Int) {
        var c = Connection(limit: limit)
        c.fd = Self.socket(of: key)
        c.baseline = c.fd.flatMap(Self.bytesReceived)
        lock.lock(); connections[key] = c; lock.unlock()
    }

    /// This process's TCP socket connected to the peer `key` (a WebSocket upgrade is rare: a scan of the open
    /// descriptors is cheap enough).
    static func socket(of key: String) -> Int32? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        for name in names {
            guard let fd = Int32(name) else { continue }
            switch try? Socket(file: .init(rawValue: fd)).remotePeer() {
            case let .ip4(ip, port)?, let .ip6(ip, port)?:
                if "\(ip) \(port)" == key { return fd }
            default: continue
            }
        }
        return nil
    }

    func close(_ key: String) {
        lock.lock(); connections[key] = nil; lock.unlock()
    }

    /// Counts a frame FlyingFox delivered: its payload and its header (2 bytes, 2 or 8 more for the length, 4 for
    /// the client's mask).
    func delivered(_ key: String, payload: Int, masked: Bool) {
        let header = 2 + (payload < 126 ? 0 : payload < 65536 ? 2 : 8) + (masked ? 4 : 0)
        lock.lock(); connections[key]?.delivered += header + payload; lock.unlock()
    }

    /// Whether the connection was cut for a frame over the limit.
    func exceeded(_ key: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return connections[key]?.exceeded ?? false
    }

    /// Throws ``TooBig`` when `socket` is a WebSocket connection that has received more than its limit beyond the
    /// frames delivered (called as it waits to read, when everything received has been read).
    func check(_ socket: Socket) throws {
        lock.lock()
        let none = connections.isEmpty
        lock.unlock()
        if none { return }
        guard let peer = try? socket.remotePeer() else { return }
        let key: String
        switch peer {
        case let .ip4(ip, port), let .ip6(ip, port): key = "\(ip) \(port)"
        case .unix: return
        }
        if exceeds(key, fd: socket.file.rawValue) { throw TooBig(limit: limit(key)) }
    }

    private func limit(_ key: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        return connections[key]?.limit ?? 0
    }

    /// Whether the connection from `key` is reading a frame over its limit (marks it so); its socket found at the
    /// upgrade unless `fd` is given. Called every 10 ms while the connection is open.
    func exceeds(_ key: String, fd given: Int32? = nil) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard var c = connections[key], let fd = given ?? c.fd, let received = Self.bytesReceived(fd) else { return false }
        defer { connections[key] = c }
        guard let baseline = c.baseline else {
            // Not found at the upgrade: from now on (a frame begun before this is not counted whole).
            c.baseline = received &- UInt64(c.delivered)
            return false
        }
        var unread: Int32 = 0
        if ioctl(fd, UInt(FIONREAD), &unread) != 0 { unread = 0 }
        // Received, not waiting in the kernel, not delivered: the frame being read (its header is at most 14 bytes)
        // and at most FlyingFox's 4 KiB read buffer beyond it.
        let reading = Int(truncatingIfNeeded: received &- baseline) - Int(unread) - c.delivered
        if reading > c.limit + 14 + 4096 { c.exceeded = true }
        return c.exceeded
    }

    /// `tcpi_bytes_received` of `struct tcp_info` (Linux 4.1+; offset 128 in <linux/tcp.h>, which glibc's
    /// <netinet/tcp.h> copy predates), or nil where the kernel does not report it.
    static func bytesReceived(_ fd: Int32) -> UInt64? {
        var info = [UInt8](repeating: 0, count: 256)
        var length = socklen_t(info.count)
        let r = info.withUnsafeMutableBytes { getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, $0.baseAddress, &length) }
        guard r == 0, length >= 136 else { return nil }
        return info.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 128, as: UInt64.self) }
    }
}

/// The `/ws` handler FlyingFox runs, wrapped: every frame FlyingFox delivers is counted (``WebSocketLimits``); a
/// message over its limit (binary: ``ServeOptions/maximumWebSocketBytes``, text: ``ServeOptions/maximumJSONBytes``,
/// fragments added up) or a frame cut while being read ends the connection with close code 1009 instead of reaching
/// the message handler.
struct LimitedWebSocket: WSHandler {
    let inner: MessageFrameWSHandler
    let limits: WebSocketLimits
    let key: String?
    let binaryLimit: Int
    let textLimit: Int

    /// Pulls one frame from FlyingFox at a time, so a frame is decoded only when the previous one was counted;
    /// each in a task of its own that the watchdog can cancel.
    final class Frames: @unchecked Sendable {
        var iterator: AsyncThrowingStream<WSFrame, any Error>.AsyncIterator
        var messageBytes = 0
        var messageLimit = 0
        var done = false
        private let lock = NSLock()
        private var reading: Task<WSFrame?, any Error>?
        private var cancelled = false
        init(_ client: AsyncThrowingStream<WSFrame, any Error>) { iterator = client.makeAsyncIterator() }

        func next() async throws -> WSFrame? {
            let task = Task { try await self.iterator.next() }
            lock.withLock {
                reading = task
                if cancelled { task.cancel() }
            }
            return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        }

        /// Makes the frame being read (and any later read) fail.
        func cancel() {
            lock.withLock {
                cancelled = true
                reading?.cancel()
            }
        }
    }

    static func tooBig(_ limit: Int) -> WSFrame {
        .close(code: WSCloseCode(1009, reason: "message over the \(limit)-byte limit"))
    }

    func makeFrames(for client: AsyncThrowingStream<WSFrame, any Error>) async throws -> AsyncStream<WSFrame> {
        let frames = Frames(client)
        let limits = self.limits, key = self.key, binaryLimit = self.binaryLimit, textLimit = self.textLimit
        let biggest = max(binaryLimit, textLimit)
        if let key { limits.open(key, limit: biggest) }
        let watchdog: Task<Void, Never>? = key.map { key in
            Task {
                while !Task.isCancelled {
                    if limits.exceeds(key) {
                        frames.cancel()
                        return
                    }
                    try? await Task.sleep(nanoseconds: 10_000_000)
                }
            }
        }
        let counted = AsyncThrowingStream<WSFrame, any Error> {
            guard !frames.done else { return nil }
            do {
                guard let frame = try await frames.next() else {
                    frames.done = true
                    if let key { limits.close(key) }
                    return nil
                }
                if let key { limits.delivered(key, payload: frame.payload.count, masked: frame.mask != nil) }
                switch frame.opcode {
                case .text, .binary:
                    frames.messageBytes = frame.payload.count
                    frames.messageLimit = frame.opcode == .text ? textLimit : binaryLimit
                case .continuation:
                    frames.messageBytes += frame.payload.count
                default:
                    return frame
                }
                if frames.messageBytes > frames.messageLimit {
                    frames.done = true
                    if let key { limits.close(key) }
                    return Self.tooBig(frames.messageLimit)
                }
                return frame
            } catch {
                frames.done = true
                let cut = key.map { limits.exceeded($0) } ?? false
                if let key { limits.close(key) }
                if cut { return Self.tooBig(biggest) }
                throw error
            }
        }
        let out = try await inner.makeFrames(for: counted)
        // The watchdog ends with the server's frames (the connection).
        return AsyncStream<WSFrame> { continuation in
            let relay = Task {
                for await frame in out { continuation.yield(frame) }
                watchdog?.cancel()
                continuation.finish()
            }
            continuation.onTermination = { _ in relay.cancel(); watchdog?.cancel() }
        }
    }
}
