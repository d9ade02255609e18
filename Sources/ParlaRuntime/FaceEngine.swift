import Foundation
import ParlaFace
import ParlaIO
import ParlaMedia
import ParlaMotion
import ParlaRender
import ParlaVoice

/// One thing to say: its sound, its 16 kHz analysis copy and the motion frames composed for it.
public struct Utterance: Sendable {
    /// Assigned by the engine when queued (1, 2, …).
    public internal(set) var id = 0
    /// "say" (text), "speak" (audio).
    public var kind: String
    /// The text, for `say`.
    public var text: String?
    /// 16 kHz mono: what the motion was composed from.
    public var audio: AudioBuffer
    /// What is played: the source's rate and channels.
    public var sound: InterleavedAudio
    /// One frame per 1 / fps from the start of the audio.
    public var frames: [MotionFrame]
    /// Seconds.
    public var duration: Double { audio.duration }
    /// Bytes it keeps in memory: both copies of the sound and the frames (with their blendshape arrays).
    public var memoryBytes: Int {
        let frame = MemoryLayout<MotionFrame>.stride + Blendshape.allCases.count * MemoryLayout<Float>.stride
        return (audio.samples.count + sound.samples.count) * MemoryLayout<Float>.stride + frames.count * frame
    }
}

/// ``FaceEngine/enqueue(_:interrupt:)`` refused an utterance: the queue holds as many utterances, or as many
/// seconds of audio, as it may (each queued utterance keeps its 16 kHz audio and its frames in memory).
public struct QueueFullError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// What `GET /status` and the WebSocket report.
public struct EngineStatus: Codable, Sendable, Equatable {
    public var speaking: Bool
    /// The utterance playing, if any.
    public var utterance: Int?
    /// Seconds of it heard so far.
    public var position: Double?
    /// Utterances waiting after it.
    public var queue: Int
    public var queued: [Int]
    /// Frames shown per second over the last second.
    public var fps: Double
    /// Time from a frame being due to it being ready (decoded), median of the last second, milliseconds.
    public var lagMs: Double
    public var framesShown: Int
    public var droppedFrames: Int
    public var utterancesStarted: Int
    public var utterancesInterrupted: Int
    /// Seconds of PCM stream audio received (`--pcm-*`, WebSocket binary messages).
    public var streamSeconds: Double
    public var avatar: String
    public var sink: String
    public var controls: MotionControls
    public var uptime: Double
}

/// Counters and the frame-time histogram behind `GET /metrics`.
public struct EngineMetrics: Sendable {
    /// Upper bounds (seconds) of the frame-time histogram buckets; the last bucket is +Inf.
    public static let frameTimeBuckets: [Double] = [0.002, 0.005, 0.01, 0.02, 0.033, 0.05, 0.1, 0.25]
    /// Cumulative counts per bucket (Prometheus style, `le`), plus +Inf last.
    public var frameTimeCounts = [Int](repeating: 0, count: frameTimeBuckets.count + 1)
    public var frameTimeSum = 0.0
    public var frames = 0
    public var dropped = 0
    public var xruns = 0
    public var lagSeconds = 0.0
    public var fps = 0.0
    public var utterancesStarted = 0
    public var utterancesCompleted = 0
    public var utterancesInterrupted = 0
    public var streamUnderruns = 0

    mutating func record(frameTime t: Double) {
        frames += 1
        frameTimeSum += t
        for (i, bound) in Self.frameTimeBuckets.enumerated() where t <= bound { frameTimeCounts[i] += 1 }
        frameTimeCounts[Self.frameTimeBuckets.count] += 1
    }
}

/// Where the engine's pictures go.
public enum EngineSink: String, Sendable, CaseIterable {
    /// Decoded and dropped: the whole loop runs with real timing, nothing is shown or heard (tests, headless).
    case null
    /// Full screen on a KMS display (the panel settings of ``FaceEngine/Configuration``, as `parla live`), sound
    /// through ALSA.
    case kms
}

/// The display of a `.kms` engine, opened (DRM master taken, connector and mode chosen) before anything else, so a
/// missing or busy display fails in milliseconds, before an avatar is analysed or a port listened on.
public final class EnginePanel: @unchecked Sendable {
    let display: KMSDisplay
    let painter: LivePainter

