import Foundation
import ParlaIO
import ParlaMedia
import ParlaMotion

/// What the capture thread does with each period, free of devices so it can be tested: mix the interleaved
/// frames (floats, whatever format the device delivers: ``ALSACapture`` converts) to mono, put in silence for frames lost to an overrun (so the timeline stays true), resample to
/// 16 kHz and push into the composer.
public struct MicrophonePipeline: Sendable {
    /// The capture rate and channels.
    public let sampleRate: Int
    public let channels: Int
    private var resampler: StreamingResampler?
    private var composer: StreamingMotionComposer
    private var mono: [Float] = []
    private var resampled: [Float] = []

    /// A pipeline from `sampleRate` Hz, `channels` channels into `composer`.
    public init(sampleRate: Int, channels: Int, composer: StreamingMotionComposer) {
        precondition(sampleRate > 0 && channels > 0, "empty format")
        self.sampleRate = sampleRate
        self.channels = channels
        resampler = sampleRate == 16_000 ? nil : StreamingResampler(from: sampleRate, to: 16_000)
        self.composer = composer
    }

    /// Processes `lostBefore` frames of silence and then the interleaved `raw` frames; returns the motion frames
    /// completed.
    public mutating func process(_ raw: UnsafeBufferPointer<Float>, lostBefore: Int = 0) -> [MotionFrame] {
        let frames = raw.count / channels
        mono.removeAll(keepingCapacity: true)
        mono.append(contentsOf: repeatElement(0, count: max(0, lostBefore)))
        if channels == 1 {
            mono.append(contentsOf: raw)
        } else {
            let scale = 1 / Float(channels)
            for i in 0..<frames {
                var sum: Float = 0
                for c in 0..<channels { sum += raw[i * channels + c] }
                mono.append(sum * scale)
            }
        }
        resampled.removeAll(keepingCapacity: true)
        if resampler != nil {
            mono.withUnsafeBufferPointer { resampler!.process($0, appendingTo: &resampled) }
            return composer.push(samples16k: resampled)
        }
        return composer.push(samples16k: mono)
    }
}

/// The microphone side of `parla live --mic`: a capture thread reads ~5 ms periods from an ALSA capture device
/// (rate and channels negotiated) and queues them; a second thread hands them to a ``MicrophonePipeline`` (mono,
/// 16 kHz through ``StreamingResampler``, ``StreamingMotionComposer`` with the microphone's coarticulation
/// look-ahead and frames on the newest hop, ``StreamingMotionComposer/FrameTiming/newestHop``); the flip loop takes
/// the newest motion frame available. Reading does nothing else, so a composer that is slow for a moment (a board busy decoding, an
/// emulator) delays the motion instead of making the device overrun; up to ``maximumBacklog`` seconds wait in the
/// queue, beyond that reading pauses and the device's overrun recovery takes over.
///
/// Timing: the capture clock maps each frame's time on the stream to the CLOCK_MONOTONIC moment its sound reached
/// the microphone (``soundTime(ofStreamTime:)``), so the sound-to-photon delay of every picture is measured, not
/// only estimated. Frames lost to overruns are replaced by silence, so the stream's timeline stays true.
public final class LiveMicrophone: @unchecked Sendable {
    // @unchecked: `capture` is used only by the capture thread and `pipeline` only by the processing thread once
    // started; everything shared is behind `condition`.
    private let capture: ALSACapture
    private var pipeline: MicrophonePipeline
    private let condition = NSCondition()
    private var queue: [(samples: [Float], lostBefore: Int)] = []
    private var queuedFrames = 0
    private var newest: MotionFrame?
    private var produced = 0
    private var epoch = Double.infinity
    private var failure: Error?
    private var stopping = false
    private var captureEnded = false
    private var modelSeconds: [Double] = []
    private var pushedSeconds: [Double] = []
    private let finished = DispatchSemaphore(value: 0)
    private var started = false

    /// Seconds of captured audio allowed to wait for the composer.
    public static let maximumBacklog = 30.0
    /// The capture period asked for: a sample waits in the device until its period is complete, so this is part of
    /// the sound-to-photon delay. 5 ms (80 frames at 16 kHz); a device may grant longer ones (``periodSeconds``).
    public static let periodMilliseconds = 5
    /// The device buffer asked for, in periods (320 ms).
    public static let bufferPeriods = 64
    /// The device name.
    public let device: String
    /// The rate and channels the device runs at.
    public let sampleRate: Int
    public let channels: Int
    /// The sample format the device delivers (converted to floats as read).
    public var format: ALSASampleFormat { capture.format }
    /// Seconds per capture period.
    public let periodSeconds: Double
    /// Seconds of audio after a frame's time needed before the frame is out: the composer's
    /// (``StreamingMotionComposer/latency(fps:net:mouthLookAhead:timing:)``) plus, when the device does not run at
    /// 16 kHz, the resampler's (half its kernel).
    public let lookAhead: Double

    /// Opens `device` for capture (asking for 16 kHz mono; taking what it offers) and makes the composer.
    public init(device: String, motion: MotionOptions) throws {
        capture = try ALSACapture(device: device, sampleRate: 16_000, channels: 1, periodMilliseconds: Self.periodMilliseconds,
                                  periods: Self.bufferPeriods)
        self.device = device
        sampleRate = capture.sampleRate
        channels = capture.channels
        periodSeconds = Double(capture.periodFrames) / Double(capture.sampleRate)
        pipeline = MicrophonePipeline(sampleRate: capture.sampleRate, channels: capture.channels,
                                      composer: try Self.composer(motion: motion))
        let resampling: Double = capture.sampleRate == 16_000 ? 0
            : StreamingResampler(from: capture.sampleRate, to: 16_000).design.halfWidth / Double(capture.sampleRate)
        lookAhead = Self.composerLatency(fps: motion.fps) + resampling
    }

