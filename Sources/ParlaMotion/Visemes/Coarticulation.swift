import Foundation

/// The mouth controls the coarticulation model drives, in this order in ``Coarticulation/Output``.
public enum MouthControl: Int, CaseIterable, Sendable {
    case jaw, lipsClosed, funnel, pucker, stretch, smile, lowerDown, upperUp, press, rollLower, tongueOut
}

/// Viseme posteriors (10 ms frames) → mouth controls through dominance functions (Cohen & Massaro 1993, in
/// the continuous form for posteriors): every class v has a target shape `T_v`, a strength `α_v` and
/// anticipatory/carry-over time constants; its dominance at hop k is
/// `D_v(k) = α_v · Σ_d p_v(k + d) · exp(−|d|·10 ms / τ_v(sign d))` over d ∈ [−carry, +lookAhead] hops, and the
/// shape is `Σ_v D_v·T_v / Σ_v D_v`. Strong, narrow dominance (p/b/m, f/v) wins its own frames; weak tongue
/// consonants (t, d, k, n) let the neighbouring vowels show through; rounding (o, u, CH) anticipates.
///
/// On top of the blend: **closure** — wherever PP is likely (`max p_PP` over ±1 hop ≥ 0.55 gives 1, ramping from
/// 0.3) the lips are shut completely regardless of the blend; **jaw from energy** — the jaw target is scaled by
/// `0.55 + 0.45·ramp(level − peak, −30 dB, −6 dB)` with a running peak level (decays 5 dB/s, floor −60 dBFS);
/// **gate** — speech = `(1 − p_sil)·ramp(level, −56, −46 dBFS)`; when it stays below 0.15 over the whole kernel window
/// the output is exactly 0 (no quiver in silence or faint noise), ramping to full at 0.4.
///
/// Causal with a fixed look-ahead of ``standardLookAhead`` hops (50 ms) for files and speech played out, where the
/// mouth can anticipate rounding; ``lowLatencyLookAhead`` (10 ms) for a live microphone, where every hop of
/// look-ahead is sound-to-photon delay (the closure rule reads ±1 hop, so p/b/m still shut). ``Stream`` gives the
/// batch output exactly for the same look-ahead.
public struct Coarticulation: Sendable {
    /// Hops of future context the blend uses for files and played speech.
    public static let standardLookAhead = 5
    /// Hops of future context for a live microphone (the smallest that keeps the ±1-hop closure rule whole).
    public static let lowLatencyLookAhead = 1
    /// `hops` clamped to the look-aheads the kernels cover, 0 … ``standardLookAhead``.
    public static func clampedLookAhead(_ hops: Int) -> Int { min(max(hops, 0), standardLookAhead) }
    /// Hops of past context.
    public static let carry = 12
    /// Below this level (dBFS) a frame counts as silence whatever the posteriors say; full speech from 10 dB above.
    public static let quietLevel: Float = -56
    static let controls = MouthControl.allCases.count
    static let classes = VisemeTrack.classCount

    /// Per hop: one value per ``MouthControl`` plus the closure strength (last column).
    public struct Output: Sendable, Equatable {
        /// Hop-major values: `values[k · stride + control.rawValue]`, closure at `k · stride + controls`.
        public var values: [Float] = []
        /// Values per hop.
        public static let stride = Coarticulation.controls + 1
        /// No hops.
        public init() {}
        /// Number of hops.
        public var count: Int { values.count / Self.stride }
        /// Control `c` at hop `k`.
        public func value(_ c: MouthControl, at k: Int) -> Float { values[k * Self.stride + c.rawValue] }
        /// Closure (0…1) at hop `k`.
        public func closure(at k: Int) -> Float { values[k * Self.stride + Coarticulation.controls] }
    }

