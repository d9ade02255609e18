import Foundation
import ParlaMedia

/// How one sample of a raw PCM stream is stored.
public enum PCMSampleFormat: String, CaseIterable, Sendable, Codable {
    case u8, s8, s16le, s16be, s24le, s32le, s32be, f32le, f32be

    /// Bytes per sample.
    public var bytes: Int {
        switch self {
        case .u8, .s8: 1
        case .s16le, .s16be: 2
        case .s24le: 3
        case .s32le, .s32be, .f32le, .f32be: 4
        }
    }

    /// The sample at `p` as a float in [-1, 1] (integers scaled by 2^(bits−1), as WAV readers do).
    @inline(__always)
    func decode(_ p: UnsafeRawPointer) -> Float {
        switch self {
        case .u8: return (Float(p.load(as: UInt8.self)) - 128) / 128
        case .s8: return Float(p.load(as: Int8.self)) / 128
        case .s16le: return Float(Int16(littleEndian: p.loadUnaligned(as: Int16.self))) / 32768
        case .s16be: return Float(Int16(bigEndian: p.loadUnaligned(as: Int16.self))) / 32768
        case .s24le:
            let b0 = UInt32(p.load(fromByteOffset: 0, as: UInt8.self)), b1 = UInt32(p.load(fromByteOffset: 1, as: UInt8.self))
            let b2 = UInt32(p.load(fromByteOffset: 2, as: UInt8.self))
            let v = Int32(bitPattern: (b0 << 8) | (b1 << 16) | (b2 << 24)) >> 8
            return Float(v) / 8_388_608
        case .s32le: return Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self))) / 2_147_483_648
        case .s32be: return Float(Int32(bigEndian: p.loadUnaligned(as: Int32.self))) / 2_147_483_648
        case .f32le, .f32be:
            let bits = p.loadUnaligned(as: UInt32.self)
            let v = Float(bitPattern: self == .f32le ? UInt32(littleEndian: bits) : UInt32(bigEndian: bits))
            return v.isFinite ? min(max(v, -1), 1) : 0
        }
    }
}

/// The layout of a raw PCM stream: sample format, rate and interleaved channel count, spelled
/// `FORMAT:RATE:CHANNELS` on the command line (`s16le:22050:1`).
public struct PCMStreamFormat: Sendable, Equatable, Codable, CustomStringConvertible {
    public var sample: PCMSampleFormat
    public var sampleRate: Int
    public var channels: Int

    public init(sample: PCMSampleFormat, sampleRate: Int, channels: Int) throws {
        guard (4000...384_000).contains(sampleRate) else {
            throw RuntimeError("PCM rate \(sampleRate) Hz is outside 4000…384000 Hz")
        }
        guard (1...16).contains(channels) else { throw RuntimeError("PCM channel count \(channels) is outside 1…16") }
        self.sample = sample
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// Parses `FORMAT:RATE:CHANNELS`; the error names what is wrong and the accepted formats.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else {
            throw RuntimeError("PCM format '\(text)': expected FORMAT:RATE:CHANNELS, e.g. s16le:22050:1")
        }
        guard let sample = PCMSampleFormat(rawValue: parts[0].lowercased()) else {
            throw RuntimeError("PCM format '\(text)': sample format '\(parts[0])' is not one of "
                               + PCMSampleFormat.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let rate = Int(parts[1]) else { throw RuntimeError("PCM format '\(text)': rate '\(parts[1])' is not a whole number of Hz") }
        guard let channels = Int(parts[2]) else { throw RuntimeError("PCM format '\(text)': channels '\(parts[2])' is not a whole number") }
        try self.init(sample: sample, sampleRate: rate, channels: channels)
    }

    /// Bytes per interleaved frame.
    public var frameBytes: Int { sample.bytes * channels }
    public var description: String { "\(sample.rawValue):\(sampleRate):\(channels)" }
}

/// Raw PCM bytes in chunks of any size → interleaved float frames at the stream's own rate and channel count: what
/// is played. (The 16 kHz mono copy for the motion is made where the frames are consumed, ``PCMStreamPipeline``, so
/// the sound heard and the sound analysed are the same frames.) Keeps a partial frame between chunks, so cutting a
/// stream anywhere gives exactly the frames the whole stream gives; a trailing partial frame is never emitted.
public struct PCMStreamDecoder: Sendable {
    public let format: PCMStreamFormat
    private var partial: [UInt8] = []

