import Foundation

/// Speech-driven and idle head motion plus brow lifts for a clip, seeded and smooth.
///
/// Pitch (degrees, before limiting): nods `2.0·s·a·bump((t − t_s + 0.10)/0.45)` at stressed syllables
/// (strength s, seeded factor a ∈ [0.7, 1.2]), a slow sum of three seeded sines, and breathing at ~0.25 Hz.
/// Yaw: a seeded per-phrase turn (≤ 1.8°) smoothed over phrases (σ = 0.35 s) plus three seeded sines.
/// Roll: `1.2°·tanh(semitones above the speaker's median F0 / 4)` (σ = 0.15 s smoothing, seeded sign) plus
/// three seeded sines. Each axis is soft-limited to ±4°, ±5°, ±3° by `A·tanh(x/A)`, then scaled by
/// `motionScale`. `bump(u) = sin⁴(πu)` on [0, 1] has a continuous second derivative, so nothing jerks.
public struct HeadMotion: Sendable {
    /// One stressed syllable.
    public struct StressEvent: Sendable, Equatable {
        /// Time of the syllable's jaw peak, seconds.
        public var time: Double
        /// Strength in [0, 1] from loudness (0.6) and F0 rise (0.4).
        public var strength: Float
        /// Semitones of F0 rise above the speaker's median around the peak.
        public var f0Rise: Float
        /// Seeded amplitude factor for the nod.
        public var nodFactor: Float
    }

    /// Head pose and brow lift at one instant.
    public struct Pose: Sendable, Equatable {
        /// Radians, chin down positive.
        public var pitch: Float
        /// Radians, toward the subject's left positive.
        public var yaw: Float
        /// Radians, clockwise in the image positive.
        public var roll: Float
        /// In frame widths/heights (x right, y down).
        public var translation: SIMD2<Float>
        /// `browInnerUp` weight.
        public var browInnerUp: Float
        /// `browOuterUpLeft`/`Right` weight.
        public var browOuterUp: Float
    }

    /// Soft limit of pitch at motion scale 1.
    public static let pitchLimitDegrees: Float = 4
    /// Soft limit of yaw at motion scale 1.
    public static let yawLimitDegrees: Float = 5
    /// Soft limit of roll at motion scale 1.
    public static let rollLimitDegrees: Float = 3

    /// The stressed syllables that drive nods and brows.
    public let stressEvents: [StressEvent]
    let scale: Float
    let still: Bool
    let step: Double
    let activity: [Float]
    let phraseYaw: [Float]
    let prosodyRoll: [Float]
    let sines: [[(frequency: Double, phase: Double, amplitude: Float)]]
    let breathFrequency: Double
    let breathPhase: Double

    /// Head motion for features, detected speech and the (gated) jaw track, with `seed` and `motionScale`.
    public init(features f: SpeechFeatures, activity a: SpeechActivity, jaw: [Float], seed: UInt64,
                motionScale: Float, still: Bool) {
        var rng = MotionRandom(seed: seed, stream: 0x4EAD)
        step = f.hopSeconds
        scale = motionScale.isFinite ? max(motionScale, 0) : 0
        self.still = still
        let n = f.count
        activity = SignalTools.gaussianSmooth(a.isSpeech.map { $0 ? 1 : 0 }, step: step, sigma: 0.3)

        // F0 in semitones above the speaker's median, held and decayed (τ = 0.3 s) through unvoiced hops.
        let voicedSpeech = (0..<n).filter { a.isSpeech[$0] && f.voiced[$0] }
        let medianF0 = SignalTools.percentile(voicedSpeech.map { f.f0Hz[$0] }, 0.5, fallback: 0)
        var semitones = [Float](repeating: 0, count: n)
        var held: Float = 0
        let decay = Float(exp(-step / 0.3))
        for k in 0..<n {
            if a.isSpeech[k] && f.voiced[k] && medianF0 > 0 {
                held = 12 * log2(f.f0Hz[k] / medianF0)
            } else {
                held *= decay
            }
            semitones[k] = held
        }
        let rollSign: Float = rng.unit() < 0.5 ? -1 : 1
        prosodyRoll = SignalTools.gaussianSmooth(semitones, step: step, sigma: 0.15).map { 1.2 * rollSign * tanh($0 / 4) }

        // A seeded turn per phrase, larger for louder phrases.
        var yawTrack = [Float](repeating: 0, count: n)
        var side: Float = rng.unit() < 0.5 ? -1 : 1
        for segment in a.segments {
            let meanJaw = segment.reduce(Float(0)) { $0 + jaw[$1] } / Float(segment.count)
            if rng.unit() < 0.7 { side = -side }
            let target = 1.8 * side * Float(rng.uniform(0.4...1.0)) * (0.5 + 0.5 * SignalTools.ramp(meanJaw, 0.1, 0.35))
            for k in segment { yawTrack[k] = target }
        }
        phraseYaw = SignalTools.gaussianSmooth(yawTrack, step: step, sigma: 0.35)

        // Slow seeded sines: (frequency range Hz, amplitude degrees) for pitch, yaw, roll.
        let bands: [[(ClosedRange<Double>, Float)]] = [
            [(0.05...0.11, 0.55), (0.13...0.23, 0.30), (0.27...0.43, 0.12)],
            [(0.04...0.09, 0.90), (0.11...0.20, 0.45), (0.23...0.37, 0.15)],
            [(0.05...0.10, 0.40), (0.12...0.22, 0.20), (0.25...0.40, 0.08)],
        ]
        sines = bands.map { axis in
            axis.map { (rng.uniform($0.0), rng.uniform(0...(2 * Double.pi)), $0.1) }
        }
        breathFrequency = rng.uniform(0.22...0.28)
        breathPhase = rng.uniform(0...(2 * Double.pi))
        stressEvents = Self.findStress(jaw: jaw, semitones: semitones, speech: a.isSpeech, step: step, rng: &rng)
    }