    /// Opens the panel `configuration` asks for; "display: …" lines go to `report`.
    public init(configuration: FaceEngine.Configuration, report: (String) -> Void) throws {
        (display, painter) = try configuration.openPanel(report: report)
    }
}

/// The face that other programs drive: a render loop that shows queued utterances in turn (each composed up front,
/// mouth and all), idles between them, applies live controls and external blendshape frames, switches avatars with
/// a cross-fade, and counts what a fleet wants to watch. Thread-safe: the API calls come from any thread; the loop
/// runs on its own.
public final class FaceEngine: @unchecked Sendable {
    public struct Configuration: LivePanelSettings, Sendable {
        public var fps = 30.0
        /// Side of the square picture.
        public var size = 512
        public var seed: UInt64 = 1
        public var sink = EngineSink.null
        /// Most utterances waiting.
        public var maximumQueue = 32
        /// Most seconds of audio held by the utterance playing and those waiting: bounds the memory the queue
        /// takes (per second: 64 kB of 16 kHz analysis samples, ~9 kB of frames at 30 fps, and the sound at its own
        /// rate and channels, 4 bytes a sample: 88 kB at 22050 Hz mono, 384 kB at 48 kHz stereo).
        public var maximumQueueSeconds = 600.0
        /// Most bytes the utterance playing and those waiting keep (``Utterance/memoryBytes``): the seconds alone
        /// do not bound it, the sound being kept at its own rate and channels (600 s of 48 kHz stereo is 270 MB).
        public var maximumQueueBytes = 96 << 20
        /// Seconds an external blendshape frame stays on screen without a newer one.
        public var externalHold = 0.25
        /// Seconds of composed idle motion (played back and forth).
        public var idleSeconds = 12.0
        /// ALSA device for the sound; nil: silent (the monotonic clock paces the face).
        public var audioDevice: String?
        /// `.kms`: the DRM device; nil takes the first card in ``driDirectory`` with a connected display.
        public var card: String?
        public var driDirectory = DRMCard.defaultDirectory
        /// `.kms`: the connector; nil takes the first connected one.
        public var output: String?
        public var outputIsPreference = false
        public var mode: ModeRequest = .preferred
        public var rotation: Rotation = .degrees0
        public var fit: FitMode = .contain
        public var background = RGBColor(red: 0, green: 0, blue: 0)
        public var kms: KMSInterface = .auto
        /// `.kms`: draw the stats overlay (fps, frame time, lag, dropped frames, CPU temperature) into the picture.
        public var hud = false
        /// Report fps, frame time, lag, dropped frames and underruns once a second.
        public var stats = false
        /// Threads the CPU decoder splits each picture over (`--threads`, or the board profile's).
        public var decoderThreads = 1
        public init() {}
    }

    public let configuration: Configuration
    /// Where "display: …", "audio: …" and `stats` lines go (one call per line); set before ``run(stop:)``.
    public var report: (String) -> Void = { print($0) }
    private var panel: EnginePanel?
    private let lock = NSLock()
    private var decoder: any FrameDecoder
    private var fading: (old: any FrameDecoder, start: Double, seconds: Double)?
    private var avatarName: String
    private var controls = MotionControls()
    private var queue: [Utterance] = []
    private var current: (utterance: Utterance, start: Double)?
    private var nextID = 1
    /// Times the engine was told to stop talking (``clear()``, a barge-in): a stream producer feeding the PCM
    /// stream stops when it changes.
    private var stops = 0
    private var external: (frame: MotionFrame, until: Double)?
    private var metrics = EngineMetrics()
    private let idle: [MotionFrame]
    private var idleTick = 0
    private var recentLags: [Double] = []
    private var recentFrames: [Double] = []
    private var recentWork: [Double] = []
    private let startTime = MonotonicClock.now()
    private var smoothed: MotionFrame?
    private var audio: EngineAudio?
    private var paused = false
    private var lastTick: Double?
    private var statsLineAt = MonotonicClock.now()
    /// A live PCM stream driving the face between utterances (``attachStream(_:)``).
    private var stream: (queue: PCMSampleQueue, pipeline: PCMStreamPipeline, latest: MotionFrame?, loudUntil: Double,
                         origin: Double?, last: Double, taken: Int)?