    public init(format: PCMStreamFormat) {
        self.format = format
    }

    /// Decodes `bytes` and appends the whole frames now available to `output` (interleaved).
    public mutating func push(_ bytes: UnsafeRawBufferPointer, into output: inout [Float]) {
        let frameBytes = format.frameBytes
        let sample = format.sample
        var offset = 0
        // Complete the frame left over from the previous chunk.
        if !partial.isEmpty {
            let need = min(frameBytes - partial.count, bytes.count)
            partial.append(contentsOf: bytes[0..<need])
            offset = need
            if partial.count == frameBytes {
                partial.withUnsafeBytes { f in
                    for c in 0..<format.channels { output.append(sample.decode(f.baseAddress! + c * sample.bytes)) }
                }
                partial.removeAll(keepingCapacity: true)
            }
        }
        let whole = (bytes.count - offset) / frameBytes
        if whole > 0, let base = bytes.baseAddress {
            let count = whole * format.channels
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: count))
            output.withUnsafeMutableBufferPointer { out in
                let p = base + offset
                for i in 0..<count { out[start + i] = sample.decode(p + i * sample.bytes) }
            }
        }
        offset += whole * frameBytes
        if offset < bytes.count { partial.append(contentsOf: bytes[offset...]) }
    }

    /// Convenience for arrays and `Data`.
    public mutating func push(_ bytes: [UInt8]) -> [Float] {
        var out = [Float]()
        bytes.withUnsafeBytes { push($0, into: &out) }
        return out
    }
}

/// A FIFO of interleaved samples (frames of ``channels`` samples at ``sampleRate``) between a stream's reader and the
/// real-time consumer. Taking more than is there gives the rest as silence and counts an underrun: the face keeps
/// idling instead of freezing. Writers block once ``capacity`` samples wait, which paces a producer that runs
/// faster than real time (`cat file |`). Write and take whole frames (the capacity is a whole number of them).
public final class PCMSampleQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var buffer: [Float] = []
    private var head = 0
    private var closed = false
    /// Most samples held before writers wait.
    public let capacity: Int
    /// The rate and channel count of the frames queued.
    public let sampleRate: Int
    public let channels: Int
    /// Reads that found fewer samples than asked for, while the stream was open.
    public private(set) var underruns = 0
    /// Samples handed out as silence because none had arrived.
    public private(set) var silentSamples = 0
    /// Samples that arrived in total.
    public private(set) var received = 0

    /// A queue holding up to `capacity` samples (default 10 s at 16 kHz mono; rounded down to whole frames).
    public init(capacity: Int = 10 * AudioBuffer.analysisRate, sampleRate: Int = AudioBuffer.analysisRate, channels: Int = 1) {
        precondition(sampleRate > 0 && channels > 0, "empty format")
        self.capacity = max(1, capacity / channels) * channels
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// A queue holding `seconds` of `format`'s frames.
    public convenience init(seconds: Double, sampleRate: Int, channels: Int) {
        self.init(capacity: Int(seconds * Double(sampleRate)) * channels, sampleRate: sampleRate, channels: channels)
    }

    /// Seconds of audio that arrived in total.
    public var receivedSeconds: Double {
        condition.lock(); defer { condition.unlock() }
        return Double(received / channels) / Double(sampleRate)
    }

    /// Samples waiting.
    public var available: Int {
        condition.lock(); defer { condition.unlock() }
        return buffer.count - head
    }

    /// Whether the writer closed the stream (what is queued can still be read).
    public var isClosed: Bool {
        condition.lock(); defer { condition.unlock() }
        return closed
    }

    /// Whether the writer closed the stream and everything was read.
    public var isDrained: Bool {
        condition.lock(); defer { condition.unlock() }
        return closed && buffer.count == head
    }

    /// Appends samples, waiting while the queue is full (returns early once closed).
    public func write(_ samples: [Float]) {
        var rest = samples[...]
        condition.lock(); defer { condition.unlock() }
        while !rest.isEmpty && !closed {
            while buffer.count - head >= capacity && !closed { condition.wait() }
            if closed { return }
            let n = min(rest.count, capacity - (buffer.count - head))
            if head > 0 && head >= buffer.count / 2 {
                buffer.removeFirst(head)
                head = 0
            }
            buffer.append(contentsOf: rest.prefix(n))
            received += n
            rest = rest.dropFirst(n)
            condition.broadcast()
        }
    }

    /// Appends as many of `samples` as fit now, without waiting; returns how many (0 once closed). For writers
    /// that must not block a thread (an async request handler waits and offers the rest again).
    public func offer(_ samples: ArraySlice<Float>) -> Int {
        condition.lock(); defer { condition.unlock() }
        guard !closed else { return 0 }
        let n = min(samples.count, capacity - (buffer.count - head))
        guard n > 0 else { return 0 }
        if head > 0 && head >= buffer.count / 2 {
            buffer.removeFirst(head)
            head = 0
        }
        buffer.append(contentsOf: samples.prefix(n))
        received += n
        condition.broadcast()
        return n
    }

    /// Takes exactly `count` samples: what is queued, then silence (an underrun unless the stream has ended).
    public func take(_ count: Int) -> [Float] {
        condition.lock(); defer { condition.unlock() }
        let n = min(count, buffer.count - head)
        var out = Array(buffer[head..<(head + n)])
        head += n
        if n < count {
            if !closed && count > 0 { underruns += 1 }
            silentSamples += count - n
            out.append(contentsOf: repeatElement(0, count: count - n))
        }
        condition.broadcast()
        return out
    }

    /// Drops everything queued (barge-in).
    public func clear() {
        condition.lock(); defer { condition.unlock() }
        buffer.removeAll(keepingCapacity: true)
        head = 0
        condition.broadcast()
    }

    /// Marks the end of the stream and wakes a waiting writer.
    public func close() {
        condition.lock(); defer { condition.unlock() }
        closed = true
        condition.broadcast()
    }
}

