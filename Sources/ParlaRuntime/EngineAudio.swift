import Foundation
import ParlaIO
import ParlaMedia

/// The sound of a ``FaceEngine``: utterances are appended to a frame queue that a thread of its own feeds to an
/// ALSA device one period at a time, silence whenever nothing is queued (so the device never starves between
/// utterances). The device is opened once for every source, at ``preferredRate`` with ``preferredChannels`` (or what
/// it takes instead); what is played is converted to that from the source's own rate and channels, never from the
/// 16 kHz mono analysis copy. The engine starts an utterance's pictures ``latency`` after queueing its sound, which
/// is when the first sample will be heard.
public final class EngineAudio: @unchecked Sendable {
    private let output: PCMOutput
    private let queue: PCMSampleQueue
    private let lock = NSLock()
    private var stopping = false
    private var delayFrames = 0
    private var xruns = 0
    private var failure: Error?
    private let finished = DispatchSemaphore(value: 0)
    /// The conversion of the PCM stream's chunks (kept between chunks: the resampler needs the history).
    private var streamConverter: StreamingFormatConverter?

    /// The rate and channels asked of the device: 48 kHz stereo, what HDMI and most codecs run at natively.
    public static let preferredRate = 48_000
    public static let preferredChannels = 2

    /// The device rate (utterances are resampled to it).
    public var sampleRate: Int { output.sampleRate }
    /// The device's channels.
    public var channels: Int { output.channels }

    /// Opens `device` (ALSA name; "null" plays nowhere at real pace) and starts feeding it.
    public init(device: String, sampleRate: Int = EngineAudio.preferredRate, channels: Int = EngineAudio.preferredChannels) throws {
        output = try ALSAPlayback(device: device, sampleRate: sampleRate, channels: channels)
        queue = PCMSampleQueue(capacity: 30 * 60 * output.sampleRate * output.channels, sampleRate: output.sampleRate,
                               channels: output.channels)
        let thread = Thread { [self] in feed(); finished.signal() }
        thread.name = "parla-engine-audio"
        thread.start()
    }

    /// Queues `sound` (any rate and channels: converted to the device's) after what is queued.
    public func play(_ sound: InterleavedAudio) {
        queue.write(sound.converted(toRate: output.sampleRate, channels: output.channels).samples)
    }

    /// Queues the next interleaved `frames` of a stream at `sampleRate` Hz with `channels` channels, converted
    /// continuously from chunk to chunk (a stream of another format starts a new conversion).
    public func playStream(_ frames: [Float], sampleRate: Int, channels: Int) {
        lock.lock()
        if streamConverter?.inputRate != sampleRate || streamConverter?.inputChannels != channels {
            streamConverter = StreamingFormatConverter(from: sampleRate, channels: channels, to: output.sampleRate,
                                                       channels: output.channels)
        }
        let converted = streamConverter!.process(frames)
        lock.unlock()
        queue.write(converted)
    }

    /// Drops what is queued (barge-in); what the device already holds (≤ its buffer) still plays.
    public func clear() { queue.clear() }

    /// Seconds until a sample queued now is heard.
    public var latency: Double {
        lock.lock(); defer { lock.unlock() }
        return Double(queue.available / output.channels + delayFrames) / Double(output.sampleRate)
    }

    /// Underruns of the device so far.
    public var underruns: Int {
        lock.lock(); defer { lock.unlock() }
        return xruns
    }

    /// The error that stopped feeding, if any.
    public var error: Error? {
        lock.lock(); defer { lock.unlock() }
        return failure
    }

    /// Stops the feeding thread.
    public func stop() {
        lock.lock(); stopping = true; lock.unlock()
        queue.close()
        finished.wait()
    }

    private func feed() {
        let channels = output.channels
        var period = [Int16](repeating: 0, count: output.periodFrames * channels)
        // A device that never blocks (the `null` PCM) would let this loop spin: stay at most this far ahead of the
        // wall clock (real devices block long before).
        let rate = Double(output.sampleRate)
        let maximumLead = max(0.25, 2 * Double(output.bufferFrames) / rate)
        let start = MonotonicClock.now()
        var written = 0
        while true {
            let lead = Double(written) / rate - (MonotonicClock.now() - start)
            if lead > maximumLead { usleep(UInt32(min(1, lead - maximumLead) * 1e6)) }
            lock.lock()
            let stop = stopping
            lock.unlock()
            if stop { return }
            let count = output.periodFrames * channels
            let samples = queue.available > 0 ? queue.take(count) : [Float](repeating: 0, count: count)
            PCMConversion.int16(samples, into: &period)
            do {
                let result = try period.withUnsafeBufferPointer { try output.write($0) }
                written += output.periodFrames
                let clock = output.clockSample()
                lock.lock()
                xruns += result.underruns
                delayFrames = clock.delayFrames
                lock.unlock()
            } catch {
                lock.lock(); failure = error; lock.unlock()
                return
            }
        }
    }
}
