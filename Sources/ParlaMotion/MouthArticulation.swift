import Foundation

/// Mouth blendshape tracks on the hop grid, derived from ``SpeechFeatures`` and ``SpeechActivity``.
///
/// See docs/motion.md for the formulas. In short: jaw from the voiced 250–3000 Hz band level relative to the
/// clip's loud-speech level (attack 30 ms / release 60 ms); lips pressed on sharp dips of that level between
/// two louder sounds; rounding and spreading from the speaker-normalised balance of 1500–3500 Hz against
/// 250–1100 Hz on voiced hops (rounding only where the F1 balance says the vowel is not open); a slightly
/// open, teeth-showing shape on unvoiced high-frequency (fricative) hops. Every track is multiplied by a gate
/// that is exactly 0 from 150 ms after the end of speech until 50 ms before the next speech, so silence leaves
/// the mouth closed and still.
public struct MouthArticulation: Sendable {
    /// Seconds between values.
    public let hopSeconds: Double
    /// `jawOpen` per hop.
    public let jawOpen: [Float]
    /// `mouthClose` per hop (never above `jawOpen`).
    public let mouthClose: [Float]
    /// `mouthPressLeft`/`Right` per hop.
    public let mouthPress: [Float]
    /// `mouthFunnel` per hop.
    public let mouthFunnel: [Float]
    /// `mouthPucker` per hop.
    public let mouthPucker: [Float]
    /// `mouthStretchLeft`/`Right` per hop.
    public let mouthStretch: [Float]
    /// `mouthSmileLeft`/`Right` per hop.
    public let mouthSmile: [Float]
    /// `mouthLowerDownLeft`/`Right` per hop.
    public let mouthLowerDown: [Float]
    /// `mouthUpperUpLeft`/`Right` per hop.
    public let mouthUpperUp: [Float]
    /// The speech gate in [0, 1] every track above is multiplied by.
    public let gate: [Float]

    /// Jaw smoothing (seconds).
    public static let jawAttack = 0.030, jawRelease = 0.060
    /// Lip-closure smoothing (seconds).
    public static let closureAttack = 0.015, closureRelease = 0.040
    /// Rounding/spreading smoothing (seconds).
    public static let shapeAttack = 0.040, shapeRelease = 0.080
    /// Fricative smoothing (seconds).
    public static let fricativeAttack = 0.020, fricativeRelease = 0.050
    /// Gate ramps before and after speech (seconds).
    public static let gatePreroll = 0.050, gateRelease = 0.150

