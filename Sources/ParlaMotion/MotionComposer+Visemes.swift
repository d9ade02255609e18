import Foundation
import ParlaMedia

extension MotionComposer {
    /// One MotionFrame per video frame (as ``frames(for:)``) with the mouth driven by `visemes` instead of the
    /// acoustic driver: phoneme timing from a TTS (``VisemeTrack/init(events:duration:)``) or VisemeNet
    /// posteriors. The audio still drives the jaw's loudness, the head, brows and blinks. The track's frame k is
    /// time k·10 ms; frames missing at the end count as silence. The mouth goes through ``Coarticulation`` and
    /// p/b/m frames always close the lips (see docs/motion.md).
    public func frames(for audio: AudioBuffer, visemes: VisemeTrack) -> [MotionFrame] {
        frames(for: audio, visemes: visemes, frontEnd: nil, analysis: analyse(audio))
    }

    /// ``frames(for:visemes:)`` with what the caller already computed for `audio` (the VisemeNet path), so that
    /// nothing is analysed twice: `frontEnd`, its ``VisemeFrontEnd`` frames at 16 kHz (nil: computed here), and
    /// `analysis`, the result of ``analyse(_:)``.
    func frames(for audio: AudioBuffer, visemes: VisemeTrack, frontEnd: VisemeFrontEnd.Frames?,
                analysis: SpeechAnalysis?) -> [MotionFrame] {
        var frames = frames(for: audio, mouth: false, analysis: analysis)
        guard !frames.isEmpty else { return [] }
        let levels = Self.visemeLevels(frontEnd ?? Self.frontEndFrames(audio), frameCount: visemes.frameCount)
        let mouth = Coarticulation.apply(posteriors: visemes.values, levels: levels)
        for n in frames.indices {
            Self.applyVisemeMouth(mouth, at: frames[n].time, fps: options.fps, to: &frames[n].blendshapes)
        }
        options.controls.apply(to: &frames, seed: options.seed)
        return frames
    }

    /// The ``VisemeFrontEnd`` frames of `audio` (resampled to 16 kHz first when needed).
    static func frontEndFrames(_ audio: AudioBuffer) -> VisemeFrontEnd.Frames {
        let speech = audio.sampleRate == AudioBuffer.analysisRate ? audio : Resampler.resample(audio, to: AudioBuffer.analysisRate)
        return VisemeFrontEnd().analyse(speech.samples)
    }

    /// Levels (dBFS) per 10 ms frame for the jaw gain from the front end's `frames`, `frameCount` of them
    /// (−120 past the end).
    static func visemeLevels(_ frames: VisemeFrontEnd.Frames, frameCount: Int) -> [Float] {
        var levels = frames.levelDB
        if levels.count < frameCount { levels.append(contentsOf: repeatElement(-120, count: frameCount - levels.count)) }
        return Array(levels.prefix(frameCount))
    }

    /// Writes the mouth at time `t` from per-hop coarticulation output: controls interpolated linearly between
    /// hops; closure as the maximum over the video frame's own interval [t − ½/fps, t + ½/fps], so a p/b/m that
    /// falls between two frame times still closes the lips on a frame.
    /// `firstHop` is the hop index of `mouth`'s row 0 (the streaming composer drops old rows); positions are computed
    /// on the absolute hop grid so that batch and streaming round identically.
    static func applyVisemeMouth(_ mouth: Coarticulation.Output, at t: Double, fps: Double, firstHop: Int = 0,
                                 to w: inout BlendshapeWeights) {
        let count = mouth.count
        guard count > 0 else { return }
        let position = t / VisemeTrack.frameSeconds
        let whole = Int(position.rounded(.down))
        let k0 = min(max(whole - firstHop, 0), count - 1)
        let k1 = min(k0 + 1, count - 1)
        let f = Float(min(max(position - Double(whole), 0), 1))
        func v(_ c: MouthControl) -> Float { mouth.value(c, at: k0) * (1 - f) + mouth.value(c, at: k1) * f }
        let half = 0.5 / fps / VisemeTrack.frameSeconds
        let lo = max(0, Int((position - half).rounded(.up)) - firstHop)
        let hi = min(count - 1, Int((position + half).rounded(.down)) - firstHop)
        var closure: Float = 0
        if lo <= hi { for k in lo...hi { closure = max(closure, mouth.closure(at: k)) } }
        closure = max(closure, mouth.closure(at: k0) * (1 - f) + mouth.closure(at: k1) * f)
        writeMouth(closure: closure, to: &w, v)
    }

    /// Writes the mouth of hop `hop` itself (no interpolation) for a frame that shows the newest motion
    /// (``StreamingMotionComposer/FrameTiming/newestHop``): closure as the maximum over the hops since the previous
    /// frame, `closureFrom … hop`, so every p/b/m hop closes the lips on some frame without reading past `hop`.
    /// `firstHop` is the hop index of `mouth`'s row 0.
    static func applyHopMouth(_ mouth: Coarticulation.Output, hop: Int, closureFrom: Int, firstHop: Int,
                              to w: inout BlendshapeWeights) {
        let count = mouth.count
        guard count > 0 else { return }
        let k = min(max(hop - firstHop, 0), count - 1)
        var closure = mouth.closure(at: k)
        let lo = max(0, closureFrom - firstHop)
        if lo < k { for j in lo..<k { closure = max(closure, mouth.closure(at: j)) } }
        writeMouth(closure: closure, to: &w) { mouth.value($0, at: k) }
    }

    /// The blendshapes from the mouth controls `v` and the p/b/m `closure`.
    private static func writeMouth(closure: Float, to w: inout BlendshapeWeights, _ v: (MouthControl) -> Float) {
        let jaw = v(.jaw)
        guard jaw > 0 || v(.lipsClosed) > 0 || closure > 0 || v(.stretch) > 0 || v(.pucker) > 0 else { return }
        let closed = max(v(.lipsClosed), closure)
        let open = 1 - closed
        w[.jawOpen] = jaw
        w[.mouthClose] = closed * jaw
        let press = v(.press) + 0.25 * closure
        w[.mouthPressLeft] = press
        w[.mouthPressRight] = press
        w[.mouthFunnel] = v(.funnel) * open
        w[.mouthPucker] = v(.pucker)
        w[.mouthStretchLeft] = v(.stretch)
        w[.mouthStretchRight] = v(.stretch)
        w[.mouthSmileLeft] = v(.smile)
        w[.mouthSmileRight] = v(.smile)
        w[.mouthLowerDownLeft] = v(.lowerDown) * open
        w[.mouthLowerDownRight] = v(.lowerDown) * open
        w[.mouthUpperUpLeft] = v(.upperUp) * open
        w[.mouthUpperUpRight] = v(.upperUp) * open
        w[.mouthRollLower] = v(.rollLower)
        w[.tongueOut] = v(.tongueOut) * open
    }
}
