/// One phoneme's viseme with its time span on the audio timeline (seconds), e.g. from libespeak-ng's
/// phoneme events (sample position / sample rate) or an MBROLA `.pho` file.
public struct VisemeEvent: Sendable, Equatable {
    /// The mouth shape class.
    public var viseme: Viseme
    /// Start in seconds.
    public var start: Double
    /// Length in seconds.
    public var duration: Double

    /// An event of `viseme` from `start` for `duration` seconds.
    public init(_ viseme: Viseme, start: Double, duration: Double) {
        self.viseme = viseme
        self.start = start
        self.duration = duration
    }

    /// End in seconds.
    public var end: Double { start + duration }
}

/// Per-frame viseme posteriors on a 10 ms grid: frame k stands for time k · 10 ms and holds one probability
/// per ``Viseme`` (16 values, summing to 1). VisemeNet produces it from audio; TTS phoneme timing produces it
/// as one-hot frames through ``init(events:duration:)``. ``MotionComposer/frames(for:visemes:)`` consumes it.
public struct VisemeTrack: Sendable, Equatable {
    /// Seconds between frames.
    public static let frameSeconds = 0.01
    /// Classes per frame (``Viseme/allCases``.count).
    public static let classCount = Viseme.allCases.count

    /// Number of frames.
    public let frameCount: Int
    /// Frame-major posteriors: `values[k · classCount + viseme.rawValue]`.
    public private(set) var values: [Float]

    /// `frameCount` frames of pure silence.
    public init(frameCount: Int) {
        self.frameCount = max(0, frameCount)
        values = [Float](repeating: 0, count: self.frameCount * Self.classCount)
        for k in 0..<self.frameCount { values[k * Self.classCount] = 1 }
    }

    /// Frames from frame-major posteriors (`values.count` must be a multiple of 16; rows are used as given).
    public init?(posteriors: [Float]) {
        guard posteriors.count % Self.classCount == 0 else { return nil }
        frameCount = posteriors.count / Self.classCount
        values = posteriors
    }

    /// One-hot frames from timed visemes: frame k takes the viseme of the event that contains k · 10 ms (the
    /// later event where two overlap), silence where none does. `duration` (seconds) sets the length:
    /// `ceil(duration / 10 ms)` frames, at least enough to reach the last event's end.
    public init(events: [VisemeEvent], duration: Double) {
        let end = events.map(\.end).max() ?? 0
        let total = max(duration.isFinite ? duration : 0, end)
        self.init(frameCount: Int((total / Self.frameSeconds - 1e-9).rounded(.up)))
        for event in events.sorted(by: { $0.start < $1.start }) where event.duration > 0 {
            let first = max(0, Int((event.start / Self.frameSeconds - 1e-9).rounded(.up)))
            let last = min(frameCount - 1, Int((event.end / Self.frameSeconds - 1e-9).rounded(.up)) - 1)
            guard first <= last else { continue }
            for k in first...last { self[k] = event.viseme }
        }
    }

    /// Sets frame `k` to a one-hot `viseme`.
    public subscript(frame: Int) -> Viseme {
        get { mostLikely(at: frame) }
        set {
            let base = frame * Self.classCount
            for c in 0..<Self.classCount { values[base + c] = 0 }
            values[base + newValue.rawValue] = 1
        }
    }

    /// Probability of `viseme` at frame `k`.
    public func probability(_ viseme: Viseme, at k: Int) -> Float { values[k * Self.classCount + viseme.rawValue] }

    /// The class with the highest probability at frame `k` (the lower index on ties).
    public func mostLikely(at k: Int) -> Viseme {
        let base = k * Self.classCount
        var best = 0
        for c in 1..<Self.classCount where values[base + c] > values[base + best] { best = c }
        return Viseme(rawValue: best)!
    }

    /// The runs of equal most-likely visemes as events (frame k spanning [k, k+1) · 10 ms).
    public func events() -> [VisemeEvent] {
        var result = [VisemeEvent]()
        var k = 0
        while k < frameCount {
            let v = mostLikely(at: k)
            var j = k + 1
            while j < frameCount, mostLikely(at: j) == v { j += 1 }
            result.append(VisemeEvent(v, start: Double(k) * Self.frameSeconds, duration: Double(j - k) * Self.frameSeconds))
            k = j
        }
        return result
    }
}