    /// An engine showing `avatar` (named `name` in the status). With the `.kms` sink it shows on `panel`, opened
    /// beforehand by the caller (so that a missing display fails first), or opened here when nil.
    public init(configuration: Configuration, avatar: Avatar, name: String, panel: EnginePanel? = nil) throws {
        guard (16...4096).contains(configuration.size) else { throw RuntimeError("--size \(configuration.size) must be between 16 and 4096") }
        guard configuration.fps > 0, configuration.fps <= 120 else { throw RuntimeError("--fps \(configuration.fps) must be above 0 and at most 120") }
        self.configuration = configuration
        if configuration.sink == .kms {
            self.panel = try panel ?? EnginePanel(configuration: configuration, report: { print($0) })
        }
        decoder = try CPUFrameDecoder(avatar: avatar, width: configuration.size, height: configuration.size,
                                        threads: configuration.decoderThreads)
        avatarName = name
        var motion = MotionOptions()
        motion.fps = configuration.fps
        motion.seed = configuration.seed
        let silence = AudioBuffer(sampleRate: AudioBuffer.analysisRate,
                                  samples: [Float](repeating: 0, count: Int(configuration.idleSeconds * Double(AudioBuffer.analysisRate))))
        idle = MotionComposer(options: motion).frames(for: silence)
    }

    // MARK: - Making utterances

    /// Motion options for composing utterances at the engine's rate.
    public var motionOptions: MotionOptions {
        var m = MotionOptions()
        m.fps = configuration.fps
        m.seed = configuration.seed
        return m
    }

    /// An utterance from synthesized speech: mouth from its phoneme timing.
    public func utterance(speech: SynthesizedSpeech, text: String) -> Utterance {
        Utterance(kind: "say", text: text, audio: speech.analysisAudio, sound: InterleavedAudio(mono: speech.audio),
                  frames: speech.motionFrames(options: motionOptions))
    }

    /// An utterance from recorded or streamed speech (any rate and channels; played as it is, mixed down and
    /// resampled to 16 kHz for the mouth).
    public func utterance(sound: InterleavedAudio) throws -> Utterance {
        let speech = sound.mixedToMono().resampledForAnalysis()
        guard !speech.samples.isEmpty else { throw RuntimeError("the audio has no samples") }
        let frames = try MotionComposer(options: motionOptions).checkedFrames(for: speech)
        return Utterance(kind: "speak", text: nil, audio: speech, sound: sound, frames: frames)
    }

    // MARK: - Control

    /// Queues `u`; with `interrupt`, drops the queue and cuts what is playing (barge-in). Returns its id.
    /// Throws ``QueueFullError`` when it would make the queue longer than ``Configuration/maximumQueue``
    /// utterances, ``Configuration/maximumQueueSeconds`` or ``Configuration/maximumQueueBytes``.
    public func enqueue(_ u: Utterance, interrupt: Bool) throws -> Int {
        lock.lock(); defer { lock.unlock() }
        if interrupt {
            if current != nil { metrics.utterancesInterrupted += 1 }
            current = nil
            queue.removeAll()
            audio?.clear()
            stops += 1
        }
        try checkRoom(for: u.duration, bytes: u.memoryBytes)
        var u = u
        u.id = nextID
        nextID += 1
        queue.append(u)
        return u.id
    }

    /// Seconds of audio held by the utterance playing and those waiting (lock held).
    private var heldSeconds: Double {
        queue.reduce(current?.utterance.duration ?? 0) { $0 + $1.duration }
    }

    /// Bytes kept by the utterance playing and those waiting (lock held).
    private var heldBytes: Int {
        queue.reduce(current?.utterance.memoryBytes ?? 0) { $0 + $1.memoryBytes }
    }

