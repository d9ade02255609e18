import Foundation

/// Live-mode counters: presented and dropped frames, per-frame work time, audio/video offset, audio
/// underruns; one line per second with `--stats` and a summary at the end.
public struct LiveStats: Sendable {
    /// Frames put on screen.
    public private(set) var presented = 0
    /// Content ticks that passed without their frame being shown (the picture fell behind).
    public private(set) var dropped = 0
    /// Decode + scale + copy time per presented frame, seconds.
    public private(set) var frameTimes: [Double] = []
    /// Picture time minus audio time at the vblank each frame appeared at, seconds (positive: picture early).
    public private(set) var offsets: [Double] = []
    /// Underruns reported by the audio stream.
    public var underruns = 0
    private var windowStart: Double
    private var windowPresented = 0
    private var windowDropped = 0
    private var windowFrameTime = 0.0
    private var windowMaxFrameTime = 0.0
    private var windowOffsets: [Double] = []
    private let start: Double

    /// Counters starting at CLOCK_MONOTONIC time `start`.
    public init(start: Double) {
        self.start = start
        windowStart = start
        frameTimes.reserveCapacity(1 << 16)
        offsets.reserveCapacity(1 << 16)
        windowOffsets.reserveCapacity(256)
    }

    /// Records one presented frame: its work time and how many ticks were skipped before it.
    public mutating func recordFrame(workSeconds: Double, skippedTicks: Int) {
        presented += 1
        dropped += max(0, skippedTicks)
        windowPresented += 1
        windowDropped += max(0, skippedTicks)
        windowFrameTime += workSeconds
        windowMaxFrameTime = max(windowMaxFrameTime, workSeconds)
        if frameTimes.count < 1 << 20 { frameTimes.append(workSeconds) }
    }

    /// Records the audio/video offset measured when a frame reached the screen.
    public mutating func recordOffset(_ seconds: Double) {
        if offsets.count < 1 << 20 { offsets.append(seconds) }
        windowOffsets.append(seconds)
    }

    /// The per-second line if at least a second passed since the last one (then starts a new window).
    public mutating func secondLine(at now: Double) -> String? {
        let span = now - windowStart
        guard span >= 1 else { return nil }
        let fps = Double(windowPresented) / span
        let mean = windowPresented > 0 ? windowFrameTime / Double(windowPresented) : 0
        let av = windowOffsets.isEmpty ? 0 : windowOffsets.reduce(0, +) / Double(windowOffsets.count)
        let avMax = windowOffsets.map(abs).max() ?? 0
        let line = String(format: "live: %5.1f fps, frame %5.1f ms (max %5.1f), dropped %d, a/v %+4.0f ms (max |%.0f|), underruns %d",
                          fps, mean * 1000, windowMaxFrameTime * 1000, windowDropped, av * 1000, avMax * 1000, underruns)
        windowStart = now
        windowPresented = 0
        windowDropped = 0
        windowFrameTime = 0
        windowMaxFrameTime = 0
        windowOffsets.removeAll(keepingCapacity: true)
        return line
    }

    /// The end-of-run summary.
    public func summary(at now: Double) -> String {
        let seconds = max(1e-9, now - start)
        let sorted = frameTimes.sorted()
        func pct(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))] }
        let meanOffset = offsets.isEmpty ? 0 : offsets.reduce(0, +) / Double(offsets.count)
        let maxOffset = offsets.map(abs).max() ?? 0
        return String(format: "live summary: %d frames in %.1f s (%.1f fps), frame time median %.1f ms, p95 %.1f ms, max %.1f ms, dropped %d, a/v mean %+.0f ms, max |%.0f| ms, audio underruns %d",
                      presented, seconds, Double(presented) / seconds, pct(0.5) * 1000, pct(0.95) * 1000,
                      (sorted.last ?? 0) * 1000, dropped, meanOffset * 1000, maxOffset * 1000, underruns)
    }
}
