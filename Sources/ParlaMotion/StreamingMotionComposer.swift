import Foundation
import ParlaMedia

/// Live audio → motion: push 16 kHz mono samples as they are captured, get every ``MotionFrame`` whose time is
/// now fully determined. Mouth: ``VisemeFrontEnd`` → ``VisemeNet`` → ``Coarticulation`` streams, the same
/// arithmetic as the batch path. Head, brows and blinks come from a causal model (no whole-clip percentiles):
/// seeded wander and breathing, nods on syllable peaks of the jaw, brow raises on the strongest ones, blinks
/// at Erlang intervals and after phrase ends; then ``MotionControls``.
///
/// Latency: a frame is returned once the samples up to its time + `latency(fps:)` were pushed: 12.5 ms analysis
/// window + the network's look-ahead (40 ms) + the coarticulation look-ahead (`mouthLookAhead` hops: 50 ms
/// standard, 10 ms for a microphone) + what the frame timing reads past the frame's time: with ``FrameTiming/videoGrid``
/// half a video frame (at least one 10 ms hop, for interpolation) — 119 ms at 30 fps standard —, with
/// ``FrameTiming/newestHop`` nothing — 62.5 ms at any fps with the microphone's look-ahead.
public struct StreamingMotionComposer: Sendable {
    /// When frames are and what of the mouth they show.
    public enum FrameTiming: Sendable, Equatable {
        /// Frame n at n / fps, the mouth interpolated between the hops around it and the p/b/m closure taken over
        /// its own interval [t − ½/fps, t + ½/fps]: the batch composer's frames, for audio played in sync.
        case videoGrid
        /// For a display that shows the newest frame available (the microphone): frame n is the first 10 ms hop at
        /// or after n / fps (hops without one are skipped, so `fps` frames a second up to 100), its mouth is that
        /// hop's, and its closure the maximum over the hops since the previous frame. Nothing after the hop is read,
        /// so a frame is out as soon as its hop is; every p/b/m hop still closes the lips on a frame (shown up to
        /// one frame interval after it, where ``videoGrid`` shows it within half a frame either way).
        case newestHop
    }

    /// The options in force.
    public let options: MotionOptions
    /// The frame timing in force.
    public let timing: FrameTiming
    private let net: VisemeNet
    private var frontEnd: VisemeFrontEnd.Stream
    private var netStream: VisemeNet.Stream
    private var coarticulation: Coarticulation.Stream
    private var mel = VisemeFrontEnd.Frames()
    private var levels: [Float] = []          // levels of hops not yet paired with posteriors
    private var posteriorScratch: [Float] = []
    private var mouth = Coarticulation.Output()
    private var mouthBase = 0                 // hop index of mouth row 0
    private var head: CausalHead
    private var nextFrame = 0
    private var nextHop = 0                   // .newestHop: the next hop to look at
    private var lastFrameHop = -1             // .newestHop: the hop of the last frame returned
    private let controls: MotionControls
    private var saccades: [(Double, SIMD2<Float>)] = [(0, .zero)]
    private var saccadeRandom: MotionRandom

    /// Seconds of audio after a frame's time that must have arrived before the frame is returned.
    public static func latency(fps: Double, net: VisemeNet? = nil,
                               mouthLookAhead: Int = Coarticulation.standardLookAhead,
                               timing: FrameTiming = .videoGrid) -> Double {
        let look = Double(net?.lookAheadFrames ?? 4)
        let mouth = Double(Coarticulation.clampedLookAhead(mouthLookAhead))
        let frame: Double = timing == .videoGrid ? max(0.5 / fps, 0.01) : 0
        return 0.0125 + look * 0.01 + mouth * 0.01 + frame
    }

    /// Whether hop `hop` carries a frame with ``FrameTiming/newestHop``: some n / fps lies in ((hop − 1)·10 ms, hop·10 ms].
    public static func hopHasFrame(_ hop: Int, fps: Double) -> Bool {
        (Double(hop) * fps / 100).rounded(.down) > (Double(hop - 1) * fps / 100).rounded(.down)
    }

