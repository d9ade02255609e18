import Foundation
import ParlaMedia

/// How ``MotionComposer`` animates.
public struct MotionOptions: Sendable, Equatable {
    /// Output video frames per second.
    public var fps: Double = 30
    /// Same seed and audio give identical frames; another seed gives different head motion and blinks.
    public var seed: UInt64 = 1
    /// What drives the mouth from audio: the learned VisemeNet (default) or the acoustic signal driver.
    public var mouthDriver: MouthDriver = .visemeNet
    /// VisemeNet's arithmetic: int8 activations (default) or the fp32 reference.
    public var visemePrecision: VisemeNet.Precision = .int8
    /// Emotion, gaze, head distance, motion scale (head motion and brow amplitude; the mouth and blinks are not
    /// scaled), still.
    public var controls = MotionControls()

    /// The defaults: 30 fps, seed 1, scale 1, moving head.
    public init() {}

    /// The highest frame rate the composer accepts.
    public static let maximumFPS: Double = 1000
}

/// Everything the composer derived from one clip's audio (exposed for tools and diagnostics).
public struct SpeechAnalysis: Sendable {
    /// Per-hop acoustic features.
    public let features: SpeechFeatures
    /// Detected speech segments.
    public let activity: SpeechActivity
    /// Mouth tracks on the hop grid (before the lead shift).
    public let mouth: MouthArticulation
    /// Speech → silence transitions in seconds.
    public var phraseEnds: [Double] { activity.segments.map { Double($0.upperBound) * features.hopSeconds } }
}

/// What drives the mouth when the composer gets audio alone.
public enum MouthDriver: String, Sendable, CaseIterable {
    /// ``VisemeNet`` posteriors → ``Coarticulation`` (default).
    case visemeNet = "visemenet"
    /// The acoustic driver ``MouthArticulation`` (loudness and spectrum; no phoneme classes).
    case acoustic
}

/// Speech audio in, one ``MotionFrame`` per video frame out.
///
/// Mouth from ``VisemeNet`` + ``Coarticulation`` (default) or ``MouthArticulation``, shown `mouthLead` (35 ms) ahead of the audio it was measured on to make
/// up for the smoothing delay; blinks from ``BlinkSchedule``; head and brows from ``HeadMotion``.
/// Deterministic in (audio, options). See docs/motion.md.
public struct MotionComposer: Sendable {
    /// The options it was made with.
    public let options: MotionOptions
    /// The mouth at time t shows the articulation measured at t + mouthLead.
    public static let mouthLead = 0.035

    /// A composer with `options`.
    public init(options: MotionOptions) {
        self.options = options
    }

    /// Number of frames for `audio`: `ceil(duration · fps)` (a duration·fps within 1e-9 of an integer counts as
    /// that integer); 0 when fps is not a positive number up to ``MotionOptions/maximumFPS``.
    public func frameCount(for audio: AudioBuffer) -> Int {
        guard options.fps.isFinite, options.fps > 0, options.fps <= MotionOptions.maximumFPS else { return 0 }
        let exact = Double(audio.samples.count) * options.fps / Double(audio.sampleRate)
        return max(0, Int((exact - 1e-9).rounded(.up)))
    }

    /// One MotionFrame per video frame n at time n / fps, for n in 0 ..< ceil(duration · fps).
    /// `audio` should be 16 kHz mono. Other rates of at least 8 kHz are analysed at their own rate; below
    /// 8 kHz the audio is treated as silence. NaN or infinite samples count as 0. Use
    /// ``checkedFrames(for:)`` to have such input rejected instead.
    public func frames(for audio: AudioBuffer) -> [MotionFrame] {
        if options.mouthDriver == .visemeNet, let net = try? VisemeNet.bundled() {
            // One spectral analysis: at 16 kHz the network's log-mel is the head analysis's own.
            let analysis = analyse(audio)
            let mel = analysis.flatMap { VisemeFrontEnd().frames(from: $0.features, of: audio) } ?? Self.frontEndFrames(audio)
            return frames(for: audio, visemes: net.posteriors(logMel: mel.logMel, precision: options.visemePrecision), frontEnd: mel, analysis: analysis)
        }
        var frames = frames(for: audio, mouth: true)
        options.controls.apply(to: &frames, seed: options.seed)
        return frames
    }

    /// The frames with (`mouth`) or without the acoustic mouth driver; head, brows and blinks either way.
    func frames(for audio: AudioBuffer, mouth withMouth: Bool) -> [MotionFrame] {
        frames(for: audio, mouth: withMouth, analysis: analyse(audio))
    }