    /// Throws ``QueueFullError`` unless an utterance of `seconds` fits in the queue now (lock held); with
    /// `emptied`, as if the queue were empty (a barge-in drops it first).
    private func checkRoom(for seconds: Double, bytes: Int, emptied: Bool = false) throws {
        let c = configuration
        guard emptied || queue.count < c.maximumQueue else {
            throw QueueFullError(message: "the queue is full (\(c.maximumQueue) utterances); retry when it drains")
        }
        let held = emptied ? 0 : heldSeconds
        guard held + seconds <= c.maximumQueueSeconds else {
            throw QueueFullError(message: String(format: "the queue is full: it holds %.1f s of audio, %.1f s more would pass its %g s limit; retry when it drains",
                                                 held, seconds, c.maximumQueueSeconds))
        }
        let kept = emptied ? 0 : heldBytes
        guard kept + bytes <= c.maximumQueueBytes else {
            let mib = { (n: Int) -> Double in Double(n) / 1_048_576 }
            throw QueueFullError(message: String(format: "the queue is full: its audio takes %.1f MiB, %.1f MiB more would pass its %g MiB limit; retry when it drains",
                                                 mib(kept), mib(bytes), mib(c.maximumQueueBytes)))
        }
    }

    /// Throws ``QueueFullError`` unless an utterance of `seconds` keeping `bytes` would be queued now; lets a caller
    /// refuse before spending time composing it (``enqueue(_:interrupt:)`` checks again).
    public func checkRoom(forSeconds seconds: Double, bytes: Int = 0, interrupt: Bool) throws {
        lock.lock(); defer { lock.unlock() }
        try checkRoom(for: seconds, bytes: bytes, emptied: interrupt)
    }

    /// How many times the engine was told to stop talking (``clear()``, a barge-in) so far.
    public var stopCount: Int {
        lock.lock(); defer { lock.unlock() }
        return stops
    }

    /// Stops talking now: cuts the current utterance and empties the queue. Returns how many were dropped.
    @discardableResult
    public func clear() -> Int {
        lock.lock(); defer { lock.unlock() }
        stops += 1
        let n = queue.count + (current == nil ? 0 : 1)
        if current != nil { metrics.utterancesInterrupted += 1 }
        current = nil
        queue.removeAll()
        audio?.clear()
        stream?.queue.clear()
        return n
    }

    /// The controls applied to every frame shown (``MotionControls/applyLive(to:)``), whatever drives the face.
    public var faceControls: MotionControls {
        get { lock.lock(); defer { lock.unlock() }; return controls }
        set { lock.lock(); controls = newValue; lock.unlock() }
    }

    /// Switches to `avatar`, cross-fading from the current one over `fade` seconds.
    public func switchAvatar(_ avatar: Avatar, name: String, fade: Double) throws {
        let next = try CPUFrameDecoder(avatar: avatar, width: configuration.size, height: configuration.size,
                                        threads: configuration.decoderThreads)
        lock.lock(); defer { lock.unlock() }
        fading = fade > 0 ? (decoder, MonotonicClock.now(), fade) : nil
        decoder = next
        avatarName = name
    }

    /// Shows `frame` (blendshapes and head pose from outside, e.g. an audio-to-face model) instead of the composed
    /// face for ``Configuration/externalHold`` seconds.
    public func pushExternal(_ frame: MotionFrame) {
        lock.lock(); defer { lock.unlock() }
        external = (frame, MonotonicClock.now() + configuration.externalHold)
    }

    /// Freezes (true) or resumes (false) the utterance playing: its clock stops, the face holds its mouth while
    /// blinks and controls go on. For an operator taking over, and for tests that need an utterance to stay current.
    public var isPaused: Bool {
        get { lock.lock(); defer { lock.unlock() }; return paused }
        set { lock.lock(); paused = newValue; lock.unlock() }
    }

    /// The current state.
    public func status() -> EngineStatus {
        lock.lock(); defer { lock.unlock() }
        let now = MonotonicClock.now()
        return EngineStatus(
            speaking: current != nil || (stream.map { $0.loudUntil > now } ?? false), utterance: current?.utterance.id, position: current.map { now - $0.start },
            queue: queue.count, queued: queue.map(\.id), fps: metrics.fps, lagMs: metrics.lagSeconds * 1000,
            framesShown: metrics.frames, droppedFrames: metrics.dropped, utterancesStarted: metrics.utterancesStarted,
            utterancesInterrupted: metrics.utterancesInterrupted,
            streamSeconds: stream?.queue.receivedSeconds ?? 0, avatar: avatarName, sink: configuration.sink.rawValue,
            controls: controls, uptime: now - startTime)
    }

