/// Maps the audio clock to the motion frame to show, live.
///
/// Frames are composed up front for the clip followed by a tail of silence (so the face eases from speech into
/// idle motion without a jump). While the clip plays, the frame due at the clock is shown. With `loop`, the
/// clock wraps at the clip's end (the sound loops with it). Without, after the composed tail the idle part of it
/// plays back and forth (ping-pong), so the face keeps moving smoothly for as long as the program runs.
public struct LiveTimeline: Sendable, Equatable {
    /// Motion frames per second.
    public let fps: Double
    /// The clip's duration in seconds.
    public let clipDuration: Double
    /// Frames covering the clip (the first `speechFrames` of the composed frames).
    public let speechFrames: Int
    /// All composed frames: clip plus silent tail.
    public let totalFrames: Int
    /// First frame of the idle stretch that ping-pongs once the tail is used up.
    public let idleStart: Int
    /// Whether the clip repeats (else the face idles after it).
    public let loop: Bool

    /// A timeline; `totalFrames ≥ speechFrames ≥ 1` and `idleStart < totalFrames`.
    public init(fps: Double, clipDuration: Double, speechFrames: Int, totalFrames: Int, idleStart: Int, loop: Bool) {
        precondition(fps > 0 && speechFrames >= 1 && totalFrames >= speechFrames && (0..<totalFrames).contains(idleStart),
                     "inconsistent live timeline")
        self.fps = fps
        self.clipDuration = clipDuration
        self.speechFrames = speechFrames
        self.totalFrames = totalFrames
        self.idleStart = idleStart
        self.loop = loop
    }

    /// The content tick at clock `position` seconds: the frame slot due, `floor(position · fps)` (frame n is due at
    /// n / fps and stays until the next is due), counted from the start without wrapping (two positions give the
    /// same picture exactly when their ticks match).
    public func tick(at position: Double) -> Int {
        let p = max(0, position)
        guard loop else { return Int((p * fps).rounded(.down)) }
        let laps = (p / clipDuration).rounded(.down)
        let within = p - laps * clipDuration
        return Int(laps) * speechFrames + min(speechFrames - 1, Int((within * fps).rounded(.down)))
    }

    /// The composed frame shown for `tick`.
    public func frameIndex(forTick tick: Int) -> Int {
        if loop { return tick % speechFrames }
        if tick < totalFrames { return tick }
        // Ping-pong over idleStart ..< totalFrames.
        let span = totalFrames - idleStart
        guard span > 1 else { return idleStart }
        let period = 2 * (span - 1)
        let k = (tick - idleStart) % period
        return idleStart + (k < span ? k : period - k)
    }

    /// Seconds on the clip timeline that `tick` stands for (its frame's time; beyond the clip, time since start).
    public func time(ofTick tick: Int) -> Double {
        guard loop else { return Double(tick) / fps }
        let lap = tick / speechFrames
        return Double(lap) * clipDuration + Double(tick % speechFrames) / fps
    }

    /// Whether `tick` is still inside the clip (speech) rather than the idle tail.
    public func isSpeech(tick: Int) -> Bool { loop || tick < speechFrames }
}

/// How long a picture takes from the moment its frame is chosen to the vblank it appears at (decode, copy into
/// the buffer, flip, waiting for the vblank): the median of the last ``window`` measurements, so the frame can be
/// chosen for the moment it will be seen. Without this a slow decoder shows every picture late by its own
/// duration; the median (rather than a mean) keeps one stalled frame from making the next ones early.
public struct PresentationLatency: Sendable, Equatable {
    /// How many recent pictures the estimate looks at.
    public static let window = 8
    /// The current estimate, seconds.
    public private(set) var expected: Double
    private var recent: [Double] = []
    private var next = 0

    /// Starts from `initial` seconds (a refresh period is a fair guess) until the first flip is measured.
    public init(initial: Double) {
        expected = max(0, initial)
        recent.reserveCapacity(Self.window)
    }

    /// Records one picture: chosen at `decidedAt`, on screen from `shownAt` (CLOCK_MONOTONIC seconds).
    public mutating func record(decidedAt: Double, shownAt: Double) {
        let measured = max(0, shownAt - decidedAt)
        if recent.count < Self.window {
            recent.append(measured)
        } else {
            recent[next] = measured
        }
        next = (next + 1) % Self.window
        // Median without allocating: at most `window` values, counted in place.
        var best = recent[0]
        for candidate in recent {
            var below = 0, equal = 0
            for v in recent {
                if v < candidate { below += 1 } else if v == candidate { equal += 1 }
            }
            let rank = (recent.count - 1) / 2   // lower median
            if below <= rank && rank < below + equal { best = candidate; break }
        }
        expected = best
    }

    /// When a picture whose frame is chosen at `now` will be on screen.
    public func presentationTime(decidingAt now: Double) -> Double { now + expected }
}
