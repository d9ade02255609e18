import Foundation
import ParlaFace
import ParlaIO
import ParlaMedia
import ParlaModel
import ParlaMotion
import ParlaRender

/// `parla bench`: the field testers' benchmark. One fixed, versioned scenario, so reports from different devices
/// compare: the bundled portrait is prepared, the first 10 s of the bundled speech drive the motion, and every
/// frame is decoded at 512×512 and presented to the null sink through the same blit the panel path does (into
/// an in-memory 1920×1080 XRGB8888 buffer, letterboxed); where a display exists they are then shown on it, one
/// per page flip. See docs/bench.md.
public struct FieldBench {
    /// Changes whenever the content, sizes or what is timed change; reports with different ids do not compare.
    public static let scenario = "parla-bench-2 (portrait.jpg, speech.wav 0-10 s, 512x512 @ 30 fps, seed 1, null sink via 1920x1080 blit)"
    public static let speechSeconds = 10.0
    public static let size = 512
    public static let fps = 30.0
    /// The screen the present stage blits into.
    public static let screen = (width: 1920, height: 1080)
    /// The refresh period assumed for the sound-to-photon estimate (60 Hz).
    public static let refreshSeconds = 1.0 / 60
    /// The capture period assumed for the sound-to-photon estimate (what `parla live --mic` asks ALSA for).
    public static let capturePeriodSeconds = Double(LiveMicrophone.periodMilliseconds) / 1000

    public var profile: BoardProfile?
    /// Where a display exists, present the same frames on it too (decode + blit + page flip on vblank); false:
    /// null sink only.
    public var panel = true
    /// Called with progress lines (one per stage).
    public var log: (String) -> Void = { _ in }

    public init(profile: BoardProfile?) {
        self.profile = profile
    }

    /// Runs the scenario and returns its report.
    public func run() throws -> BenchReport {
        let sampler = SystemSampler(interval: 0.2)
        sampler.start()
        defer { sampler.stop() }
        let thermalStart = ThermalState.read()
        var stages: [BenchStage] = []
        func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
            let t0 = MonotonicTime.seconds()
            let value = try body()
            return (value, (MonotonicTime.seconds() - t0) * 1000)
        }

        // Prepare: portrait decode, face analysis, avatar build (what `parla prepare` does).
        log("prepare: analysing the bundled portrait")
        let portraitURL = try DemoContent.portrait
        let (avatar, prepareMs) = try timed { () throws -> Avatar in
            let image = try PortraitPreparation.decode(portraitURL)
            let analysis = try PortraitPreparation.analyze(image, source: portraitURL)
            return try PortraitPreparation.avatar(from: image, analysis: analysis, source: portraitURL)
        }
        stages.append(BenchStage(name: "prepare", ms: prepareMs, perFrameMs: nil,
                                 note: "portrait decode + face analysis + avatar build, once per avatar"))

        // Front end: WAV decode, the first 10 s, resampling to 16 kHz, VisemeNet's log-mel features.
        log("front end: 10 s of the bundled speech")
        let speechURL = try DemoContent.speech
        let options: MotionOptions = {
            var o = MotionOptions()
            o.fps = Self.fps
            o.seed = 1
            return o
        }()
        let composer = MotionComposer(options: options)
        let (audio, loadMs) = try timed { () throws -> AudioBuffer in
            let clip = try WAVFile.read(contentsOf: speechURL)
            let keep = min(clip.samples.count, Int(Self.speechSeconds * Double(clip.sampleRate)))
            let trimmed = AudioBuffer(sampleRate: clip.sampleRate, samples: Array(clip.samples[0..<keep]))
            return trimmed.resampledForAnalysis()
        }
        let (mel, melMs) = timed { VisemeFrontEnd().analyse(audio.samples) }
        stages.append(BenchStage(name: "front_end", ms: loadMs + melMs, perFrameMs: nil,
                                 note: "WAV decode, resample to 16 kHz, 80-band log-mel every 10 ms for 10 s"))