    /// A copy of the counters.
    public func metricsSnapshot() -> EngineMetrics {
        lock.lock(); defer { lock.unlock() }
        return metrics
    }

    /// Lets a live PCM stream (``PCMStreamSource``) drive the face whenever no utterance plays: every frame takes
    /// 1 / fps of its samples (silence when it runs dry, so the face idles instead of freezing), composes them
    /// (``PCMStreamPipeline``: the ``StreamingMotionComposer``) and plays them delayed by the composer's look-ahead,
    /// so the newest frame shown is the one of the sound starting to play.
    public func attachStream(_ queue: PCMSampleQueue) throws {
        let pipeline = try PCMStreamPipeline(motion: motionOptions, sampleRate: queue.sampleRate, channels: queue.channels)
        lock.lock(); defer { lock.unlock() }
        stream = (queue, pipeline, nil, 0, nil, 0, 0)
    }

    /// The queue of the PCM stream driving the face (frames at `sampleRate` Hz with `channels` channels), attaching a
    /// new one when there is none, the attached one was closed (its producer ended) or it holds another format:
    /// WebSocket binary messages are written here.
    public func streamQueue(sampleRate: Int = AudioBuffer.analysisRate, channels: Int = 1) throws -> PCMSampleQueue {
        lock.lock()
        if let s = stream, !s.queue.isClosed, s.queue.sampleRate == sampleRate, s.queue.channels == channels {
            lock.unlock()
            return s.queue
        }
        lock.unlock()
        let queue = PCMSampleQueue(seconds: 10, sampleRate: sampleRate, channels: channels)
        try attachStream(queue)
        return queue
    }

    /// Frames of the stream due at `time` (called with the lock held, once per tick).
    private func streamFrame(at time: Double) -> MotionFrame? {
        guard var s = stream else { return nil }
        // The stream plays in real time whatever the drawing rate (dropped ticks take their frames too): by `time`,
        // (time − origin) · rate frames are due. While an utterance plays the stream waits (``holdStream(at:)``).
        // At most 4 ticks' worth per tick: a composer slower than real time (an overloaded board) makes the stream
        // slip (the origin moves on, nothing is lost) instead of taking ever bigger chunks with the lock held.
        let rate = Double(s.queue.sampleRate)
        var origin = s.origin ?? time - 1 / configuration.fps
        let most = Int((4 * rate / configuration.fps).rounded(.down))
        var due = Int(((time - origin) * rate).rounded(.down))
        if due - s.taken > most {
            origin += Double(due - s.taken - most) / rate
            due = s.taken + most
        }
        s.origin = origin
        let gap = s.last > 0 ? time - s.last : 0
        s.last = time
        let (frames, play) = s.pipeline.step(s.queue.take((due - s.taken) * s.queue.channels))
        s.taken = due
        // Speaking: sound in the last 0.3 s, or since the previous tick when drawing is slower than that.
        if play.contains(where: { abs($0) > 0.01 }) { s.loudUntil = time + max(0.3, 1.5 * gap) }
        audio?.playStream(play, sampleRate: s.queue.sampleRate, channels: s.queue.channels)
        if let newest = frames.last { s.latest = newest }
        metrics.streamUnderruns = s.queue.underruns
        stream = s
        return s.loudUntil > time ? s.latest : nil
    }

    /// Keeps the stream where it is while an utterance plays: its origin moves on with the clock (lock held).
    private func holdStream(at time: Double) {
        guard var s = stream, let origin = s.origin else { return }
        s.origin = origin + (time - s.last)
        s.last = time
        stream = s
    }

    // MARK: - The loop