/// Where raw PCM comes from (`parla live --pcm-stdin FORMAT`, `--pcm-fifo PATH`, `--pcm-socket PATH`).
public enum PCMEndpoint: Sendable, Equatable {
    /// Standard input until end of file.
    case stdin
    /// A named pipe, created if missing; reopened when a writer closes it, so producers can come and go.
    case fifo(String)
    /// A UNIX stream socket, listening; one client at a time, the next one is accepted when it disconnects.
    case socket(String)
}

/// Reads a raw PCM stream on a thread of its own, decodes it (frames at the stream's rate and channel count) and
/// fills a ``PCMSampleQueue``.
///
/// The thread never sleeps where ``stop()`` cannot reach it: every read and accept waits in `poll` together with a
/// wake pipe, and the FIFO is opened read-write (Linux: the open never waits for a writer, and a writer that
/// closes is not an end of file, so producers can come and go).
public final class PCMStreamSource: @unchecked Sendable {
    public let endpoint: PCMEndpoint
    public let format: PCMStreamFormat
    /// The decoded samples; read them with ``PCMSampleQueue/take(_:)`` at the real-time pace.
    public let queue: PCMSampleQueue
    private let lock = NSLock()
    private var stopping = false
    private var started = false
    private let finished = DispatchSemaphore(value: 0)
    private var listenFD: Int32 = -1
    /// `wake[0]` is polled beside every blocking descriptor; ``stop()`` writes to `wake[1]`.
    private var wake: [Int32] = [-1, -1]
    private var failure: Error?

