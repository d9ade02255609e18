import Foundation

/// Seeded eye blinks for a clip: when they start and how the lid moves.
///
/// Intervals between blink onsets are `max(1.2 s, Erlang(k = 3, mean 3.4 s))`. At each phrase end (speech →
/// silence) a blink is placed 80–300 ms later with probability 0.7 if that keeps the 1.2 s minimum; the next
/// interval is then drawn from there. One blink in eight is a double blink (a second, 90 % closure starting
/// 0.32–0.42 s after the first); a double blink counts as one event for the minimum interval.
/// Lid shape: 80 ms closing (smoothstep), 40 ms closed, 150 ms opening (smoothstep), same on both eyes.
public struct BlinkSchedule: Sendable, Equatable {
    /// One blink event.
    public struct Blink: Sendable, Equatable {
        /// Onset of the closing movement, in seconds.
        public var start: Double
        /// Whether a second closure follows shortly.
        public var isDouble: Bool
        /// Onset of the second closure of a double blink.
        public var secondStart: Double
    }

    /// Duration of the lid closing.
    public static let closingSeconds = 0.080
    /// Time the lid stays fully closed.
    public static let closedSeconds = 0.040
    /// Duration of the lid opening.
    public static let openingSeconds = 0.150
    /// Shortest time between two blink onsets (a double blink is one event).
    public static let minimumInterval = 1.2
    /// Mean of the Erlang interval distribution before the minimum is applied.
    public static let meanInterval = 3.4
    /// Chance that a phrase end pulls the next blink forward.
    public static let phraseEndProbability = 0.7
    /// Chance that a blink is a double blink.
    public static let doubleBlinkProbability = 0.125

    /// The blink events in time order.
    public let blinks: [Blink]

    /// Blinks over `duration` seconds for `seed`, favouring the moments just after `phraseEnds` (seconds).
    public init(duration: Double, phraseEnds: [Double], seed: UInt64) {
        var rng = MotionRandom(seed: seed, stream: 0xB11C)
        func interval() -> Double { max(Self.minimumInterval, rng.erlang(shape: 3, mean: Self.meanInterval)) }
        var events = [Blink]()
        var last = -Double.infinity
        var next = rng.uniform(0.4...2.5)
        var phraseIndex = 0
        let ends = phraseEnds.sorted()
        while true {
            // A phrase end before the next natural blink may pull the blink forward.
            var chosen = next
            while phraseIndex < ends.count && ends[phraseIndex] < next {
                let candidate = ends[phraseIndex] + rng.uniform(0.08...0.30)
                phraseIndex += 1
                let wanted = rng.unit() < Self.phraseEndProbability
                if wanted && candidate - last >= Self.minimumInterval && candidate < next {
                    chosen = candidate
                    break
                }
            }
            guard chosen < duration else { break }
            let isDouble = rng.unit() < Self.doubleBlinkProbability
            let second = chosen + rng.uniform(0.32...0.42)
            events.append(Blink(start: chosen, isDouble: isDouble, secondStart: isDouble ? second : chosen))
            last = chosen
            next = chosen + interval()
        }
        blinks = events
    }

    /// Lid closure in [0, 1] at `time`. Blinks are at least 1.2 s apart and last under 0.7 s, so only the
    /// latest blink starting at or before `time` can be active; it is found by binary search.
    public func value(at time: Double) -> Float {
        var lo = 0, hi = blinks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if blinks[mid].start <= time { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return 0 }
        let blink = blinks[lo - 1]
        var v = Self.shape(time - blink.start)
        if blink.isDouble { v = max(v, 0.9 * Self.shape(time - blink.secondStart)) }
        return v
    }

    /// Closure `u` seconds after a closing onset.
    static func shape(_ u: Double) -> Float {
        if u <= 0 { return 0 }
        if u < closingSeconds { return Float(SignalTools.smoothstep(u / closingSeconds)) }
        let opening = u - closingSeconds - closedSeconds
        if opening <= 0 { return 1 }
        if opening < openingSeconds { return Float(1 - SignalTools.smoothstep(opening / openingSeconds)) }
        return 0
    }
}