    /// Runs the render loop until `stop` fires: every 1 / fps it picks the frame due, applies the controls, draws it
    /// (and drops it: the null sink), and records timing. Late ticks are skipped and counted as dropped frames.
    public func run(stop: StopSignal) throws {
        if let device = configuration.audioDevice {
            let sound = try EngineAudio(device: device)
            audio = sound
            report("audio: ALSA '\(device)' at \(sound.sampleRate) Hz, \(sound.channels) channel(s)")
        } else {
            report("audio: none (monotonic clock)")
        }
        defer { audio?.stop() }
        if let panel {
            defer { self.panel = nil }
            return try runOnDisplay(panel, stop: stop)
        }
        let period = 1 / configuration.fps
        var picture = RGBAImage(width: configuration.size, height: configuration.size)
        var fadePicture = RGBAImage(width: configuration.size, height: configuration.size)
        let start = MonotonicClock.now()
        var tick = 0
        while true {
            let due = start + Double(tick) * period
            let wait = due - MonotonicClock.now()
            if wait > 0, stop.wait(seconds: wait) { return }
            if stop.isTriggered { return }
            if let error = audio?.error { throw error }
            let begin = MonotonicClock.now()
            try draw(at: due, into: &picture, scratch: &fadePicture)
            let end = MonotonicClock.now()
            // The next tick due after now; ticks passed in between are dropped frames.
            let nextTick = max(tick + 1, Int(((end - start) / period).rounded(.down)) + 1)
            record(frameTime: end - begin, lag: end - due, dropped: nextTick - tick - 1, at: end)
            tick = nextTick
        }
    }

    /// Draws the picture due at `time` (cross-fading avatars when switching).
    private func draw(at time: Double, into picture: inout RGBAImage, scratch: inout RGBAImage) throws {
        let (frame, decoder, fade) = nextFrame(at: time)
        try decoder.decode(frame, into: &picture)
        if let fade {
            try fade.old.decode(frame, into: &scratch)
            Self.blend(from: scratch, into: &picture, amount: fade.amount)
        }
    }

    /// The `.kms` loop: the display's flips pace it; each flip shows the picture due at the moment it is drawn,
    /// turned and fitted to the screen as `parla live` does (with the `hud` overlay when asked). The previous mode
    /// is restored on the way out, and said so.
    private func runOnDisplay(_ panel: EnginePanel, stop: StopSignal) throws {
        let c = configuration
        panel.display.report = report
        var picture = RGBAImage(width: c.size, height: c.size)
        var scratch = RGBAImage(width: c.size, height: c.size)
        var hud = LiveHUD()
        var flips = 0
        var lastWork = 0.0
        let period = 1 / c.fps
        let start = MonotonicClock.now()
        var tick = 0
        let restored = try panel.display.presentThenRestore(stop: stop) { target, timing in
            if let error = self.audio?.error { throw error }
            guard let target else { throw RuntimeError("serve: no scan-out buffer to draw into") }
            if timing.flips > flips {
                flips = timing.flips
                hud.recordFlip(at: timing.lastFlipTime)
            }
            let due = start + Double(tick) * period
            let now = MonotonicClock.now()
            if now < due { return .skip(until: due) }
            try self.draw(at: due, into: &picture, scratch: &scratch)
            var reading: LiveHUD.Reading?
            if c.hud {
                let m = self.metricsSnapshot()
                reading = hud.reading(now: now, frameSeconds: lastWork, lagSeconds: m.lagSeconds, dropped: m.dropped)
            }
            panel.painter.paint(picture, into: target, hud: reading)
            let end = MonotonicClock.now()
            lastWork = end - now
            let next = max(tick + 1, Int(((end - start) / period).rounded(.down)) + 1)
            self.record(frameTime: lastWork, lag: end - due, dropped: next - tick - 1, at: end)
            tick = next
            return .present
        }
        report("display: " + restored)
    }

