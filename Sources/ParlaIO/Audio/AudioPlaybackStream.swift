import Foundation
import ParlaMedia

/// Which samples a playback stream writes next: the clip from the start, again when looping, then silence
/// forever (so the clock keeps running while the face idles). Pure bookkeeping, testable without a device.
public struct PlaybackFeeder: Sendable {
    /// The clip as interleaved 16-bit frames at the device's rate and channel count.
    public let clip: [Int16]
    /// Samples per frame.
    public let channels: Int
    /// Whether the clip repeats (else silence follows it).
    public let loop: Bool
    /// Content frames produced so far (clip, repeats and silence).
    public private(set) var framesProduced = 0

    /// A feeder for `clip` (interleaved frames of `channels` samples).
    public init(clip: [Int16], channels: Int = 1, loop: Bool) {
        precondition(channels > 0 && clip.count % channels == 0, "partial frame")
        self.clip = clip
        self.channels = channels
        self.loop = loop
    }

    /// Fills `out` with the next `out.count / channels` frames.
    public mutating func fill(_ out: UnsafeMutableBufferPointer<Int16>) {
        let frames = out.count / channels
        let clipFrames = clip.count / channels
        for i in 0..<frames {
            let n = framesProduced + i
            let source: Int?
            if clipFrames == 0 { source = nil } else if loop { source = n % clipFrames } else { source = n < clipFrames ? n : nil }
            for c in 0..<channels { out[i * channels + c] = source.map { clip[$0 * channels + c] } ?? 0 }
        }
        framesProduced += frames
    }
}

/// Plays a clip on a ``PCMOutput`` from a thread of its own, one period per write, and publishes the audio
/// presentation clock after each write (``position(at:)``). Loops the clip or continues with silence.
public final class AudioPlaybackStream: @unchecked Sendable {
    // @unchecked: `output` and `feeder` are touched only by the feeding thread once started; everything shared
    // with other threads is behind `lock`.
    private let output: PCMOutput
    private var feeder: PlaybackFeeder
    private let lock = NSLock()
    private var sample: ClockSample
    private var stopping = false
    private var failure: Error?
    private var underrunCount = 0
    private let finished = DispatchSemaphore(value: 0)
    private var started = false

    /// The device rate.
    public let sampleRate: Int
    /// The clip's length in seconds.
    public let clipDuration: Double

    /// Prepares playback of `audio` on `output`: its own rate and channels where the device took them, else
    /// resampled to the device's rate (zero phase, so the clock is unchanged) and mapped to its channels.
    public init(output: PCMOutput, audio: InterleavedAudio, loop: Bool) {
        self.output = output
        sampleRate = output.sampleRate
        let played = audio.converted(toRate: output.sampleRate, channels: output.channels)
        feeder = PlaybackFeeder(clip: played.samples.map(PCMConversion.int16), channels: output.channels, loop: loop)
        clipDuration = audio.duration
        sample = ClockSample(framesWritten: 0, delayFrames: 0, time: MonotonicClock.now(), running: false)
    }

    /// Starts the feeding thread.
    public func start() {
        lock.lock()
        precondition(!started, "started twice")
        started = true
        lock.unlock()
        let thread = Thread { [self] in
            feed()
            finished.signal()
        }
        thread.name = "parla-audio"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    /// Stops feeding (after the current period) and waits for the thread; what is queued is dropped by the caller
    /// closing the device.
    public func stop() {
        lock.lock()
        let wasStarted = started
        stopping = true
        lock.unlock()
        if wasStarted { finished.wait() }
    }

    /// Seconds of content heard at CLOCK_MONOTONIC time `now`; with `predicting`, for a moment ahead, assuming the
    /// stream keeps playing (see ``AudioPresentationClock/position(of:sampleRate:at:assumingFeed:)``).
    public func position(at now: Double, predicting: Bool = false) -> Double {
        lock.lock(); defer { lock.unlock() }
        return AudioPresentationClock.position(of: sample, sampleRate: sampleRate, at: now, assumingFeed: predicting)
    }

    /// The latest clock reading.
    public var latestSample: ClockSample {
        lock.lock(); defer { lock.unlock() }
        return sample
    }

    /// Underruns recovered from so far.
    public var underruns: Int {
        lock.lock(); defer { lock.unlock() }
        return underrunCount
    }

    /// The error that stopped the feeding thread, if any.
    public var error: Error? {
        lock.lock(); defer { lock.unlock() }
        return failure
    }

    private func feed() {
        Self.raisePriority()
        let channels = output.channels
        var period = [Int16](repeating: 0, count: output.periodFrames * channels)
        // A device that never blocks (the `null` PCM) would let this loop spin: stay at most this far ahead of
        // the wall clock (real devices block long before).
        let maximumLead = max(0.25, 2 * Double(output.bufferFrames) / Double(sampleRate))
        var start: Double?
        while true {
            lock.lock()
            let stop = stopping
            lock.unlock()
            if stop { return }
            do {
                let now = MonotonicClock.now()
                let lead = Double(feeder.framesProduced) / Double(sampleRate) - (now - (start ?? now))
                if lead > maximumLead { usleep(UInt32(min(1, lead - maximumLead) * 1e6)) }
                if start == nil { start = now }
                period.withUnsafeMutableBufferPointer { feeder.fill($0) }
                let result = try period.withUnsafeBufferPointer { try output.write($0) }
                let reading = output.clockSample()
                lock.lock()
                sample = reading
                underrunCount += result.underruns
                lock.unlock()
            } catch {
                lock.lock()
                failure = error
                lock.unlock()
                return
            }
        }
    }

    /// Asks for real-time scheduling (SCHED_FIFO, priority 10) so decoding on the other cores, or on the same one,
    /// cannot starve the device; quietly keeps normal scheduling when not allowed (no CAP_SYS_NICE / rtprio limit).
    private static func raisePriority() {
        var parameters = sched_param()
        parameters.sched_priority = 10
        _ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters)
    }
}
