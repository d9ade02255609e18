import Foundation

/// Which hops of a clip are speech, from the per-hop level alone.
///
/// The floor is the 10th percentile of the clip's hop levels (but never more than 50 dB below the speech level,
/// so digital silence does not make every breath count); the speech level is the 95th percentile of the hops at
/// least 6 dB above that floor. With range R = speech − floor, a hop switches to speech at floor + 0.4·R and
/// back to silence below floor + 0.25·R (hysteresis). Gaps shorter than 180 ms are bridged, then segments
/// shorter than 60 ms are dropped. A clip whose range is under 10 dB, or whose speech level is under −65 dBFS,
/// has no speech at all (steady noise, digital silence) — unless it is loud (≥ −35 dBFS) and mostly voiced
/// (≥ 50 % of hops periodic): then it is speech without pauses (a trimmed sustained vowel), and the floor is
/// taken as 30 dB below its speech level.
public struct SpeechActivity: Sendable, Equatable {
    /// Tuning of the detector (the values above).
    public struct Parameters: Sendable, Equatable {
        /// Quantile of hop levels taken as the floor.
        public var floorPercentile: Float = 0.10
        /// Quantile of active hop levels taken as the speech level.
        public var speechPercentile: Float = 0.95
        /// The floor is never more than this below the speech level.
        public var maximumRangeDB: Float = 50
        /// Below this speech-to-floor range the clip has no speech.
        public var minimumRangeDB: Float = 10
        /// A speech level below this means no speech.
        public var absoluteFloorDB: Float = -65
        /// Switch-on threshold as a fraction of the range above the floor.
        public var onFraction: Float = 0.40
        /// Switch-off threshold as a fraction of the range above the floor.
        public var offFraction: Float = 0.25
        /// Shorter gaps (seconds) are bridged.
        public var minimumSilence: Double = 0.18
        /// Shorter segments (seconds) are dropped.
        public var minimumSpeech: Double = 0.06
        /// Minimum level of a pause-free voiced clip.
        public var continuousSpeechLevelDB: Float = -35
        /// Minimum voiced fraction of a pause-free voiced clip.
        public var continuousVoicedFraction: Float = 0.5
        /// Assumed range of a pause-free voiced clip.
        public var continuousRangeDB: Float = 30
        /// The defaults.
        public init() {}
    }

    /// The effective floor level in dBFS.
    public let floorDB: Float
    /// The typical loud-speech level in dBFS.
    public let speechLevelDB: Float
    /// One flag per hop.
    public let isSpeech: [Bool]
    /// Maximal runs of speech hops, in order.
    public let segments: [Range<Int>]

    /// Detects speech in a track of hop levels (dBFS) spaced `hopSeconds` apart; `voiced` (one flag per hop,
    /// optional) lets a loud, pause-free voiced clip count as speech.
    public init(levels: [Float], voiced: [Bool]? = nil, hopSeconds: Double, parameters p: Parameters = Parameters()) {
        let rawFloor = SignalTools.percentile(levels, p.floorPercentile, fallback: -120)
        let active = levels.filter { $0 > rawFloor + 6 }
        let speech = SignalTools.percentile(active.isEmpty ? levels : active, p.speechPercentile, fallback: rawFloor)
        var floor = max(rawFloor, speech - p.maximumRangeDB)
        if speech - floor < p.minimumRangeDB, speech >= p.continuousSpeechLevelDB, let voiced, !voiced.isEmpty {
            let fraction = Float(voiced.filter { $0 }.count) / Float(voiced.count)
            if fraction >= p.continuousVoicedFraction { floor = speech - p.continuousRangeDB }
        }
        floorDB = floor
        speechLevelDB = speech
        let range = speech - floor
        var flags = [Bool](repeating: false, count: levels.count)
        if range >= p.minimumRangeDB && speech >= p.absoluteFloorDB {
            let on = floor + p.onFraction * range
            let off = floor + p.offFraction * range
            var inSpeech = false
            for k in levels.indices {
                if inSpeech { inSpeech = levels[k] >= off } else { inSpeech = levels[k] >= on }
                flags[k] = inSpeech
            }
            Self.bridgeGaps(&flags, shorterThan: Int((p.minimumSilence / hopSeconds).rounded()))
            Self.dropRuns(&flags, shorterThan: Int((p.minimumSpeech / hopSeconds).rounded()))
        }
        isSpeech = flags
        segments = Self.runs(flags)
    }

    static func runs(_ flags: [Bool]) -> [Range<Int>] {
        var result = [Range<Int>]()
        var start: Int?
        for (k, f) in flags.enumerated() {
            if f, start == nil { start = k }
            if !f, let s = start { result.append(s..<k); start = nil }
        }
        if let s = start { result.append(s..<flags.count) }
        return result
    }

    private static func bridgeGaps(_ flags: inout [Bool], shorterThan minimum: Int) {
        let speech = runs(flags)
        for (a, b) in zip(speech, speech.dropFirst()) where b.lowerBound - a.upperBound < minimum {
            for k in a.upperBound..<b.lowerBound { flags[k] = true }
        }
    }

    private static func dropRuns(_ flags: inout [Bool], shorterThan minimum: Int) {
        for run in runs(flags) where run.count < minimum {
            for k in run { flags[k] = false }
        }
    }
}