        // VisemeNet: log-mel → viseme posteriors, the default mouth driver.
        log("visemenet")
        let net = try VisemeNet.bundled()
        let (track, netMs) = timed { net.posteriors(logMel: mel.logMel) }
        stages.append(BenchStage(name: "visemenet", ms: netMs, perFrameMs: nil,
                                 note: "\(net.parameterCount / 1000) k parameters, \(track.frameCount) hops of 10 ms → viseme posteriors"))

        // Composer: coarticulation, head, brows, blinks → a MotionFrame per video frame (what `parla render` uses).
        // frames(for:visemes:) runs the front end again for the jaw levels, so its own share is the difference.
        log("composer")
        let (frames, composeMs) = timed { composer.frames(for: audio, visemes: track) }
        stages.append(BenchStage(name: "composer", ms: max(0, composeMs - melMs), perFrameMs: nil,
                                 note: "coarticulation, head, brows, blinks, blendshapes"))
        guard !frames.isEmpty else { throw RuntimeError("bench: the bundled speech gave no frames (too short?)") }

        // Decode and present, frame by frame.
        log("decode + present: \(frames.count) frames at \(Self.size)x\(Self.size)")
        // The board's worker threads (its profile's `threads`), as `parla live` decodes there; one without a profile.
        let threads = profile?.threads ?? 1
        let decoder = try CPUFrameDecoder(avatar: avatar, width: Self.size, height: Self.size, threads: threads)
        let layout = try FrameLayout(sourceWidth: Self.size, sourceHeight: Self.size, targetWidth: Self.screen.width,
                                     targetHeight: Self.screen.height, rotation: .degrees0, fit: .contain)
        let background = RGBColor(red: 0, green: 0, blue: 0)
        let blitter = FrameBlitter(layout: layout, background: background)
        let pitch = Self.screen.width * 4
        let screen = UnsafeMutableRawPointer.allocate(byteCount: pitch * Self.screen.height, alignment: 64)
        defer { screen.deallocate() }
        let sink = NullSink()
        var picture = RGBAImage(width: Self.size, height: Self.size)
        var decodeMs: [Double] = [], presentMs: [Double] = [], frameStart: [Double] = []
        decodeMs.reserveCapacity(frames.count)
        let cpuBefore = CPUTimes.now()
        let loopStart = MonotonicTime.seconds()
        for (n, frame) in frames.enumerated() {
            let t0 = MonotonicTime.seconds()
            try decoder.decode(frame, into: &picture)
            let t1 = MonotonicTime.seconds()
            try sink.write(picture)
            blitter.blit(picture, into: screen, pitch: pitch, background: n == 0)
            let t2 = MonotonicTime.seconds()
            frameStart.append(t0)
            decodeMs.append((t1 - t0) * 1000)
            presentMs.append((t2 - t1) * 1000)
            sampler.mark(frameTimeMs: (t2 - t0) * 1000, at: t2)
        }
        let loopSeconds = MonotonicTime.seconds() - loopStart
        let cpuLoad = CPUTimes.now().load(since: cpuBefore)
        try sink.finish()
        guard sink.framesWritten == frames.count, !frames.isEmpty else {
            throw RuntimeError("bench: \(sink.framesWritten) of \(frames.count) frames reached the sink")
        }
        stages.append(BenchStage(name: "decode", ms: decodeMs.reduce(0, +), perFrameMs: decodeMs.reduce(0, +) / Double(frames.count),
                                 note: "CPU frame decoder, \(Self.size)x\(Self.size), \(threads) thread\(threads == 1 ? "" : "s")"))
        stages.append(BenchStage(name: "present", ms: presentMs.reduce(0, +), perFrameMs: presentMs.reduce(0, +) / Double(frames.count),
                                 note: "null sink + letterbox blit into a 1920x1080 XRGB8888 buffer (no flip)"))

