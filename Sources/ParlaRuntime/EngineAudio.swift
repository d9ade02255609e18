import Foundation
import ParlaIO
import ParlaMedia

/// The sound of a ``FaceEngine``: utterances are appended to a sample queue that a thread of its own feeds to an
/// ALSA device one period at a time, silence whenever nothing is queued (so the device never starves between
/// utterances). The engine starts an utterance's pictures ``latency`` after queueing its sound, which is when the
/// first sample will be heard.
public final class EngineAudio: @unchecked Sendable {
    private let output: PCMOutput
    private let queue: PCMSampleQueue
    private let lock = NSLock()
    private var stopping = false
    private var delayFrames = 0
    private var xruns = 0
    private var failure: Error?
    private let finished = DispatchSemaphore(value: 0)

    /// The device rate (utterances are resampled to it).
    public var sampleRate: Int { output.sampleRate }

    /// Opens `device` (ALSA name; "null" plays nowhere at real pace) and starts feeding it.
    public init(device: String) throws {
        output = try ALSAPlayback(device: device, sampleRate: AudioBuffer.analysisRate, channels: 1)
        queue = PCMSampleQueue(capacity: 30 * 60 * output.sampleRate)
        let thread = Thread { [self] in feed(); finished.signal() }
        thread.name = "parla-engine-audio"
        thread.start()
    }

    /// Queues `audio` (any rate) after what is queued.
    public func play(_ audio: AudioBuffer) {
        let atRate = audio.sampleRate == output.sampleRate ? audio : Resampler.resample(audio, to: output.sampleRate)
        queue.write(atRate.samples)
    }

    /// Drops what is queued (barge-in); what the device already holds (≤ its buffer) still plays.
    public func clear() { queue.clear() }

    /// Seconds until a sample queued now is heard.
    public var latency: Double {
        lock.lock(); defer { lock.unlock() }
        return Double(queue.available + delayFrames) / Double(output.sampleRate)
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
            let samples = queue.available > 0 ? queue.take(output.periodFrames) : [Float](repeating: 0, count: output.periodFrames)
            for (i, s) in samples.enumerated() {
                let v = PCMConversion.int16(s)
                for c in 0..<channels { period[i * channels + c] = v }
            }
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
