import CALSA
import Foundation

/// ALSA playback of 16-bit PCM: negotiates rate, channels and ~10 ms periods, writes blocking, recovers from
/// underruns with `snd_pcm_recover`, and reads `snd_pcm_delay` for the presentation clock.
///
/// Not thread-safe: one thread writes and samples the clock (``AudioPlaybackStream`` does that).
public final class ALSAPlayback: PCMOutput {
    /// The device name it was opened with ("default", "hw:1,0", "plughw:CARD=Loopback,DEV=0", …).
    public let device: String
    /// The rate the device runs at (may differ from the one asked for).
    public var sampleRate: Int { pcm.sampleRate }
    /// Interleaved channels per frame.
    public var channels: Int { pcm.channels }
    /// Frames per period (~10 ms).
    public var periodFrames: Int { pcm.periodFrames }
    public var bufferFrames: Int { pcm.bufferFrames }
    /// Frames written since opening.
    public private(set) var framesWritten = 0
    /// Underruns recovered from since opening.
    public private(set) var underruns = 0

    private let pcm: ALSAPCM
    /// Recoveries allowed without a successful write in between before the device counts as gone.
    static let maximumRecoveries = 4

    /// Opens `device` for playback.
    /// - Parameters:
    ///   - sampleRate: the rate wanted (the clip's); the device may pick the nearest it supports — check
    ///     ``sampleRate`` and resample if it differs.
    ///   - channels: channels wanted; the device may insist on another count (check ``channels``).
    ///   - periodMilliseconds: period length asked for; `periods` periods make the buffer (200 ms by default: the
    ///     clock subtracts the delay, so a deep buffer costs no sync and rides out scheduling hiccups).
    public init(device: String = "default", sampleRate: Int, channels: Int = 1, periodMilliseconds: Int = 10,
                periods: Int = 20) throws {
        self.device = device
        pcm = try ALSAPCM(device: device, stream: SND_PCM_STREAM_PLAYBACK, sampleRate: sampleRate, channels: channels,
                          periodMilliseconds: periodMilliseconds, periods: periods)
    }

    /// Writes every frame, blocking while the device is full; an underrun (or a stream restart after an I/O error)
    /// is recovered from and counted; repeated failures without progress throw.
    public func write(_ frames: UnsafeBufferPointer<Int16>) throws -> PCMWriteResult {
        precondition(frames.count % channels == 0, "partial frame")
        let total = frames.count / channels
        var done = 0, recovered = 0, failuresInARow = 0
        while done < total {
            let n = snd_pcm_writei(pcm.handle, frames.baseAddress! + done * channels, snd_pcm_uframes_t(total - done))
            if n >= 0 {
                done += n
                failuresInARow = 0
                continue
            }
            let code = Int32(n)
            if code == -EINTR || code == -EAGAIN { continue }
            failuresInARow += 1
            guard failuresInARow <= Self.maximumRecoveries else {
                throw AudioDeviceError("ALSA device '\(device)': snd_pcm_writei: \(String(cString: snd_strerror(code))) (errno \(-code)), \(failuresInARow) times in a row", errno: -code)
            }
            try pcm.recover(from: code, call: "snd_pcm_writei")
            recovered += 1
        }
        framesWritten += total
        underruns += recovered
        return PCMWriteResult(frames: total, underruns: recovered)
    }

    /// Frames written, `snd_pcm_delay` and whether the device runs, read now.
    public func clockSample() -> ClockSample {
        let running = pcm.isRunning
        let delay = pcm.delay() ?? 0
        return ClockSample(framesWritten: framesWritten, delayFrames: running ? delay : min(delay, framesWritten),
                           time: MonotonicClock.now(), running: running)
    }

    /// Plays out what is queued, then stops.
    public func drain() {
        snd_pcm_drain(pcm.handle)
    }

    /// Stops at once, dropping what is queued.
    public func drop() {
        snd_pcm_drop(pcm.handle)
    }
}