    /// Target shape of each viseme (rows in ``Viseme`` order, columns in ``MouthControl`` order).
    public static let targets: [[Float]] = {
        func t(jaw: Float = 0, closed: Float = 0, funnel: Float = 0, pucker: Float = 0, stretch: Float = 0,
               smile: Float = 0, lower: Float = 0, upper: Float = 0, press: Float = 0, roll: Float = 0,
               tongue: Float = 0) -> [Float] {
            [jaw, closed, funnel, pucker, stretch, smile, lower, upper, press, roll, tongue]
        }
        return [
            t(),                                                                  // sil
            t(jaw: 0.06, closed: 1, press: 0.45),                                 // PP
            t(jaw: 0.10, closed: 0.2, upper: 0.25, roll: 0.6),                    // FF
            t(jaw: 0.20, lower: 0.2, upper: 0.1, tongue: 0.25),                   // TH
            t(jaw: 0.22, stretch: 0.1, lower: 0.15, upper: 0.1),                  // DD
            t(jaw: 0.28, lower: 0.12),                                            // kk
            t(jaw: 0.14, funnel: 0.45, pucker: 0.2, lower: 0.2, upper: 0.2),      // CH
            t(jaw: 0.10, stretch: 0.35, smile: 0.1, lower: 0.15, upper: 0.15),    // SS
            t(jaw: 0.20, lower: 0.1),                                             // nn
            t(jaw: 0.20, funnel: 0.3, pucker: 0.25),                              // RR
            t(jaw: 0.70, lower: 0.45, upper: 0.15),                               // aa
            t(jaw: 0.42, stretch: 0.3, smile: 0.1, lower: 0.3, upper: 0.1),       // E
            t(jaw: 0.20, stretch: 0.4, smile: 0.2, lower: 0.15, upper: 0.1),      // ih
            t(jaw: 0.45, funnel: 0.55, pucker: 0.2, lower: 0.15),                 // oh
            t(jaw: 0.18, funnel: 0.3, pucker: 0.75),                              // ou
            t(jaw: 0.25, smile: 0.3, lower: 0.2, upper: 0.2),                     // nonspeech
        ]
    }()

    /// (strength α, anticipatory τ ms, carry-over τ ms) per viseme.
    public static let dominance: [(alpha: Float, ahead: Float, behind: Float)] = [
        (0.6, 40, 60),   // sil
        (3.0, 25, 20),   // PP
        (2.0, 25, 25),   // FF
        (1.2, 30, 30),   // TH
        (0.7, 30, 35),   // DD
        (0.7, 30, 35),   // kk
        (1.5, 40, 40),   // CH
        (1.2, 30, 30),   // SS
        (0.7, 30, 35),   // nn
        (1.0, 40, 40),   // RR
        (1.0, 50, 60),   // aa
        (1.0, 50, 60),   // E
        (1.0, 50, 60),   // ih
        (1.3, 70, 60),   // oh
        (1.3, 70, 60),   // ou
        (0.8, 60, 60),   // nonspeech
    ]

    /// kernel[v][d + carry] for d in −carry … standardLookAhead (a shorter look-ahead uses a prefix).
    static let kernels: [[Float]] = dominance.map { dom in
        (-carry...standardLookAhead).map { d -> Float in
            let ms = Float(abs(d)) * 10
            return dom.alpha * Float(exp(Double(-ms / (d > 0 ? dom.ahead : dom.behind))))
        }
    }

    /// ``kernels`` flattened: kernelTable[v · kernelWidth + d + carry].
    static let kernelWidth = carry + standardLookAhead + 1
    static let kernelTable: [Float] = kernels.flatMap { $0 }
    /// ``targets`` as vectors (lanes past ``controls`` are 0), for the blend in ``Stream``.
    static let targetVectors: [SIMD16<Float>] = targets.map { t in
        var v = SIMD16<Float>.zero
        for c in t.indices { v[c] = t[c] }
        return v
    }

    /// Batch: posteriors (frame-major, 16 per frame) and one level (dBFS) per frame → one output per frame.
    /// Frames past the end count as silence. `lookAhead` in 0 … ``standardLookAhead`` hops.
    public static func apply(posteriors: [Float], levels: [Float], lookAhead: Int = standardLookAhead) -> Output {
        var stream = Stream(lookAhead: lookAhead)
        var out = Output()
        let n = min(posteriors.count / classes, levels.count)
        out.values.reserveCapacity(n * Output.stride)
        for k in 0..<n {
            stream.push(posteriors: posteriors[(k * classes)..<((k + 1) * classes)], level: levels[k], into: &out)
        }
        stream.finish(into: &out)
        return out
    }

    /// Incremental form: push one frame at a time; output for frame k appears after frame k + lookAhead was
    /// pushed (or at ``finish(into:)``). Identical to ``apply(posteriors:levels:)``.
    public struct Stream: Sendable {
        private var history: [Float]      // ring of posteriors, window = carry + lookAhead + 1 frames
        private var levelRing: [Float]
        private var pushed = 0
        private var emitted = 0
        private var peak: Float = -40
        private var peakAtEmit: [Float]
        /// Hops of future context (0 … ``Coarticulation/standardLookAhead``).
        public let lookAhead: Int
        private let window: Int