    /// A composer with `options` and `net` (the bundled model when nil) whose coarticulation reads
    /// `mouthLookAhead` hops ahead (``Coarticulation/standardLookAhead`` gives the batch composer's mouth) and whose
    /// frames are timed by `timing`. Throws when the bundled model cannot be loaded or the options are invalid (see
    /// ``MotionComposer/checkedFrames(for:)``).
    public init(options: MotionOptions, net: VisemeNet? = nil,
                mouthLookAhead: Int = Coarticulation.standardLookAhead, timing: FrameTiming = .videoGrid) throws {
        guard options.fps.isFinite, options.fps > 0, options.fps <= MotionOptions.maximumFPS else {
            throw MotionError.invalidOptions("fps \(options.fps) must be above 0 and at most \(Int(MotionOptions.maximumFPS))")
        }
        self.options = options
        self.timing = timing
        self.net = try net ?? VisemeNet.bundled()
        let fe = VisemeFrontEnd()
        frontEnd = fe.makeStream()
        netStream = self.net.makeStream(precision: options.visemePrecision)
        coarticulation = Coarticulation.Stream(lookAhead: mouthLookAhead)
        head = CausalHead(seed: options.seed, motionScale: options.controls.motionScale, still: options.controls.still)
        controls = options.controls
        saccadeRandom = MotionRandom(seed: options.seed, stream: 0x5ACC)
    }

    /// Pushes captured samples (16 kHz mono; non-finite samples count as 0) and returns the frames completed.
    public mutating func push(samples16k samples: [Float]) -> [MotionFrame] {
        mel.logMel.removeAll(keepingCapacity: true)
        mel.levelDB.removeAll(keepingCapacity: true)
        frontEnd.append(samples, to: &mel)
        levels.append(contentsOf: mel.levelDB)
        posteriorScratch.removeAll(keepingCapacity: true)
        netStream.push(logMel: mel.logMel, into: &posteriorScratch)
        consumePosteriors()
        return emit(final: false)
    }

    /// Ends the stream as if silence followed and returns the remaining frames up to the audio's end.
    public mutating func finish() -> [MotionFrame] {
        posteriorScratch.removeAll(keepingCapacity: true)
        netStream.finish(into: &posteriorScratch)
        consumePosteriors()
        coarticulation.finish(into: &mouth)
        return emit(final: true)
    }

    private mutating func consumePosteriors() {
        let rows = posteriorScratch.count / VisemeTrack.classCount
        for r in 0..<rows {
            let level = levels.isEmpty ? -120 : levels.removeFirst()
            let row = posteriorScratch[(r * VisemeTrack.classCount)..<((r + 1) * VisemeTrack.classCount)]
            coarticulation.push(posteriors: row, level: level, into: &mouth)
        }
    }

    private mutating func emit(final: Bool) -> [MotionFrame] {
        timing == .videoGrid ? emitVideoGrid(final: final) : emitNewestHop()
    }

    /// ``FrameTiming/newestHop``: a frame on every hop that has one, as soon as the hop's mouth is out (at the end
    /// too: the coarticulation's flush gives the last hops).
    private mutating func emitNewestHop() -> [MotionFrame] {
        let available = mouthBase + mouth.count     // hops with mouth output
        var out = [MotionFrame]()
        while nextHop < available {
            let hop = nextHop
            nextHop += 1
            guard Self.hopHasFrame(hop, fps: options.fps) else { continue }
            let t = Double(hop) / 100
            while head.hops <= hop { stepHead() }
            var frame = MotionFrame(time: t)
            MotionComposer.applyHopMouth(mouth, hop: hop, closureFrom: lastFrameHop + 1, firstHop: mouthBase, to: &frame.blendshapes)
            finish(&frame, at: t)
            out.append(frame)
            lastFrameHop = hop
        }
        trim(keepFrom: lastFrameHop + 1 - 4, now: Double(lastFrameHop + 1) / 100)
        return out
    }

    /// Advances the causal head model by one hop.
    private mutating func stepHead() {
        let k = head.hops - mouthBase
        head.step(jaw: mouth.value(.jaw, at: k), speech: mouth.value(.jaw, at: k) > 0.02 || mouth.closure(at: k) > 0)
    }

