import CALSA
import Foundation

/// ALSA capture (the microphone side of live mode): negotiates the sample format (``ALSASampleFormat``: 16-bit first,
/// then 32-bit, 24-bit and float, what the hardware offers), rate, channels and ~10 ms periods, reads blocking and
/// hands out floats, recovers from overruns with `snd_pcm_recover` and counts the frames lost to them so the
/// caller's timeline stays true, and reports the capture delay (how long ago the newest frame was recorded).
///
/// Not thread-safe: use it from one thread.
public final class ALSACapture {
    /// The device name it was opened with.
    public let device: String
    /// The rate the device runs at (may differ from the one asked for).
    public var sampleRate: Int { pcm.sampleRate }
    /// Interleaved channels per frame.
    public var channels: Int { pcm.channels }
    /// The sample format the device delivers (converted to floats by ``read(into:)``).
    public var format: ALSASampleFormat { pcm.format }
    /// Frames per period (as negotiated; about `periodMilliseconds`).
    public var periodFrames: Int { pcm.periodFrames }
    /// Frames delivered by ``read(into:)`` since opening.
    public private(set) var framesRead = 0
    /// Overruns recovered from.
    public private(set) var overruns = 0
    /// Frames lost to overruns (estimated from the time since the last successful read), to keep timelines
    /// aligned: a caller can insert this much silence.
    public private(set) var framesLost = 0

    private let pcm: ALSAPCM
    private var lastReadTime: Double?
    /// The device's samples before conversion.
    private var raw: [UInt8] = []

    /// Opens `device` for capture at (about) `sampleRate` with `channels` channels, in the first of `formats` it
    /// takes (all of ``ALSASampleFormat`` by default; one line naming what it offers when none fits).
    public init(device: String = "default", sampleRate: Int, channels: Int = 1, periodMilliseconds: Int = 10,
                periods: Int = 8, formats: [ALSASampleFormat] = ALSASampleFormat.allCases) throws {
        self.device = device
        pcm = try ALSAPCM(device: device, stream: SND_PCM_STREAM_CAPTURE, formats: formats, sampleRate: sampleRate,
                          channels: channels, periodMilliseconds: periodMilliseconds, periods: periods)
    }

    /// Fills `buffer` (interleaved, a whole number of frames) with captured audio as floats in [-1, 1], blocking
    /// until it is full.
    /// - Returns: frames read (always `buffer.count / channels`).
    @discardableResult
    public func read(into buffer: UnsafeMutableBufferPointer<Float>) throws -> Int {
        precondition(buffer.count % channels == 0, "partial frame")
        let total = buffer.count / channels
        let frameBytes = channels * pcm.format.bytes
        if raw.count < total * frameBytes { raw = [UInt8](repeating: 0, count: total * frameBytes) }
        var done = 0
        while done < total {
            let n = raw.withUnsafeMutableBytes {
                snd_pcm_readi(pcm.handle, $0.baseAddress! + done * frameBytes, snd_pcm_uframes_t(total - done))
            }
            if n >= 0 {
                done += n
                if n > 0 { lastReadTime = MonotonicClock.now() }
                continue
            }
            let code = Int32(n)
            if code == -EINTR || code == -EAGAIN { continue }
            if code == -EPIPE {
                overruns += 1
                if let last = lastReadTime {
                    // Everything recorded since the last read is gone: what filled the buffer (recovery discards
                    // it) and what arrived while the device was stopped.
                    framesLost += max(0, Int((MonotonicClock.now() - last) * Double(sampleRate)))
                }
            }
            // Recovery leaves the device prepared; the next read starts it again (start threshold 1).
            try pcm.recover(from: code, call: "snd_pcm_readi")
        }
        raw.withUnsafeBytes { pcm.format.convert($0.baseAddress!, count: total * channels, into: buffer.baseAddress!) }
        framesRead += total
        return total
    }

    /// Seconds between the newest frame returned and now (the frames still waiting in the device buffer).
    public func captureDelay() -> Double {
        Double(max(0, pcm.delay() ?? 0)) / Double(sampleRate)
    }
}
