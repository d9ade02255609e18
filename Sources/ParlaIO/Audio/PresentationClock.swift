import Foundation

/// CLOCK_MONOTONIC in seconds: the time base of DRM page-flip events and of the audio clock samples.
public enum MonotonicClock {
    /// Seconds since an arbitrary fixed point (boot).
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// One reading of a playback stream: how much audio was handed to the device, how much of that had not been
/// heard yet (`snd_pcm_delay`), and when.
public struct ClockSample: Sendable, Equatable {
    /// Frames written to the device since the stream started (content frames: silence after the clip counts).
    public var framesWritten: Int
    /// Frames written but not yet heard (the device queue plus its fixed latency).
    public var delayFrames: Int
    /// CLOCK_MONOTONIC seconds when the delay was read.
    public var time: Double
    /// Whether the device was playing at that moment (false before the start threshold and during an underrun).
    public var running: Bool

    /// A sample.
    public init(framesWritten: Int, delayFrames: Int, time: Double, running: Bool) {
        self.framesWritten = framesWritten
        self.delayFrames = delayFrames
        self.time = time
        self.running = running
    }
}

/// The audio presentation clock: the position in the written audio that the listener hears at a given moment.
///
/// Position = (frames written − delay) / rate at the sample's time, moved by the time since (or before) the
/// sample while the device runs, never below 0 and never beyond what was written (during an underrun nothing plays, so the clock holds). Because it
/// counts content frames rather than wall time, a recovered underrun delays sound and picture together: they
/// stay in sync, both late.
public enum AudioPresentationClock {
    /// Seconds of content heard at CLOCK_MONOTONIC time `now`.
    /// - Parameter assumingFeed: for a moment in the future: assume the writer keeps feeding, so a running device
    ///   keeps playing past what has been written so far (no limit at the written frames). For measuring, leave it
    ///   false.
    public static func position(of sample: ClockSample, sampleRate: Int, at now: Double, assumingFeed: Bool = false) -> Double {
        let rate = Double(sampleRate)
        let heard = Double(max(0, sample.framesWritten - max(0, sample.delayFrames))) / rate
        let advanced = sample.running ? heard + (now - sample.time) : heard
        let limit = assumingFeed && sample.running ? Double.infinity : Double(sample.framesWritten) / rate
        return min(max(0, advanced), limit)
    }
}