    /// Articulation for `features` given the detected `activity`.
    public init(features f: SpeechFeatures, activity: SpeechActivity) {
        let n = f.count
        let step = f.hopSeconds
        hopSeconds = step
        let vowelBand = (0..<n).map { f.bandLevelDB(hop: $0, lowHz: 250, highHz: 3000) }
        let speechHops = (0..<n).filter { activity.isSpeech[$0] }
        let voicedSpeech = speechHops.filter { f.voiced[$0] }

        // Openness: vowel-band level between 28 dB below the loud-speech level and that level, made more
        // contrasting by a power 1.6.
        let vowelPeak = SignalTools.percentile(speechHops.map { vowelBand[$0] }, 0.95, fallback: 0)
        let openness = vowelBand.map { pow(SignalTools.ramp($0, vowelPeak - 28, vowelPeak), 1.6) }
        // Vowel height: F1 region 550–1000 Hz against 200–500 Hz, normalised over the voiced speech.
        let heightRaw = (0..<n).map {
            f.bandLevelDB(hop: $0, lowHz: 550, highHz: 1000) - f.bandLevelDB(hop: $0, lowHz: 200, highHz: 500)
        }
        let height = Self.normalise(heightRaw, over: voicedSpeech)
        // Frontness: F2/F3 region against the F1/low-F2 region (rounded back vowels low, i/e high).
        let frontRaw = (0..<n).map {
            f.bandLevelDB(hop: $0, lowHz: 1500, highHz: 3500) - f.bandLevelDB(hop: $0, lowHz: 250, highHz: 1100)
        }
        let front = Self.normalise(frontRaw, over: voicedSpeech)

        var jawTarget = [Float](repeating: 0, count: n)
        var closureTarget = [Float](repeating: 0, count: n)
        var roundTarget = [Float](repeating: 0, count: n)
        var spreadTarget = [Float](repeating: 0, count: n)
        var fricativeTarget = [Float](repeating: 0, count: n)
        let dipRadius = Int((0.12 / step).rounded())
        for k in 0..<n where activity.isSpeech[k] {
            let voicing = SignalTools.ramp(f.periodicity[k], 0.5, 0.85)
            let openFactor = 1 + 0.25 * tanh(height[k])
            jawTarget[k] = 0.62 * openness[k] * (0.45 + 0.55 * voicing) * openFactor
            // Sharp dip: the vowel band 12–22 dB below the louder sound on *both* sides within 120 ms
            // (a closure between two sounds, not the rise at a phrase onset or the fall at its end).
            var before = vowelBand[k], after = vowelBand[k]
            for j in max(0, k - dipRadius)...k { before = max(before, vowelBand[j]) }
            for j in k...min(n - 1, k + dipRadius) { after = max(after, vowelBand[j]) }
            closureTarget[k] = SignalTools.ramp(min(before, after) - vowelBand[k], 12, 22)
            let presence = min(1, 1.5 * openness[k]) * voicing
            // Rounded vowels (o, u) have a weak upper band and are not open (a is back too, but high F1).
            roundTarget[k] = SignalTools.ramp(-front[k], 0.3, 1.3) * (1 - SignalTools.ramp(height[k], 0.3, 1.2)) * presence
            spreadTarget[k] = SignalTools.ramp(front[k], 0.4, 1.8) * presence
            let hiss = max(SignalTools.ramp(f.zeroCrossingRate[k], 0.18, 0.35),
                           SignalTools.ramp(f.centroidHz[k], 2500, 4500))
            fricativeTarget[k] = hiss * (1 - voicing)
                * SignalTools.ramp(f.levelDB[k], activity.floorDB + 6, activity.floorDB + 16)
        }

        let gate = Self.gate(activity: activity, count: n, step: step)
        let jaw = SignalTools.attackRelease(jawTarget, step: step, attack: Self.jawAttack, release: Self.jawRelease)
        let closure = SignalTools.attackRelease(closureTarget, step: step, attack: Self.closureAttack,
                                                release: Self.closureRelease)
        let round = SignalTools.attackRelease(roundTarget, step: step, attack: Self.shapeAttack,
                                              release: Self.shapeRelease)
        let spread = SignalTools.attackRelease(spreadTarget, step: step, attack: Self.shapeAttack,
                                               release: Self.shapeRelease)
        let fricative = SignalTools.attackRelease(fricativeTarget, step: step, attack: Self.fricativeAttack,
                                                  release: Self.fricativeRelease)

        func clamp(_ v: Float) -> Float { min(max(v, 0), 1) }
        var jawOut = [Float](repeating: 0, count: n), closeOut = jawOut, pressOut = jawOut, funnelOut = jawOut
        var puckerOut = jawOut, stretchOut = jawOut, smileOut = jawOut, lowerOut = jawOut, upperOut = jawOut
        for k in 0..<n where gate[k] > 0 {
            let g = gate[k]
            let open = jaw[k] + 0.07 * fricative[k]
            jawOut[k] = clamp(g * open)
            // ARKit's mouthClose brings the lips together against an open jaw, so it never exceeds jawOpen.
            closeOut[k] = clamp(g * closure[k] * open)
            pressOut[k] = clamp(g * 0.3 * closure[k])
            funnelOut[k] = clamp(g * 0.35 * round[k])
            puckerOut[k] = clamp(g * 0.45 * round[k] * (1 - closure[k]))
            stretchOut[k] = clamp(g * (0.3 * spread[k] + 0.22 * fricative[k]))
            smileOut[k] = clamp(g * 0.12 * spread[k])
            lowerOut[k] = clamp(g * (0.5 * jaw[k] + 0.12 * fricative[k]) * (1 - closure[k]))
            upperOut[k] = clamp(g * (0.2 * jaw[k] + 0.18 * fricative[k]) * (1 - closure[k]))
        }
        jawOpen = jawOut
        mouthClose = closeOut
        mouthPress = pressOut
        mouthFunnel = funnelOut
        mouthPucker = puckerOut
        mouthStretch = stretchOut
        mouthSmile = smileOut
        mouthLowerDown = lowerOut
        mouthUpperUp = upperOut
        self.gate = gate
    }

    /// (x − median) / spread over the hops in `subset`, spread = half the 20–80 % range, at least 2 dB.
    /// All zeros when the subset has fewer than 20 hops (too little to learn the speaker's balance from).
    static func normalise(_ x: [Float], over subset: [Int]) -> [Float] {
        guard subset.count >= 20 else { return [Float](repeating: 0, count: x.count) }
        let values = subset.map { x[$0] }
        let median = SignalTools.percentile(values, 0.5)
        let spread = max(0.5 * (SignalTools.percentile(values, 0.8) - SignalTools.percentile(values, 0.2)), 2)
        return x.map { ($0 - median) / spread }
    }

    /// 1 inside speech; `1 − smoothstep(Δ/release)` after a segment and `1 − smoothstep(Δ/preroll)` before one,
    /// the larger of the two; exactly 0 elsewhere.
    static func gate(activity: SpeechActivity, count n: Int, step: Double) -> [Float] {
        var gate = [Float](repeating: 0, count: n)
        for segment in activity.segments {
            for k in segment { gate[k] = 1 }
            let releaseHops = Int((gateRelease / step).rounded(.up))
            for d in 1...releaseHops where segment.upperBound - 1 + d < n {
                let k = segment.upperBound - 1 + d
                gate[k] = max(gate[k], Float(1 - SignalTools.smoothstep(Double(d) * step / gateRelease)))
            }
            let prerollHops = Int((gatePreroll / step).rounded(.up))
            for d in 1...prerollHops where segment.lowerBound - d >= 0 {
                let k = segment.lowerBound - d
                gate[k] = max(gate[k], Float(1 - SignalTools.smoothstep(Double(d) * step / gatePreroll)))
            }
        }
        return gate
    }
}