    /// The composer `--mic` uses: the coarticulation looks ``Coarticulation/lowLatencyLookAhead`` ahead, frames
    /// are on the newest hop.
    public static func composer(motion: MotionOptions) throws -> StreamingMotionComposer {
        try StreamingMotionComposer(options: motion, mouthLookAhead: Coarticulation.lowLatencyLookAhead, timing: .newestHop)
    }

    /// Its look-ahead at `fps` (the same at every fps).
    public static func composerLatency(fps: Double) -> Double {
        StreamingMotionComposer.latency(fps: fps, mouthLookAhead: Coarticulation.lowLatencyLookAhead, timing: .newestHop)
    }

    deinit {
        stop()
    }

    /// Starts the capture and processing threads.
    public func start() {
        condition.lock()
        guard !started else { condition.unlock(); return }
        started = true
        condition.unlock()
        let reader = Thread { [self] in
            readLoop()
            finished.signal()
        }
        reader.name = "parla-mic"
        let processor = Thread { [self] in
            processLoop()
            finished.signal()
        }
        processor.name = "parla-mic-motion"
        reader.start()
        processor.start()
    }

    /// Stops both threads and waits for them (at most until the read in progress returns).
    public func stop() {
        condition.lock()
        let wasStarted = started && !stopping
        stopping = true
        condition.broadcast()
        condition.unlock()
        if wasStarted {
            finished.wait()
            finished.wait()
        }
    }

    /// The newest motion frame and how many frames were produced so far (the count changes when a new one arrives).
    public func latest() -> (frame: MotionFrame, serial: Int)? {
        condition.lock(); defer { condition.unlock() }
        return newest.map { ($0, produced) }
    }

    /// The error that ended capture, if any.
    public var error: Error? {
        condition.lock(); defer { condition.unlock() }
        return failure
    }

    /// Overruns recovered from so far.
    public var overruns: Int {
        condition.lock(); defer { condition.unlock() }
        return overrunCount
    }
    private var overrunCount = 0

    /// Seconds of captured audio waiting for the composer.
    public var backlog: Double {
        condition.lock(); defer { condition.unlock() }
        return Double(queuedFrames) / Double(sampleRate)
    }

    /// CLOCK_MONOTONIC seconds at which the sound at stream time `t` (seconds from the first captured frame)
    /// reached the microphone; nil before the first read.
    public func soundTime(ofStreamTime t: Double) -> Double? {
        condition.lock(); defer { condition.unlock() }
        return epoch.isFinite ? epoch + t : nil
    }

    /// Median composer time per period of audio.
    public func modelSecondsPerPeriod() -> Double {
        condition.lock(); defer { condition.unlock() }
        guard !modelSeconds.isEmpty else { return 0 }
        let ratios = zip(modelSeconds, pushedSeconds).map { $0 / max(1e-9, $1) }.sorted()
        return ratios[ratios.count / 2] * periodSeconds
    }

    private func readLoop() {
        let period = capture.periodFrames
        var raw = [Float](repeating: 0, count: period * channels)
        var lost = 0
        let limit = Int(Self.maximumBacklog * Double(sampleRate))
        while true {
            condition.lock()
            while !stopping && queuedFrames > limit { condition.wait() }
            let stop = stopping
            condition.unlock()
            if stop { break }
            do {
                try raw.withUnsafeMutableBufferPointer { _ = try capture.read(into: $0) }
            } catch {
                condition.lock()
                failure = error
                condition.unlock()
                break
            }
            let now = MonotonicClock.now()
            // The newest frame read was recorded `captureDelay` ago; frames before it (including the silence put in
            // for overruns) came at the device rate.
            let content = capture.framesRead + capture.framesLost
            let start = now - capture.captureDelay() - Double(content) / Double(sampleRate)
            let lostNow = capture.framesLost - lost
            lost = capture.framesLost
            condition.lock()
            // The earliest estimate is the truest: a late wake-up only makes `now` later.
            epoch = min(epoch, start)
            overrunCount = capture.overruns
            queue.append((raw, lostNow))
            queuedFrames += period + lostNow
            condition.signal()
            condition.unlock()
        }
        condition.lock()
        captureEnded = true
        condition.broadcast()
        condition.unlock()
    }

    private func processLoop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping && !captureEnded { condition.wait() }
            if queue.isEmpty || stopping {
                condition.unlock()
                return
            }
            let chunks = queue
            queue.removeAll(keepingCapacity: true)
            condition.unlock()
            for chunk in chunks {
                let t0 = MonotonicClock.now()
                let frames = chunk.samples.withUnsafeBufferPointer { pipeline.process($0, lostBefore: chunk.lostBefore) }
                let spent = MonotonicClock.now() - t0
                let count = chunk.samples.count / channels + chunk.lostBefore
                condition.lock()
                queuedFrames -= count
                if let last = frames.last {
                    newest = last
                    produced += frames.count
                }
                if modelSeconds.count == 64 { modelSeconds.removeFirst(); pushedSeconds.removeFirst() }
                modelSeconds.append(spent)
                pushedSeconds.append(Double(count) / Double(sampleRate))
                condition.broadcast()
                condition.unlock()
            }
        }
    }
}