    /// Stressed syllables: jaw peaks (maximum within ±150 ms, above 0.2) scored by loudness relative to the
    /// clip's 90th-percentile peak and by F0 rise; the strongest first, at least 0.35 s apart, strength ≥ 0.35.
    static func findStress(jaw: [Float], semitones: [Float], speech: [Bool], step: Double,
                           rng: inout MotionRandom) -> [StressEvent] {
        let n = jaw.count
        let radius = Int((0.15 / step).rounded())
        var peaks = [Int]()
        for k in 0..<n where speech[k] && jaw[k] > 0.2 {
            var isPeak = true
            for j in max(0, k - radius)...min(n - 1, k + radius) where jaw[j] > jaw[k] || (jaw[j] == jaw[k] && j < k) {
                isPeak = false
                break
            }
            if isPeak { peaks.append(k) }
        }
        let reference = max(SignalTools.percentile(peaks.map { jaw[$0] }, 0.9, fallback: 0.5), 0.2)
        let riseRadius = Int((0.1 / step).rounded())
        var candidates = peaks.map { k -> StressEvent in
            var rise: Float = 0
            for j in max(0, k - riseRadius)...min(n - 1, k + riseRadius) { rise = max(rise, semitones[j]) }
            let loud = SignalTools.ramp(jaw[k] / reference, 0.5, 1.0)
            let strength = 0.6 * loud + 0.4 * SignalTools.ramp(rise, 0, 4)
            return StressEvent(time: Double(k) * step, strength: strength, f0Rise: rise, nodFactor: 1)
        }
        candidates.sort { $0.strength != $1.strength ? $0.strength > $1.strength : $0.time < $1.time }
        // Greedy by strength; a chosen event blocks the hops within 0.35 s of it.
        var chosen = [StressEvent]()
        var blocked = [Bool](repeating: false, count: n)
        let spacing = Int((0.35 / step).rounded(.up)) - 1
        for c in candidates where c.strength >= 0.35 {
            let k = Int((c.time / step).rounded())
            guard !blocked[k] else { continue }
            chosen.append(c)
            for j in max(0, k - spacing)...min(n - 1, k + spacing) { blocked[j] = true }
        }
        chosen.sort { $0.time < $1.time }
        for i in chosen.indices { chosen[i].nodFactor = Float(rng.uniform(0.7...1.2)) }
        return chosen
    }

    /// `sin⁴(πu)` on [0, 1], else 0.
    @inline(__always)
    static func bump(_ u: Double) -> Float {
        guard u > 0, u < 1 else { return 0 }
        let s = sin(Double.pi * u)
        return Float(s * s * s * s)
    }

    /// The pose at `time` seconds.
    public func pose(at time: Double) -> Pose {
        var nod: Float = 0, brow: Float = 0
        // Events influence [t_s − 0.2, t_s + 0.5]; find the first event after time − 0.5.
        var lo = 0, hi = stressEvents.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if stressEvents[mid].time < time - 0.5 { lo = mid + 1 } else { hi = mid }
        }
        var i = lo
        while i < stressEvents.count && stressEvents[i].time <= time + 0.25 {
            let e = stressEvents[i]
            nod += 2.0 * e.strength * e.nodFactor * Self.bump((time - e.time + 0.10) / 0.45)
            let emphasis = 0.4 * e.strength + 0.6 * SignalTools.ramp(e.f0Rise, 0.5, 4)
            brow += 0.25 * emphasis * Self.bump((time - e.time + 0.20) / 0.70)
            i += 1
        }
        let lively = 0.8 + 0.5 * SignalTools.sample(activity, step: step, at: time)
        func wander(_ axis: Int) -> Float {
            var sum: Float = 0
            for s in sines[axis] { sum += s.amplitude * Float(sin(2 * Double.pi * s.frequency * time + s.phase)) }
            return sum * lively
        }
        let breath = Float(sin(2 * Double.pi * breathFrequency * time + breathPhase))
        let calm = 1 - 0.5 * SignalTools.sample(activity, step: step, at: time)
        let pitchDeg = nod + wander(0) + 0.2 * breath * calm
        let yawDeg = SignalTools.sample(phraseYaw, step: step, at: time) + wander(1)
        let rollDeg = SignalTools.sample(prosodyRoll, step: step, at: time) + wander(2)
        let browScale = min(scale, 2)
        var pose = Pose(pitch: 0, yaw: 0, roll: 0, translation: .zero,
                        browInnerUp: min(brow * browScale, 1), browOuterUp: min(0.7 * brow * browScale, 1))
        guard !still, scale > 0 else { return pose }
        func limit(_ x: Float, _ a: Float) -> Float { a * tanh(x / a) * scale * Float.pi / 180 }
        pose.pitch = limit(pitchDeg, Self.pitchLimitDegrees)
        pose.yaw = limit(yawDeg, Self.yawLimitDegrees)
        pose.roll = limit(rollDeg, Self.rollLimitDegrees)
        pose.translation = SIMD2(0.06 * pose.yaw, 0.04 * pose.pitch + 0.0015 * scale * breath * calm)
        return pose
    }
}