        /// Empty history (everything before the first frame counts as silence); `lookAhead` is clamped to
        /// 0 … ``Coarticulation/standardLookAhead``.
        public init(lookAhead: Int = Coarticulation.standardLookAhead) {
            self.lookAhead = Coarticulation.clampedLookAhead(lookAhead)
            window = Coarticulation.carry + self.lookAhead + 1
            history = [Float](repeating: 0, count: window * Coarticulation.classes)
            for i in 0..<window { history[i * Coarticulation.classes] = 1 }
            levelRing = [Float](repeating: -120, count: window)
            peakAtEmit = [Float](repeating: -40, count: window)
        }

        /// Frames pushed so far.
        public var framesPushed: Int { pushed }

        /// Adds one frame (16 posteriors, level in dBFS); appends the output of frame `pushed − lookAhead` when
        /// it is complete.
        public mutating func push<C: Collection>(posteriors row: C, level: Float, into out: inout Output)
        where C.Element == Float {
            let slot = pushed % window
            var c = 0
            for p in row where c < Coarticulation.classes {
                history[slot * Coarticulation.classes + c] = p.isFinite ? p : 0
                c += 1
            }
            let l = level.isFinite ? level : -120
            levelRing[slot] = l
            peak = max(l, max(peak - 0.05, -60))
            peakAtEmit[slot] = peak
            pushed += 1
            if pushed - 1 - lookAhead >= 0 { emit(into: &out) }
        }

        /// Flushes the last `lookAhead` frames as if silence followed.
        public mutating func finish(into out: inout Output) {
            let target = pushed
            while emitted < target {
                let slot = pushed % window
                for c in 0..<Coarticulation.classes { history[slot * Coarticulation.classes + c] = c == 0 ? 1 : 0 }
                levelRing[slot] = -120
                peakAtEmit[slot] = peak
                pushed += 1
                emit(into: &out)
            }
            pushed = target
        }

        private mutating func emit(into out: inout Output) {
            let k = emitted
            emitted += 1
            let classes = Coarticulation.classes
            func slot(_ frame: Int) -> Int? {
                guard frame >= 0, frame < pushed, frame > pushed - 1 - window else { return nil }
                return frame % window
            }
            // Dominance-weighted blend and the speech gate (all controls at once, lane c = control c).
            var shape = SIMD16<Float>.zero
            var total: Float = 0
            var speech: Float = 0
            var pp: Float = 0
            let carry = Coarticulation.carry, width = Coarticulation.kernelWidth
            Coarticulation.kernelTable.withUnsafeBufferPointer { kernel in
                Coarticulation.targetVectors.withUnsafeBufferPointer { target in
                    history.withUnsafeBufferPointer { h in
                        for d in -carry...lookAhead {
                            let s = slot(k + d)
                            for v in 0..<classes {
                                let p: Float = s.map { h[$0 * classes + v] } ?? (v == 0 ? 1 : 0)
                                if p == 0 { continue }
                                let w = p * kernel[v * width + d + carry]
                                total += w
                                shape += w * target[v]
                            }
                            let sil: Float = s.map { h[$0 * classes] } ?? 1
                            let loud: Float = s.map { ramp(levelRing[$0], Coarticulation.quietLevel, Coarticulation.quietLevel + 10) } ?? 0
                            speech = max(speech, (1 - sil) * loud)
                            if abs(d) <= 1, let s { pp = max(pp, h[s * classes + Viseme.pp.rawValue]) }
                        }
                    }
                }
            }
            let gate = ramp(speech, 0.15, 0.4)
            let base = out.values.count
            out.values.append(contentsOf: repeatElement(0, count: Output.stride))
            guard gate > 0, total > 0 else { return }
            let here = slot(k)!
            let level = levelRing[here]
            let gain = 0.55 + 0.45 * ramp(level - peakAtEmit[here], -30, -6)
            for c in 0..<Coarticulation.controls {
                var v = shape[c] / total * gate
                if c == MouthControl.jaw.rawValue { v *= gain }
                out.values[base + c] = min(max(v, 0), 1)
            }
            out.values[base + Coarticulation.controls] = ramp(pp, 0.3, 0.55)
        }
    }
}

@inline(__always) func ramp(_ x: Float, _ a: Float, _ b: Float) -> Float { min(max((x - a) / (b - a), 0), 1) }
