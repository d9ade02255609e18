import Foundation
import ParlaIO
import ParlaMedia
import ParlaMotion

/// What the stream thread of `parla live --pcm-*` does with each 10 ms of audio, free of devices and clocks so it
/// can be tested: make the 16 kHz mono copy of the frames (channels averaged, ``StreamingResampler``), push it into
/// a ``StreamingMotionComposer``, and hand back the frames themselves to play (the stream's rate and channels),
/// delayed by the composer's look-ahead plus the resampler's (the first ``delayFrames`` played are silence). So when a
/// sample is heard, the motion frame for its time was composed already: picture and sound meet without the
/// look-ahead showing as lag.
public struct PCMStreamPipeline: Sendable {
    private var composer: StreamingMotionComposer
    private var analysis: StreamingFormatConverter
    private var analysed: [Float] = []
    private var delayLine: [Float]
    /// The stream's rate and channels (of what goes in and what is played).
    public let sampleRate: Int
    public let channels: Int
    /// Frames (at ``sampleRate``) between a frame being composed and being played.
    public let delayFrames: Int

    /// A pipeline composing with `motion` from frames at `sampleRate` Hz with `channels` channels.
    public init(motion: MotionOptions, sampleRate: Int = AudioBuffer.analysisRate, channels: Int = 1) throws {
        composer = try StreamingMotionComposer(options: motion)
        analysis = StreamingFormatConverter(from: sampleRate, channels: channels, to: AudioBuffer.analysisRate, channels: 1)
        self.sampleRate = sampleRate
        self.channels = channels
        let seconds = StreamingMotionComposer.latency(fps: motion.fps) + analysis.lookAheadSeconds
        delayFrames = Int((seconds * Double(sampleRate)).rounded(.up))
        delayLine = [Float](repeating: 0, count: delayFrames * channels)
    }

    /// Seconds between a frame being composed and being played.
    public var delaySeconds: Double { Double(delayFrames) / Double(sampleRate) }

    /// Composes `frames` (interleaved, the stream's next ones; silence for an underrun) and returns the motion frames
    /// completed (times on the stream: 0 is its first frame) and as many frames to play.
    public mutating func step(_ frames: [Float]) -> (frames: [MotionFrame], play: [Float]) {
        analysed.removeAll(keepingCapacity: true)
        frames.withUnsafeBufferPointer { analysis.process($0, appendingTo: &analysed) }
        let composed = composer.push(samples16k: analysed)
        delayLine.append(contentsOf: frames)
        let play = Array(delayLine.prefix(frames.count))
        delayLine.removeFirst(frames.count)
        return (composed, play)
    }
}

/// The stream side of `parla live --pcm-stdin/--pcm-socket/--pcm-fifo`: a thread takes 10 ms of frames at a time
/// from a ``PCMSampleQueue`` (silence when the producer is late: an underrun), composes them
/// (``PCMStreamPipeline``) and plays them on `output` at the stream's rate and channels (converted with
/// ``StreamingFormatConverter`` where the device took others; its blocking writes pace the thread), or paces itself
/// on the monotonic clock without one. The flip loop asks for the frame of what is heard now (``frame(at:)``), so the face
/// keeps idling through underruns and never freezes.
public final class LivePCMStream: @unchecked Sendable {
    // @unchecked: `output`, `pipeline` and `converter` are used only by the stream thread once started; everything
    // shared is behind `lock`.
    private let queue: PCMSampleQueue
    private let output: PCMOutput?
    private var pipeline: PCMStreamPipeline
    private var converter: StreamingFormatConverter?
    private let lock = NSLock()
    private var frames: [MotionFrame] = []
    private var firstFrame = 0
    private var clock: ClockSample?
    private var startTime = Double.nan
    private var stopping = false
    private var started = false
    private var failure: Error?
    private var xruns = 0
    private let finished = DispatchSemaphore(value: 0)

    /// Frames taken at step `step` (0, 1, …): 10 ms each, the steps' boundaries rounded down (22050 Hz: 220, 221, …).
    public static func chunkFrames(step: Int, sampleRate: Int) -> Int {
        (step + 1) * sampleRate / 100 - step * sampleRate / 100
    }
    /// Seconds of composed frames kept for the flip loop.
    static let keepSeconds = 4.0
    /// The motion frame rate.
    public let fps: Double
    /// Seconds between a sample arriving and being heard (the composer's look-ahead).
    public var delaySeconds: Double { pipeline.delaySeconds }