    /// Head, blinks, brows, then saccades and the controls for the frame at `t`.
    private mutating func finish(_ frame: inout MotionFrame, at t: Double) {
        head.apply(to: &frame, at: t)
        while let lastSaccade = saccades.last, lastSaccade.0 <= t + 2 {
            let gap = saccades.count == 1 ? saccadeRandom.uniform(0.3...1.5) : max(0.35, saccadeRandom.erlang(shape: 2, mean: 1.4))
            saccades.append((lastSaccade.0 + gap,
                             SIMD2<Float>(Float(saccadeRandom.uniform(-0.08...0.08)), Float(saccadeRandom.uniform(-0.05...0.05)))))
        }
        controls.apply(to: &frame, saccades: saccades)
    }

    /// Drops the mouth rows before hop `keepFrom` (in blocks of 400) and the saccades over a second before `now`,
    /// keeping the one in force then and the one before it (``MotionControls`` blends from it; without it the blend
    /// would start from the current one, and the eyes would depend on how the audio was chunked).
    private mutating func trim(keepFrom: Int, now: Double) {
        if keepFrom - mouthBase > 400 {
            let drop = keepFrom - mouthBase
            mouth.values.removeFirst(drop * Coarticulation.Output.stride)
            mouthBase += drop
            if let firstNeeded = saccades.firstIndex(where: { $0.0 > now - 1 }), firstNeeded > 2 {
                saccades.removeFirst(firstNeeded - 2)
            }
        }
    }

    /// ``FrameTiming/videoGrid``.
    private mutating func emitVideoGrid(final: Bool) -> [MotionFrame] {
        let fps = options.fps
        let available = mouthBase + mouth.count     // hops with mouth output
        var out = [MotionFrame]()
        while true {
            let t = Double(nextFrame) / fps
            // Hops this frame reads: the two around t (interpolation) and those within half a frame (closure).
            let position = t / VisemeTrack.frameSeconds
            let need = max(Int((position + 0.5 / fps / VisemeTrack.frameSeconds).rounded(.down)), Int(position.rounded(.down)) + 1) + 1
            if final {
                guard Double(nextFrame) / fps < Double(available) * VisemeTrack.frameSeconds else { break }
            } else {
                guard need <= available else { break }
            }
            // Advance the causal head model through every hop up to this frame.
            while head.hops < min(available, Int(t / VisemeTrack.frameSeconds) + 1) { stepHead() }
            var frame = MotionFrame(time: t)
            MotionComposer.applyVisemeMouth(mouth, at: t, fps: fps, firstHop: mouthBase, to: &frame.blendshapes)
            finish(&frame, at: t)
            out.append(frame)
            nextFrame += 1
        }
        // Keep only the hops later frames can still read (plus a margin).
        let keepFrom = Int((Double(nextFrame) / fps / VisemeTrack.frameSeconds).rounded(.down)) - Int(1 / fps / VisemeTrack.frameSeconds) - 4
        trim(keepFrom: keepFrom, now: Double(nextFrame) / fps)
        return out
    }
}

/// The causal head model of ``StreamingMotionComposer``: stepped once per 10 ms hop with the jaw opening.
struct CausalHead: Sendable {
    private(set) var hops = 0
    private let scale: Float
    private let still: Bool
    private var activity: Float = 0
    private var jawHistory: [Float] = [0, 0]
    private var lastNod = -10.0
    private var nods: [(time: Double, amplitude: Float, brow: Float)] = []
    private var random: MotionRandom
    private let wander: [(frequency: Double, amplitude: Float, phase: Double)]
    private let breathing: Double
    private var blinks: [Double] = []
    private var nextBlink: Double
    private var wasSpeaking = false
    private var silentSince = 0.0