        // The panel: the same frames decoded again and flipped on the display, where one exists.
        var panelNote = Self.panelNote()
        if panel, panelNote.hasPrefix("display present") {
            log("panel: the same \(frames.count) frames on the display")
            do {
                let run = try presentOnPanel(frames, decoder: decoder, picture: &picture)
                stages.append(run.stage)
                panelNote = run.note
            } catch {
                panelNote = "display present but not usable: \(error)"
            }
        } else if !panel {
            panelNote = "not measured (--no-panel)"
        }

        let frameMs = zip(decodeMs, presentMs).map { $0 + $1 }
        let stats = FrameTimeStats(frameMs: frameMs, loopSeconds: loopSeconds)
        let photon = SoundToPhoton(
            capturePeriodMs: Self.capturePeriodSeconds * 1000,
            lookAheadMs: StreamingMotionComposer.latency(fps: Self.fps, net: net, mouthLookAhead: Coarticulation.lowLatencyLookAhead,
                                                         timing: .newestHop) * 1000,
            frameP50Ms: stats.p50Ms, scanoutMs: Self.refreshSeconds * 1000)
        sampler.stop()
        let start = frameStart.first ?? loopStart
        return BenchReport(
            scenario: Self.scenario, parlaVersion: ParlaVersion.string,
            date: ISO8601DateFormatter().string(from: Date()),
            system: SystemIdentity.current(), boardProfile: profile?.id, frameBudgetMs: profile?.frameBudgetMs,
            width: Self.size, height: Self.size, fps: Self.fps, frames: frames.count,
            audioSeconds: Double(frames.count) / Self.fps, stages: stages, frameTimes: stats, soundToPhoton: photon,
            cpuLoadPercent: cpuLoad, peakRSSMiB: peakResidentMiB(), thermalStart: thermalStart, thermalEnd: ThermalState.read(),
            panel: panelNote,
            samples: sampler.samples().map { BenchSample(t: $0.time - start, frameMs: $0.frameMs, temperatureC: $0.temperatureC, cpuMHz: $0.cpuMHz) })
    }

    /// What the report says about the panel before trying it.
    static func panelNote() -> String {
        let cards = ((try? FileManager.default.contentsOfDirectory(atPath: DRMCard.defaultDirectory)) ?? []).filter { $0.hasPrefix("card") }
        if cards.isEmpty { return "no display (no \(DRMCard.defaultDirectory)/card*): null sink only" }
        return "display present (\(cards.sorted().joined(separator: ", ")))"
    }

    /// Takes the first connected display at its preferred mode (DRM master, atomic where the driver has it), shows
    /// `frames` letterboxed on it one per flip — decode, blit into the back dumb buffer, page flip, wait for the
    /// flip event — and restores the CRTC it found. Ctrl-C stops early (and restores). The stage's per-frame time is
    /// the median interval between flips.
    func presentOnPanel(_ frames: [MotionFrame], decoder: CPUFrameDecoder, picture: inout RGBAImage) throws -> (stage: BenchStage, note: String) {
        let card = try DRMCard.find(connector: nil, master: true, atomic: true)
        let black = RGBColor(red: 0, green: 0, blue: 0)
        let display = try KMSDisplay(card: card, connector: nil, mode: .preferred, interface: .auto, background: black)
        defer { _ = try? display.restore() }
        let layout = try FrameLayout(sourceWidth: Self.size, sourceHeight: Self.size, targetWidth: display.width,
                                     targetHeight: display.height, rotation: .degrees0, fit: .contain)
        let blitter = FrameBlitter(layout: layout, background: black)
        let stop = StopSignal(handlingSignals: true)
        var shown = 0, lost = 0
        var flipTimes: [Double] = []
        flipTimes.reserveCapacity(frames.count + 1)
        let start = MonotonicTime.seconds()
        try display.run(stop: stop) { target, timing in
            if timing.flips > 0 { flipTimes.append(timing.lastFlipTime) }
            lost = timing.lost
            guard shown < frames.count else { return .stop }
            try decoder.decode(frames[shown], into: &picture)
            blitter.blit(picture, into: target.pixels, pitch: target.pitch, background: shown < 2)
            shown += 1
            return .present
        }
        let seconds = MonotonicTime.seconds() - start
        let intervals = zip(flipTimes.dropFirst(), flipTimes).map { ($0 - $1) * 1000 }.sorted()
        let p50 = intervals.isEmpty ? seconds * 1000 / Double(max(shown, 1)) : intervals[intervals.count / 2]
        let fps = seconds > 0 ? Double(flipTimes.count) / seconds : 0
        let place = "\(card.path) \(display.connector.name) \(display.mode)"
        let stage = BenchStage(name: "panel", ms: seconds * 1000, perFrameMs: p50,
                               note: "decode + blit + page flip on vblank, \(place) (ms/frame: median flip interval)")
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        let note = "\(place): \(flipTimes.count) of \(frames.count) frames flipped in \(f(seconds)) s (\(String(format: "%.1f", fps)) fps, "
            + "median flip interval \(f(p50)) ms, refresh \(f(1000 / display.mode.refreshRate)) ms), \(lost) lost"
        return (stage, note)
    }
}

