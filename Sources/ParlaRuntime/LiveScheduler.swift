/// The decisions of the live flip loop, free of devices and clocks so they can be tested: which frame to draw
/// next (the one due when the picture will appear), when to wait instead, how many frames were skipped, and the
/// A/V offset of each picture once its flip landed.
public struct LiveScheduler: Sendable {
    /// What to do at this turn of the loop.
    public enum Step: Sendable, Equatable {
        /// Draw composed frame `frame` (content tick `tick`); `skipped` ticks passed since the last picture.
        case show(tick: Int, frame: Int, skipped: Int)
        /// The frame due is already on screen: ask again at this time.
        case wait(until: Double)
    }

    /// What a landed flip showed.
    public struct Landed: Sendable, Equatable {
        /// The content tick of the picture.
        public var tick: Int
        /// When it appeared (the flip event's time).
        public var time: Double
        /// The audio position at that time.
        public var heard: Double
        /// Picture time minus audio position, seconds (positive: picture early).
        public var offset: Double
    }

    /// The mapping from clock positions to frames.
    public let timeline: LiveTimeline
    /// How long a picture takes from being chosen to appearing.
    public private(set) var latency: PresentationLatency
    /// The tick on screen (or on its way there); -1 before the first.
    public private(set) var shownTick = -1
    private var pending: (tick: Int, decidedAt: Double)?

    /// A scheduler for `timeline`, guessing `refreshPeriod` of latency until the first flip is measured.
    public init(timeline: LiveTimeline, refreshPeriod: Double) {
        self.timeline = timeline
        latency = PresentationLatency(initial: refreshPeriod)
    }

    /// Tells the scheduler the picture chosen last appeared at `time`; returns what it showed and its A/V offset,
    /// or nil when no picture was pending.
    /// - Parameter heard: the audio position at `time` (measured, not predicted).
    public mutating func flipLanded(at time: Double, heard: Double) -> Landed? {
        guard let p = pending else { return nil }
        pending = nil
        latency.record(decidedAt: p.decidedAt, shownAt: time)
        return Landed(tick: p.tick, time: time, heard: heard, offset: timeline.time(ofTick: p.tick) - heard)
    }

    /// Forgets the picture chosen last: it never reached the screen (its flip failed, or the panel was unplugged).
    /// The next step then chooses again even if the same tick is due.
    public mutating func discardPending() {
        if pending != nil { shownTick = -1 }
        pending = nil
    }

    /// The next step at time `now`.
    /// - Parameters:
    ///   - predictedPosition: the audio position expected at a (future) time.
    ///   - refreshPeriod: the display's frame period (bounds the wait).
    public mutating func next(now: Double, refreshPeriod: Double, predictedPosition: (Double) -> Double) -> Step {
        let tick = timeline.tick(at: predictedPosition(latency.presentationTime(decidingAt: now)))
        if tick == shownTick {
            return .wait(until: now + min(refreshPeriod, 0.5 / timeline.fps))
        }
        let skipped = shownTick < 0 ? 0 : max(0, tick - shownTick - 1)
        shownTick = tick
        pending = (tick, now)
        return .show(tick: tick, frame: timeline.frameIndex(forTick: tick), skipped: skipped)
    }
}