    init(seed: UInt64, motionScale: Float, still: Bool) {
        scale = motionScale.isFinite ? max(motionScale, 0) : 0
        self.still = still
        random = MotionRandom(seed: seed, stream: 0x4EAD)
        var w = [(Double, Float, Double)]()
        let table: [(ClosedRange<Double>, Float)] = [(0.05...0.11, 0.55), (0.13...0.23, 0.30), (0.04...0.09, 0.90),
                                                     (0.11...0.20, 0.45), (0.05...0.10, 0.40), (0.12...0.22, 0.20)]
        for (range, amplitude) in table { w.append((random.uniform(range), amplitude, random.uniform(0...(2 * .pi)))) }
        wander = w
        breathing = random.uniform(0.22...0.28)
        nextBlink = random.uniform(0.4...2.5)
    }

    /// One hop: activity, nod detection (a jaw peak above 0.3 at least 0.35 s after the last nod), blinks.
    mutating func step(jaw: Float, speech: Bool) {
        let t = Double(hops) * 0.01
        activity += 0.033 * ((speech ? 1 : 0) - activity)
        let (a, b) = (jawHistory[0], jawHistory[1])
        if b > 0.3, b >= jaw, b > a, t - lastNod > 0.35 {
            let amplitude = Float(random.uniform(0.7...1.2)) * min(1, b / 0.5)
            nods.append((t - 0.01, amplitude, b > 0.45 ? amplitude : 0))
            lastNod = t
        }
        jawHistory = [b, jaw]
        nods.removeAll { t - $0.time > 1 }
        // Blinks: Erlang intervals, and a likely one soon after a phrase ends.
        if speech { silentSince = t; wasSpeaking = true }
        if wasSpeaking, !speech, t - silentSince > 0.15 {
            wasSpeaking = false
            if random.unit() < 0.7, (blinks.last ?? -10) + 1.2 < t { nextBlink = min(nextBlink, t + random.uniform(0.0...0.15)) }
        }
        if t >= nextBlink {
            blinks.append(t)
            if random.unit() < 0.125 { blinks.append(t + random.uniform(0.32...0.42)) }
            nextBlink = t + max(1.2, random.erlang(shape: 3, mean: 3.4))
        }
        blinks.removeAll { t - $0 > 1 }
        hops += 1
    }

    func apply(to frame: inout MotionFrame, at t: Double) {
        var blink: Float = 0
        for start in blinks { blink = max(blink, BlinkSchedule.shape(t - start)) }
        frame.blendshapes[.eyeBlinkLeft] = blink
        frame.blendshapes[.eyeBlinkRight] = blink
        var pitch: Float = 0, brow: Float = 0
        for nod in nods {
            pitch += 2.0 * nod.amplitude * HeadMotion.bump((t - nod.time + 0.10) / 0.45)
            brow += 0.25 * nod.brow * HeadMotion.bump((t - nod.time + 0.20) / 0.70)
        }
        let liveliness = 0.8 + 0.5 * activity
        func w(_ i: Int) -> Float { wander[i].amplitude * Float(sin(2 * .pi * wander[i].frequency * t + wander[i].phase)) }
        let breath = Float(sin(2 * .pi * breathing * t))
        pitch += (w(0) + w(1)) * liveliness + 0.2 * breath * (1 - 0.5 * activity)
        let yaw = (w(2) + w(3)) * liveliness
        let roll = (w(4) + w(5)) * liveliness
        frame.blendshapes[.browInnerUp] = brow * min(scale, 2)
        frame.blendshapes[.browOuterUpLeft] = 0.7 * brow * min(scale, 2)
        frame.blendshapes[.browOuterUpRight] = 0.7 * brow * min(scale, 2)
        guard !still else { return }
        func limit(_ x: Float, _ a: Float) -> Float { a * tanh(x / a) * scale * Float.pi / 180 }
        frame.headPitch = limit(pitch, HeadMotion.pitchLimitDegrees)
        frame.headYaw = limit(yaw, HeadMotion.yawLimitDegrees)
        frame.headRoll = limit(roll, HeadMotion.rollLimitDegrees)
        frame.translation = SIMD2(0.06 * frame.headYaw, 0.04 * frame.headPitch + 0.0015 * scale * breath * (1 - 0.5 * activity))
    }
}