    /// ``frames(for:mouth:)`` with `analysis`, the result of ``analyse(_:)`` for `audio`.
    func frames(for audio: AudioBuffer, mouth withMouth: Bool, analysis: SpeechAnalysis?) -> [MotionFrame] {
        let count = frameCount(for: audio)
        guard count > 0 else { return [] }
        let fps = options.fps
        let blinks = BlinkSchedule(duration: Double(count) / fps, phraseEnds: analysis?.phraseEnds ?? [],
                                   seed: options.seed)
        let head: HeadMotion
        if let analysis {
            head = HeadMotion(features: analysis.features, activity: analysis.activity, jaw: analysis.mouth.jawOpen,
                              seed: options.seed, motionScale: options.controls.motionScale, still: options.controls.still)
        } else {
            let silence = SpeechFeatures(hopSeconds: 0.01, count: 0, bandCount: 0, bandCentreHz: [], levelDB: [],
                                         logMel: [], centroidHz: [], tiltDBPerOctave: [], zeroCrossingRate: [],
                                         periodicity: [], f0Hz: [], voiced: [])
            head = HeadMotion(features: silence, activity: SpeechActivity(levels: [], hopSeconds: 0.01), jaw: [],
                              seed: options.seed, motionScale: options.controls.motionScale, still: options.controls.still)
        }
        var frames = [MotionFrame]()
        frames.reserveCapacity(count)
        for n in 0..<count {
            let t = Double(n) / fps
            var frame = MotionFrame(time: t)
            if withMouth, let mouth = analysis?.mouth {
                Self.applyMouth(mouth, at: t + Self.mouthLead, to: &frame.blendshapes)
            }
            let blink = blinks.value(at: t)
            frame.blendshapes[.eyeBlinkLeft] = blink
            frame.blendshapes[.eyeBlinkRight] = blink
            let pose = head.pose(at: t)
            frame.blendshapes[.browInnerUp] = pose.browInnerUp
            frame.blendshapes[.browOuterUpLeft] = pose.browOuterUp
            frame.blendshapes[.browOuterUpRight] = pose.browOuterUp
            frame.headPitch = pose.pitch
            frame.headYaw = pose.yaw
            frame.headRoll = pose.roll
            frame.translation = pose.translation
            frames.append(frame)
        }
        return frames
    }

    /// Like ``frames(for:)`` but throws ``MotionError`` for options or audio it would otherwise tolerate:
    /// an fps outside (0, 1000], controls out of range (``MotionControls/validate()``), a rate below 8 kHz, a NaN
    /// or infinite sample.
    public func checkedFrames(for audio: AudioBuffer) throws -> [MotionFrame] {
        guard options.fps.isFinite, options.fps > 0, options.fps <= MotionOptions.maximumFPS else {
            throw MotionError.invalidOptions("fps \(options.fps) must be above 0 and at most \(Int(MotionOptions.maximumFPS))")
        }
        guard audio.sampleRate >= 8000 else { throw MotionError.unsupportedSampleRate(audio.sampleRate) }
        if let bad = audio.samples.firstIndex(where: { !$0.isFinite }) { throw MotionError.nonFiniteSample(index: bad) }
        try options.controls.validate()
        return frames(for: audio)
    }

    /// Features, speech activity and mouth tracks of `audio`; nil when its rate is below 8 kHz.
    public func analyse(_ audio: AudioBuffer) -> SpeechAnalysis? {
        guard let extractor = try? SpeechFeatureExtractor(sampleRate: audio.sampleRate) else { return nil }
        let samples = audio.samples.contains(where: { !$0.isFinite })
            ? audio.samples.map { $0.isFinite ? $0 : 0 } : audio.samples
        let features = extractor.extract(samples)
        let activity = SpeechActivity(levels: features.levelDB, voiced: features.voiced, hopSeconds: features.hopSeconds)
        let mouth = MouthArticulation(features: features, activity: activity)
        return SpeechAnalysis(features: features, activity: activity, mouth: mouth)
    }

    static func applyMouth(_ m: MouthArticulation, at t: Double, to w: inout BlendshapeWeights) {
        let step = m.hopSeconds
        // Exactly zero wherever the gate is closed on both neighbouring hops.
        guard SignalTools.sample(m.gate, step: step, at: t) > 0 else { return }
        func s(_ track: [Float]) -> Float { SignalTools.sample(track, step: step, at: t) }
        w[.jawOpen] = s(m.jawOpen)
        w[.mouthClose] = s(m.mouthClose)
        let press = s(m.mouthPress)
        w[.mouthPressLeft] = press
        w[.mouthPressRight] = press
        w[.mouthFunnel] = s(m.mouthFunnel)
        w[.mouthPucker] = s(m.mouthPucker)
        let stretch = s(m.mouthStretch)
        w[.mouthStretchLeft] = stretch
        w[.mouthStretchRight] = stretch
        let smile = s(m.mouthSmile)
        w[.mouthSmileLeft] = smile
        w[.mouthSmileRight] = smile
        let lower = s(m.mouthLowerDown)
        w[.mouthLowerDownLeft] = lower
        w[.mouthLowerDownRight] = lower
        let upper = s(m.mouthUpperUp)
        w[.mouthUpperUpLeft] = upper
        w[.mouthUpperUpRight] = upper
    }
}