    /// Opens the endpoint (creates the FIFO or binds the socket now, so a bad path fails at once).
    public init(endpoint: PCMEndpoint, format: PCMStreamFormat, queue: PCMSampleQueue? = nil) throws {
        self.endpoint = endpoint
        self.format = format
        self.queue = queue ?? PCMSampleQueue(seconds: 10, sampleRate: format.sampleRate, channels: format.channels)
        precondition(self.queue.sampleRate == format.sampleRate && self.queue.channels == format.channels, "queue of another format")
        switch endpoint {
        case .stdin: break
        case .fifo(let path):
            var st = stat()
            if stat(path, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFIFO else { throw RuntimeError("--pcm-fifo \(path): exists and is not a FIFO") }
            } else if mkfifo(path, 0o660) != 0 {
                throw RuntimeError("--pcm-fifo \(path): cannot create the FIFO: \(String(cString: strerror(errno)))")
            }
        case .socket(let path):
            listenFD = try Self.listen(path)
        }
        guard pipe(&wake) == 0 else {
            if listenFD >= 0 { close(listenFD) }
            throw RuntimeError("PCM stream: cannot create its wake pipe: \(String(cString: strerror(errno)))")
        }
        for fd in wake {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
    }

    deinit {
        stop()
        if listenFD >= 0 { close(listenFD) }
        for fd in wake where fd >= 0 { close(fd) }
        if case .socket(let path) = endpoint { unlink(path) }
    }

    /// The error that ended reading, if any.
    public var error: Error? {
        lock.lock(); defer { lock.unlock() }
        return failure
    }

    /// Starts the reader thread (once).
    public func start() {
        lock.lock()
        defer { lock.unlock() }
        guard !started && !stopping else { return }
        started = true
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "parla-pcm-in"
        thread.start()
    }

    /// Stops reading and waits for the reader thread to end (the queue is closed: what it holds can still be read).
    public func stop() {
        lock.lock()
        let wasRunning = started && !stopping
        stopping = true
        lock.unlock()
        queue.close()
        var byte: UInt8 = 1
        _ = write(wake[1], &byte, 1)
        if wasRunning { finished.wait() }
    }

    private var isStopping: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopping
    }

    /// Waits until `fd` is readable; false once stop() was called (or polling failed).
    private func waitReadable(_ fd: Int32) -> Bool {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0)]
        while !isStopping {
            let r = poll(&fds, 2, -1)
            if r < 0 && errno == EINTR { continue }
            if r < 0 || fds[1].revents != 0 { return false }
            if fds[0].revents != 0 { return true }
        }
        return false
    }

    private func run() {
        var decoder = PCMStreamDecoder(format: format)
        switch endpoint {
        case .stdin:
            drain(fd: 0, decoder: &decoder)
            queue.close()
        case .fifo(let path):
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { fail("--pcm-fifo \(path): cannot open: \(String(cString: strerror(errno)))"); return }
            drain(fd: fd, decoder: &decoder)
            close(fd)
        case .socket(let path):
            while waitReadable(listenFD) {
                let client = accept(listenFD, nil, nil)
                if client < 0 {
                    if errno == EINTR || errno == EAGAIN || errno == ECONNABORTED { continue }
                    if !isStopping { fail("--pcm-socket \(path): accept: \(String(cString: strerror(errno)))") }
                    return
                }
                drain(fd: client, decoder: &decoder)
                close(client)
            }
        }
    }

    /// Reads until end of file (or an error, or stop), pushing decoded samples into the queue.
    private func drain(fd: Int32, decoder: inout PCMStreamDecoder) {
        var chunk = [UInt8](repeating: 0, count: 8192)
        var samples = [Float]()
        while waitReadable(fd) {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if n <= 0 { return }
            samples.removeAll(keepingCapacity: true)
            chunk.withUnsafeBytes { decoder.push(UnsafeRawBufferPointer(rebasing: $0[0..<n]), into: &samples) }
            queue.write(samples)
        }
    }

    private func fail(_ message: String) {
        lock.lock()
        failure = RuntimeError(message)
        lock.unlock()
        queue.close()
    }

    /// Binds and listens on a UNIX stream socket at `path` (a stale socket file is replaced).
    static func listen(_ path: String) throws -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { throw RuntimeError("--pcm-socket \(path): the path is longer than \(capacity - 1) bytes") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else { throw RuntimeError("--pcm-socket \(path): exists and is not a socket") }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RuntimeError("--pcm-socket \(path): socket: \(String(cString: strerror(errno)))") }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 1) == 0 else {
            let cause = String(cString: strerror(errno))
            close(fd)
            throw RuntimeError("--pcm-socket \(path): cannot listen: \(cause)")
        }
        return fd
    }
}