/// One stage's time. `ms` nil: the stage does not exist in this build.
public struct BenchStage: Codable, Sendable, Equatable {
    public var name: String
    public var ms: Double?
    public var perFrameMs: Double?
    public var note: String
}

/// Frame time (decode + present) statistics over the render loop.
public struct FrameTimeStats: Codable, Sendable, Equatable {
    public var meanMs: Double
    public var p50Ms: Double
    public var p90Ms: Double
    public var p99Ms: Double
    public var maxMs: Double
    /// Frames per second over the whole loop.
    public var fpsMean: Double
    /// 1000 / mean of the slowest 1 % of frame times (at least one frame): the "1 % low".
    public var fpsP1Low: Double
    /// Every frame's time in ms, in order.
    public var perFrameMs: [Double]

    public init(frameMs: [Double], loopSeconds: Double) {
        let sorted = frameMs.sorted()
        func pct(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(sorted.count - 1, max(0, rank))]
        }
        meanMs = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count)
        p50Ms = pct(50)
        p90Ms = pct(90)
        p99Ms = pct(99)
        maxMs = sorted.last ?? 0
        fpsMean = loopSeconds > 0 ? Double(frameMs.count) / loopSeconds : 0
        let slowest = sorted.suffix(max(1, sorted.count / 100))
        let slowMean = slowest.isEmpty ? 0 : slowest.reduce(0, +) / Double(slowest.count)
        fpsP1Low = slowMean > 0 ? 1000 / slowMean : 0
        perFrameMs = frameMs
    }
}

/// An estimate (not a measurement) of the time from a sound reaching the microphone to the matching mouth on the
/// screen with `parla live --mic`: one capture period, the streaming composer's look-ahead with the microphone's
/// coarticulation and frame timing (``StreamingMotionComposer/latency(fps:net:mouthLookAhead:timing:)``, the same at
/// any fps), the median frame time (decode +
/// present) and one refresh of scan-out at 60 Hz. The sound device's own buffering is not included.
public struct SoundToPhoton: Codable, Sendable, Equatable {
    public var capturePeriodMs: Double
    public var lookAheadMs: Double
    public var frameP50Ms: Double
    public var scanoutMs: Double
    public var totalMs: Double { capturePeriodMs + lookAheadMs + frameP50Ms + scanoutMs }

    enum CodingKeys: String, CodingKey { case capturePeriodMs, lookAheadMs, frameP50Ms, scanoutMs, totalMs }

