import Foundation

/// The lip-sync figures Tools/eval-lipsync reports, computed from one utterance's reference labels (one viseme
/// per 10 ms frame), the predicted posteriors, the composed mouth and the audio level. ``merge(_:)`` pools
/// utterances. All definitions are in docs/motion.md.
public struct LipsyncScores: Sendable {
    /// Frames compared / whose most likely class equals the label.
    public var frames = 0, correctFrames = 0
    /// Reference viseme onsets (class changes, silence excluded) / those matched by a predicted onset of the same
    /// class within ±100 ms / sum of |error| of the matched ones in ms.
    public var onsets = 0, matchedOnsets = 0, onsetErrorMs = 0.0
    /// Reference p/b/m segments / those during which the composed lips close (gap ≤ 0.02) within ±10 ms.
    public var closures = 0, closureHits = 0
    /// Cross-correlation of mouth opening with speech energy per lag (−200 … +200 ms in 10 ms steps), summed.
    public var correlation = [Double](repeating: 0, count: 41)
    /// Silence frames at least 150 ms from speech / sum of |Δ opening| between consecutive such frames.
    public var silenceFrames = 0, silenceMotion = 0.0
    /// Utterances pooled (the correlation is averaged over them).
    public var utterances = 0

    public init() {}

    /// Frame accuracy in [0, 1].
    public var frameAccuracy: Double { frames > 0 ? Double(correctFrames) / Double(frames) : 0 }
    /// Mean absolute onset error of matched onsets (ms).
    public var meanOnsetErrorMs: Double { matchedOnsets > 0 ? onsetErrorMs / Double(matchedOnsets) : 0 }
    /// Share of reference onsets matched.
    public var onsetMatchRate: Double { onsets > 0 ? Double(matchedOnsets) / Double(onsets) : 0 }
    /// Share of p/b/m segments with a lip closure.
    public var closureHitRate: Double { closures > 0 ? Double(closureHits) / Double(closures) : 0 }
    /// Lag (ms) of the mouth behind the audio energy that maximises the pooled correlation (negative = mouth leads).
    public var bestLagMs: Int { (correlation.indices.max { correlation[$0] < correlation[$1] } ?? 20) * 10 - 200 }
    /// Mean |Δ opening| per 10 ms frame in silence.
    public var silenceJitter: Double { silenceFrames > 0 ? silenceMotion / Double(silenceFrames) : 0 }

    /// Adds another utterance's counts.
    public mutating func merge(_ other: LipsyncScores) {
        frames += other.frames; correctFrames += other.correctFrames
        onsets += other.onsets; matchedOnsets += other.matchedOnsets; onsetErrorMs += other.onsetErrorMs
        closures += other.closures; closureHits += other.closureHits
        for i in correlation.indices { correlation[i] += other.correlation[i] }
        silenceFrames += other.silenceFrames; silenceMotion += other.silenceMotion
        utterances += other.utterances
    }

    /// Scores one utterance. `labels`: reference class per frame; `track`: predictions; `mouth`: the composed
    /// mouth per frame; `levels`: dBFS per frame.
    public static func score(labels: [Viseme], track: VisemeTrack, mouth: Coarticulation.Output, levels: [Float]) -> LipsyncScores {
        var s = LipsyncScores()
        let n = min(labels.count, track.frameCount, mouth.count, levels.count)
        guard n > 2 else { return s }
        s.utterances = 1
        let predicted = (0..<n).map { track.mostLikely(at: $0) }
        for k in 0..<n where predicted[k] == labels[k] { s.correctFrames += 1 }
        s.frames = n
        // Onsets.
        func onsets(_ seq: [Viseme]) -> [(Int, Viseme)] {
            (1..<seq.count).compactMap { k in seq[k] != seq[k - 1] && seq[k] != .silence ? (k, seq[k]) : nil }
        }
        let reference = onsets(Array(labels.prefix(n))), found = onsets(predicted)
        for (k, v) in reference {
            s.onsets += 1
            let best = found.filter { $0.1 == v && abs($0.0 - k) <= 10 }.map { abs($0.0 - k) }.min()
            if let best { s.matchedOnsets += 1; s.onsetErrorMs += Double(best * 10) }
        }
        // Lip opening per frame: jaw × (1 − closed).
        let opening = (0..<n).map { k -> Double in
            let closed = max(mouth.value(.lipsClosed, at: k), mouth.closure(at: k))
            return Double(mouth.value(.jaw, at: k) * (1 - closed))
        }
        var k = 0
        while k < n {
            guard labels[k] == .pp else { k += 1; continue }
            var j = k
            while j < n, labels[j] == .pp { j += 1 }
            s.closures += 1
            if (max(0, k - 1)..<min(n, j + 1)).contains(where: { opening[$0] <= 0.02 }) { s.closureHits += 1 }
            k = j
        }
        // Correlation of opening with energy (linear amplitude), both mean-removed, per lag.
        let energy = levels.prefix(n).map { Double(pow(10, max($0, -90) / 20)) }
        let me = energy.reduce(0, +) / Double(n), mo = opening.reduce(0, +) / Double(n)
        let e = energy.map { $0 - me }, o = opening.map { $0 - mo }
        let ne = sqrt(e.map { $0 * $0 }.reduce(0, +)) + 1e-12, no = sqrt(o.map { $0 * $0 }.reduce(0, +)) + 1e-12
        for (i, lag) in (-20...20).enumerated() {
            var acc = 0.0
            for t in 0..<n where t + lag >= 0 && t + lag < n { acc += e[t] * o[t + lag] }
            s.correlation[i] = acc / (ne * no)
        }
        // Jitter in silence: frames whose ±150 ms neighbourhood is all silence.
        let quiet = (0..<n).map { k in (max(0, k - 15)..<min(n, k + 16)).allSatisfy { labels[$0] == .silence } }
        for k in 1..<n where quiet[k] && quiet[k - 1] {
            s.silenceFrames += 1
            s.silenceMotion += abs(opening[k] - opening[k - 1])
        }
        return s
    }

    /// The report Tools/eval-lipsync prints.
    public var report: String {
        String(format: """
            frames %d: viseme frame accuracy %.1f %%
            viseme onsets %d: matched within ±100 ms %.1f %%, mean |onset error| %.1f ms
            p/b/m closures %d: hit rate %.1f %%
            audio→mouth lag (max cross-correlation of opening with energy): %+d ms (r = %.2f)
            jitter in silence: %.5f mean |Δ opening| per 10 ms over %d frames
            """, frames, 100 * frameAccuracy, onsets, 100 * onsetMatchRate, meanOnsetErrorMs, closures,
                      100 * closureHitRate, bestLagMs, (correlation.max() ?? 0) / Double(max(1, utterances)),
                      silenceJitter, silenceFrames)
    }

}