    /// A stream reading `queue`, composing with `motion`, playing on `output` (nil: silent, monotonic clock).
    public init(queue: PCMSampleQueue, motion: MotionOptions, output: PCMOutput?) throws {
        self.queue = queue
        self.output = output
        pipeline = try PCMStreamPipeline(motion: motion, sampleRate: queue.sampleRate, channels: queue.channels)
        fps = motion.fps
        if let output {
            converter = StreamingFormatConverter(from: queue.sampleRate, channels: queue.channels,
                                                 to: output.sampleRate, channels: output.channels)
        }
    }

    deinit { stop() }

    /// Starts the stream thread.
    public func start() {
        lock.lock()
        guard !started else { lock.unlock(); return }
        started = true
        lock.unlock()
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "parla-pcm-live"
        thread.start()
    }

    /// Stops the thread and waits for it (at most one device write).
    public func stop() {
        lock.lock()
        let wasRunning = started && !stopping
        stopping = true
        lock.unlock()
        if wasRunning { finished.wait() }
    }

    /// The error that stopped the thread (a failing sound device), if any.
    public var error: Error? {
        lock.lock(); defer { lock.unlock() }
        return failure
    }

    /// Underruns of the sound device recovered from (the stream running dry is not one: it plays silence).
    public var underruns: Int {
        lock.lock(); defer { lock.unlock() }
        return xruns
    }

    /// Seconds of the stream heard at CLOCK_MONOTONIC `time` (negative before its first sample is heard).
    public func position(at time: Double) -> Double {
        lock.lock(); defer { lock.unlock() }
        return unlockedPosition(at: time)
    }

    private func unlockedPosition(at time: Double) -> Double {
        if let output, let clock {
            return AudioPresentationClock.position(of: clock, sampleRate: output.sampleRate, at: time, assumingFeed: true)
                - pipeline.delaySeconds
        }
        return startTime.isNaN ? -.infinity : time - startTime - pipeline.delaySeconds
    }

    /// The motion frame for what is heard at `time` and its index on the stream (frame n is at n / fps); nil before
    /// the first is composed.
    public func frame(at time: Double) -> (frame: MotionFrame, index: Int)? {
        lock.lock(); defer { lock.unlock() }
        guard !frames.isEmpty else { return nil }
        let wanted = Int((unlockedPosition(at: time) * fps).rounded(.down))
        let index = min(max(wanted, firstFrame), firstFrame + frames.count - 1)
        return (frames[index - firstFrame], index)
    }

    private func run() {
        let chunkSeconds = 0.01
        let keep = Int(Self.keepSeconds * fps)
        var converted = [Float]()
        var interleaved = [Int16]()
        var steps = 0
        let maximumLead = output.map { max(0.25, 2 * Double($0.bufferFrames) / Double($0.sampleRate)) } ?? 0
        let began = MonotonicClock.now()
        lock.lock()
        startTime = began
        lock.unlock()
        while true {
            lock.lock()
            let stop = stopping
            lock.unlock()
            if stop { return }
            // Real devices block long before this; the `null` PCM never does, so pace it like one.
            let lead = Double(steps) * chunkSeconds - (MonotonicClock.now() - began)
            if output == nil || lead > maximumLead {
                let ahead = output == nil ? lead : lead - maximumLead
                if ahead > 0 { usleep(UInt32(min(1, ahead) * 1e6)) }
            }
            let chunk = Self.chunkFrames(step: steps, sampleRate: queue.sampleRate)
            let (composed, play) = pipeline.step(queue.take(chunk * queue.channels))
            steps += 1
            lock.lock()
            frames.append(contentsOf: composed)
            if frames.count > keep {
                firstFrame += frames.count - keep
                frames.removeFirst(frames.count - keep)
            }
            lock.unlock()
            guard let output else { continue }
            converted.removeAll(keepingCapacity: true)
            play.withUnsafeBufferPointer { converter!.process($0, appendingTo: &converted) }
            PCMConversion.int16(converted, into: &interleaved)
            do {
                let result = try interleaved.withUnsafeBufferPointer { try output.write($0) }
                let reading = output.clockSample()
                lock.lock()
                clock = reading
                xruns += result.underruns
                lock.unlock()
            } catch {
                lock.lock()
                failure = error
                lock.unlock()
                return
            }
        }
    }
}