    /// The frame due at `time`, with the decoder(s) to draw it.
    private func nextFrame(at time: Double) -> (MotionFrame, any FrameDecoder, (old: any FrameDecoder, amount: Float)?) {
        lock.lock(); defer { lock.unlock() }
        var frame: MotionFrame
        if paused, let last = lastTick, var c = current {
            c.start += time - last
            current = c
        }
        lastTick = time
        if let c = current, Int(((time - c.start) * configuration.fps).rounded(.down)) >= c.utterance.frames.count {
            metrics.utterancesCompleted += 1
            current = nil
        }
        if current == nil, !queue.isEmpty {
            let u = queue.removeFirst()
            // With sound, the pictures start when its first sample will be heard.
            var start = time
            if let audio {
                start += audio.latency
                audio.play(u.sound)
            }
            current = (u, start)
            metrics.utterancesStarted += 1
        }
        if let c = current, time >= c.start {
            let index = max(0, Int(((time - c.start) * configuration.fps).rounded(.down)))
            frame = c.utterance.frames[min(index, c.utterance.frames.count - 1)]
            holdStream(at: time)
        } else if let streamed = streamFrame(at: time) {
            frame = streamed
        } else {
            frame = idle.isEmpty ? MotionFrame(time: time) : idle[Self.pingPong(idleTick, count: idle.count)]
            idleTick += 1
        }
        if let e = external {
            if e.until >= time { frame = e.frame } else { external = nil }
        }
        frame = controls.applyLive(to: frame)
        frame = smoothHead(frame)
        frame.time = time - startTime
        var fade: (any FrameDecoder, Float)?
        if let f = fading {
            let a = Float((time - f.start) / f.seconds)
            if a >= 1 { fading = nil } else { fade = (f.old, max(0, a)) }
        }
        return (frame, decoder, fade.map { (old: $0.0, amount: $0.1) })
    }

    /// Eases the head pose between sources (idle → speech → external) so a switch never jumps: each frame moves
    /// the pose 35 % of the way to its target (about 80 ms to settle at 30 fps).
    private func smoothHead(_ target: MotionFrame) -> MotionFrame {
        guard var s = smoothed else { smoothed = target; return target }
        let k: Float = 0.35
        var out = target
        s.headPitch += (target.headPitch - s.headPitch) * k
        s.headYaw += (target.headYaw - s.headYaw) * k
        s.headRoll += (target.headRoll - s.headRoll) * k
        s.translation += (target.translation - s.translation) * k
        s.scale += (target.scale - s.scale) * k
        out.headPitch = s.headPitch
        out.headYaw = s.headYaw
        out.headRoll = s.headRoll
        out.translation = s.translation
        out.scale = s.scale
        smoothed = s
        return out
    }

    private func record(frameTime: Double, lag: Double, dropped: Int, at now: Double) {
        lock.lock()
        metrics.record(frameTime: frameTime)
        metrics.dropped += max(0, dropped)
        metrics.xruns = audio?.underruns ?? 0
        recentFrames.append(now)
        recentLags.append(lag)
        recentWork.append(frameTime)
        while let first = recentFrames.first, now - first > 1 {
            recentFrames.removeFirst()
            recentLags.removeFirst()
            recentWork.removeFirst()
        }
        metrics.fps = Double(recentFrames.count) / min(1, max(1e-3, now - startTime))
        metrics.lagSeconds = recentLags.sorted()[recentLags.count / 2]
        var line: String?
        if configuration.stats, now - statsLineAt >= 1 {
            statsLineAt = now
            line = String(format: "stats: %5.1f fps, frame %5.1f ms (median), lag %4.0f ms, dropped %d, underruns %d",
                          metrics.fps, recentWork.sorted()[recentWork.count / 2] * 1000, metrics.lagSeconds * 1000,
                          metrics.dropped, metrics.xruns)
        }
        lock.unlock()
        if let line { report(line) }
    }

    /// Index `i` of a sequence played forwards then backwards.
    static func pingPong(_ i: Int, count: Int) -> Int {
        guard count > 1 else { return 0 }
        let period = 2 * (count - 1)
        let k = i % period
        return k < count ? k : period - k
    }

    /// `picture = old · (1 − amount) + picture · amount`, per channel.
    static func blend(from old: RGBAImage, into picture: inout RGBAImage, amount: Float) {
        let a = UInt16(max(0, min(256, (amount * 256).rounded())))
        old.pixels.withUnsafeBufferPointer { o in
            picture.pixels.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count {
                    p[i] = UInt8((UInt16(o[i]) * (256 - a) + UInt16(p[i]) * a) >> 8)
                }
            }
        }
    }
}