    public init(capturePeriodMs: Double, lookAheadMs: Double, frameP50Ms: Double, scanoutMs: Double) {
        self.capturePeriodMs = capturePeriodMs
        self.lookAheadMs = lookAheadMs
        self.frameP50Ms = frameP50Ms
        self.scanoutMs = scanoutMs
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        capturePeriodMs = try c.decode(Double.self, forKey: .capturePeriodMs)
        lookAheadMs = try c.decode(Double.self, forKey: .lookAheadMs)
        frameP50Ms = try c.decode(Double.self, forKey: .frameP50Ms)
        scanoutMs = try c.decode(Double.self, forKey: .scanoutMs)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(capturePeriodMs, forKey: .capturePeriodMs)
        try c.encode(lookAheadMs, forKey: .lookAheadMs)
        try c.encode(frameP50Ms, forKey: .frameP50Ms)
        try c.encode(scanoutMs, forKey: .scanoutMs)
        try c.encode(totalMs, forKey: .totalMs)
    }
}

/// One point of the timeline: a frame's time (when one finished) and/or the thermal state.
public struct BenchSample: Codable, Sendable, Equatable {
    /// Seconds since the first frame started (negative: before the render loop).
    public var t: Double
    public var frameMs: Double?
    public var temperatureC: Double?
    public var cpuMHz: Double?
}

/// The whole report (`parla bench --json`).
public struct BenchReport: Codable, Sendable {
    public var scenario: String
    public var parlaVersion: String
    public var date: String
    public var system: SystemIdentity
    public var boardProfile: String?
    public var frameBudgetMs: Double?
    public var width: Int
    public var height: Int
    public var fps: Double
    public var frames: Int
    public var audioSeconds: Double
    public var stages: [BenchStage]
    public var frameTimes: FrameTimeStats
    public var soundToPhoton: SoundToPhoton
    public var cpuLoadPercent: [Double]
    public var peakRSSMiB: Double
    public var thermalStart: ThermalState
    public var thermalEnd: ThermalState
    public var panel: String
    public var samples: [BenchSample]

    public func stage(_ name: String) -> BenchStage? { stages.first { $0.name == name } }

    /// Reads a report written by `parla bench --json`.
    public static func read(_ url: URL) throws -> BenchReport {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw RuntimeError("\(url.path): cannot read the bench report")
        }
        do {
            return try JSONDecoder().decodeUntrusted(BenchReport.self, from: data)
        } catch {
            throw RuntimeError("\(url.path): not a parla bench --json report")
        }
    }

    /// The report as pretty, key-sorted JSON.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

/// Monotonic seconds (CLOCK_MONOTONIC through DispatchTime).
enum MonotonicTime {
    static func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}

/// Samples the thermal state every `interval` seconds on a background thread, and collects frame times.
final class SystemSampler: @unchecked Sendable {
    struct Point { var time: Double; var frameMs: Double?; var temperatureC: Double?; var cpuMHz: Double? }
    private let lock = NSLock()
    private var points: [Point] = []
    private var running = false
    private var thread: Thread?
    private let interval: Double

    init(interval: Double) { self.interval = interval }

    func start() {
        lock.lock(); running = true; lock.unlock()
        let t = Thread { [self] in
            while true {
                let state = ThermalState.read()
                lock.lock()
                let keepGoing = running
                if keepGoing {
                    points.append(Point(time: MonotonicTime.seconds(), frameMs: nil, temperatureC: state.temperatureC, cpuMHz: state.cpuMHz))
                }
                lock.unlock()
                if !keepGoing { return }
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread = t
        t.start()
    }

    func mark(frameTimeMs: Double, at time: Double) {
        lock.lock(); points.append(Point(time: time, frameMs: frameTimeMs)); lock.unlock()
    }

    func stop() {
        lock.lock(); running = false; lock.unlock()
    }

    func samples() -> [Point] {
        lock.lock(); defer { lock.unlock() }
        return points.sorted { $0.time < $1.time }
    }
}
