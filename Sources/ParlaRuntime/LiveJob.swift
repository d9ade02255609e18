import Foundation
import ParlaIO
import ParlaMedia
import ParlaMotion
import ParlaRender

/// Everything `parla live` can be asked for.
public struct LiveOptions: LivePanelSettings, Sendable {
    /// The prepared avatar file (used by the default decoder).
    public var avatar: URL?
    /// The speech to play (WAV).
    public var audio: URL
    /// Play the clip again and again instead of idling after it.
    public var loop = false
    /// Connector name ("HDMI-A-1", "Virtual-1"); nil takes the first connected one.
    public var output: String?
    /// `output` came from a board profile: a preference, not a demand (``LivePanelSettings/outputIsPreference``).
    public var outputIsPreference = false
    /// The screen mode (`--mode`).
    public var mode: ModeRequest = .preferred
    /// How the picture is turned (`--rotate`).
    public var rotation: Rotation = .degrees0
    /// How the picture is scaled into the mode (`--fit`).
    public var fit: FitMode = .contain
    /// The border colour (`--background`).
    public var background = RGBColor(red: 0, green: 0, blue: 0)
    /// ALSA device name; nil plays no sound and runs on the monotonic clock.
    public var audioDevice: String? = "default"
    /// Side of the square picture the decoder draws, pixels.
    public var size = 512
    /// Motion frames per second.
    public var fps = 30.0
    /// Print a line per second and a summary.
    public var stats = false
    /// A DRM device file; nil picks the first card in ``driDirectory`` that has a display.
    public var card: String?
    /// Where to look for cards (tests point this elsewhere).
    public var driDirectory = DRMCard.defaultDirectory
    /// Atomic, legacy, or whichever the driver supports (`--kms`).
    public var kms: KMSInterface = .auto
    /// A CSV file receiving one line per frame that reached the screen: flip number, tick, composed frame, whether
    /// it is speech, its jawOpen and eyeBlinkLeft weights, the flip's CLOCK_MONOTONIC time and the audio position
    /// at that time.
    public var trace: URL?
    /// Motion seed (blinks, head motion).
    public var seed: UInt64 = 1
    /// Gaze, head distance, expression, motion scale, stillness (`--gaze`, `--emotion`, `--still`, …).
    public var controls = MotionControls()
    /// Seconds of silence composed after the clip for the idle face.
    public var idleSeconds = 20.0
    /// Which decoder draws the face (`--backend`).
    public var backend = DecoderBackend.cpu
    /// Threads the CPU decoder splits each picture over (`--threads`, or the board profile's `threads`).
    public var decoderThreads = 1
    /// Draw the stats overlay (fps, frame time, lag, dropped frames, CPU temperature) into the picture.
    public var hud = false
    /// Thermal zones the overlay reads the CPU temperature from.
    public var thermalRoot = "/sys/class/thermal"

    /// An ALSA capture device: the face follows what it hears (`--mic`); `audio` is then not used.
    public var microphone: String?

    /// A raw PCM stream to play and follow (`--pcm-stdin`, `--pcm-socket`, `--pcm-fifo`); `audio` is then not used.
    public var pcm: LivePCMInput?

    /// The clip's mouth as timed visemes (a synthesizer's phoneme events, `parla say`): the mouth follows them
    /// instead of the audio analysis, as in ``MotionComposer/frames(for:visemes:)``.
    public var visemes: [VisemeEvent]?

    /// Options for playing `audio` with every other setting at its default.
    public init(audio: URL) {
        self.audio = audio
    }

    /// Options for following the microphone `device` with every other setting at its default.
    public init(microphone device: String) {
        audio = URL(fileURLWithPath: "/dev/null")
        microphone = device
    }

    /// Options for playing and following the raw PCM stream `input` with every other setting at its default.
    public init(pcm input: LivePCMInput) {
        audio = URL(fileURLWithPath: "/dev/null")
        pcm = input
    }
}

/// Makes the frame decoder for a `width × height` picture (the CLI loads the avatar here; tests pass a drawing).
public typealias LiveDecoderFactory = (_ width: Int, _ height: Int) throws -> any FrameDecoder

/// `parla live`: the face on a KMS display, talking in sync with the sound.
///
/// Order of work: open the display first (so a missing or busy one fails in milliseconds), load and analyse the
/// speech, compose every motion frame up front (clip plus a silent tail for idling), make the decoder, start the
/// sound, then at each flip show the frame due at the audio clock (frames written − `snd_pcm_delay`, or the
/// monotonic clock without a sound device) at the moment the picture will appear: now plus the measured time
/// from choosing a frame to its flip landing (decode, copy, flip, vblank wait). Runs until SIGINT/SIGTERM (or the stop signal), then restores the
/// display's previous mode.
public final class LiveJob {
    /// What it was asked to do.
    public let options: LiveOptions
    /// Where progress and `--stats` lines go (one call per line).
    public var report: (String) -> Void = { print($0) }

    /// A job with `options`.
    public init(options: LiveOptions) {
        self.options = options
    }

    /// Runs until `stop` fires (by default: until SIGINT or SIGTERM); returns the summary line.
    /// - Parameters:
    ///   - makeDecoder: the decoder of the CPU (dumb-buffer) path.
    ///   - makeScanoutDecoder: the GLES decoder of the GPU path (GBM surface + EGL), used when ``LiveOptions/backend``
    ///     asks for it and the card can; nil keeps the dumb-buffer path.
    public func run(stop: StopSignal? = nil, makeDecoder: LiveDecoderFactory,
                    makeScanoutDecoder: LiveScanoutDecoderFactory? = nil) throws -> String {
        let stop = stop ?? StopSignal(handlingSignals: true)
        let o = options
        guard (16...4096).contains(o.size) else { throw RuntimeError("--size \(o.size) must be between 16 and 4096") }
        guard o.fps > 0, o.fps <= 240 else { throw RuntimeError("--fps \(o.fps) must be above 0 and at most 240") }

        if let microphone = o.microphone {
            return try runMicrophone(device: microphone, stop: stop, makeDecoder: makeDecoder,
                                     makeScanoutDecoder: makeScanoutDecoder)
        }
        if let pcm = o.pcm {
            return try runStream(pcm, stop: stop, makeDecoder: makeDecoder, makeScanoutDecoder: makeScanoutDecoder)
        }
        let (display, painter) = try openDisplay()
        let scanout = chooseScanout(display: display, makeScanoutDecoder: makeScanoutDecoder)

        let speech = try SpeechInput.load(o.audio)
        if let warning = speech.warning { report("warning: \(warning)") }
        let (frames, timeline) = try Self.compose(speech: speech, options: o)
        let drawer = try makeDrawer(display: display, painter: painter, scanout: scanout, makeDecoder: makeDecoder,
                                    makeScanoutDecoder: makeScanoutDecoder)
        let traceFile = try o.trace.map(Self.openTrace)
        defer { try? traceFile?.close() }

        // position(t, predicting): seconds of the clip heard at time t (for a future t: if the sound keeps flowing).
        let position: (Double, Bool) -> Double
        let stream: AudioPlaybackStream?
        if let device = o.audioDevice {
            let (s, line) = try Self.clipPlayback(device: device, audio: o.audio, loop: o.loop)
            report(line)
            stream = s
            position = { s.position(at: $0, predicting: $1) }
        } else {
            stream = nil
            let start = MonotonicClock.now()
            position = { t, _ in max(0, t - start) }
            report("audio: none (monotonic clock)")
        }
        report(String(format: "live: %d frames composed (%.1f s clip, %@), %@ at %.0f fps; stop with Ctrl-C or SIGTERM",
                      frames.count, timeline.clipDuration, o.loop ? "looping" : "then idle", "\(o.size)x\(o.size)", o.fps))

        var stats = LiveStats(start: MonotonicClock.now())
        var hud = LiveHUD(temperature: CPUTemperature(root: o.thermalRoot))
        var lastWork = 0.0, lastLag: Double?, lost = 0
        var scheduler = LiveScheduler(timeline: timeline, refreshPeriod: 1 / max(1, display.mode.refreshRate))
        var pendingTrace = ""
        stream?.start()
        let restored: String
        do {
            defer { stream?.stop() }
            restored = try display.presentThenRestore(stop: stop) { target, timing in
                if let error = stream?.error { throw error }
                if timing.lost != lost {
                    lost = timing.lost
                    scheduler.discardPending()
                }
                if let landed = scheduler.flipLanded(at: timing.lastFlipTime, heard: position(timing.lastFlipTime, false)) {
                    stats.recordOffset(landed.offset)
                    hud.recordFlip(at: landed.time)
                    lastLag = -landed.offset
                    if let traceFile {
                        pendingTrace += String(format: ",%.6f,%.6f\n", landed.time, landed.heard)
                        traceFile.write(Data(pendingTrace.utf8))
                    }
                }
                let now = MonotonicClock.now()
                stats.underruns = stream?.underruns ?? 0
                if o.stats, let line = stats.secondLine(at: now) { report(line) }
                switch scheduler.next(now: now, refreshPeriod: timing.refreshPeriod, predictedPosition: { position($0, true) }) {
                case let .wait(until):
                    return .skip(until: until)
                case let .show(tick, frame, skipped):
                    let work = MonotonicClock.now()
                    let reading = o.hud ? hud.reading(now: work, frameSeconds: lastWork, lagSeconds: lastLag, dropped: stats.dropped + skipped) : nil
                    try drawer.draw(frames[frame], into: target, hud: reading)
                    lastWork = MonotonicClock.now() - work
                    stats.recordFrame(workSeconds: lastWork, skippedTicks: skipped)
                    if traceFile != nil {
                        // mouth_open: the lip gap the rig draws (mouthClose brings the lips together against jawOpen).
                        let shapes = frames[frame].blendshapes
                        pendingTrace = "\(timing.flips + 1),\(tick),\(frame),\(timeline.isSpeech(tick: tick) ? 1 : 0),"
                            + String(format: "%.4f,%.4f,%.4f", shapes[.jawOpen], shapes[.eyeBlinkLeft],
                                     max(0, shapes[.jawOpen] - shapes[.mouthClose]))
                    }
                    return .present
                }
            }
        }
        report("display: " + restored)
        return stats.summary(at: MonotonicClock.now())
    }

    /// Opens the display (the first thing `run` does, so a missing or busy one fails before any other work),
    /// reports it, and makes the painter for its screen.
    func openDisplay() throws -> (KMSDisplay, LivePainter) {
        let (display, painter) = try options.openPanel(report: report)
        display.report = report
        return (display, painter)
    }

    /// Composes the motion frames: the clip plus `idleSeconds` of silence (idle life), or the clip alone when
    /// looping.
    static func compose(speech: SpeechInput, options o: LiveOptions) throws -> ([MotionFrame], LiveTimeline) {
        let composer = MotionComposer(options: o.motionOptions)
        let clip = speech.analysis
        let speechFrames = max(1, composer.frameCount(for: clip))
        var padded = clip
        if !o.loop {
            padded.samples.append(contentsOf: repeatElement(0, count: Int(o.idleSeconds * Double(clip.sampleRate))))
        }
        let frames: [MotionFrame]
        if let events = o.visemes {
            frames = composer.frames(for: padded, visemes: VisemeTrack(events: events, duration: padded.duration))
        } else {
            frames = try composer.checkedFrames(for: padded)
        }
        guard frames.count >= speechFrames else { throw RuntimeError("\(o.audio.path): composed no frames") }
        // The idle ping-pong starts a second after the clip (once the face has settled).
        let idleStart = min(frames.count - 1, speechFrames + Int(o.fps))
        let timeline = LiveTimeline(fps: o.fps, clipDuration: speech.duration, speechFrames: speechFrames,
                                    totalFrames: o.loop ? speechFrames : frames.count, idleStart: o.loop ? 0 : idleStart,
                                    loop: o.loop)
        return (frames, timeline)
    }

    /// The sound of `--audio` on `device`: the WAV as it is (its rate and channels; the 16 kHz mono copy is only for
    /// the motion), or converted to what the device takes instead; and the line reporting it.
    static func clipPlayback(device: String, audio url: URL, loop: Bool) throws -> (stream: AudioPlaybackStream, line: String) {
        let clip = try WAVFile.readInterleaved(contentsOf: url)
        let output = try ALSAPlayback(device: device, sampleRate: clip.sampleRate, channels: clip.channels)
        return (AudioPlaybackStream(output: output, audio: clip, loop: loop), describe(output, source: clip.sampleRate, clip.channels))
    }

    /// "audio: ALSA 'default' at 44100 Hz, 2 channel(s), period 441 frames, buffer 8820", plus what was converted.
    static func describe(_ output: ALSAPlayback, source rate: Int, _ channels: Int) -> String {
        "audio: ALSA '\(output.device)' at \(output.sampleRate) Hz, \(output.channels) channel(s), period \(output.periodFrames) frames, buffer \(output.bufferFrames)"
            + conversionNote(from: rate, channels, to: output.sampleRate, output.channels)
    }

    /// ", resampled from 44100 Hz, 2 channel(s) mapped" when the device did not take the source's format; else "".
    static func conversionNote(from rate: Int, _ channels: Int, to deviceRate: Int, _ deviceChannels: Int) -> String {
        var parts = [String]()
        if rate != deviceRate { parts.append("resampled from \(rate) Hz") }
        if channels != deviceChannels { parts.append("\(channels) channel(s) mapped") }
        return parts.isEmpty ? "" : ", " + parts.joined(separator: ", ")
    }

    static func openTrace(_ url: URL) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: url.path, contents: Data("flip,tick,frame,speech,jaw_open,blink,mouth_open,flip_time,audio_position\n".utf8)),
              let handle = try? FileHandle(forWritingTo: url) else {
            throw RuntimeError("\(url.path): cannot create the trace file")
        }
        handle.seekToEndOfFile()
        return handle
    }

    /// What `parla live --list-outputs` prints: every card's connectors, modes, CRTCs and planes (or why there is
    /// no display) and whether it gives a GBM/EGL context with GLES 3.1 (the GPU path), then the ALSA playback and
    /// capture devices.
    public static func listOutputs(driDirectory: String = DRMCard.defaultDirectory, card: String? = nil) -> String {
        var parts = [String]()
        do {
            let paths = try card.map { [$0] } ?? DRMCard.cardPaths(in: driDirectory)
            for path in paths {
                do {
                    let card = try DRMCard(path: path, master: false, atomic: true)
                    parts.append(try card.inventory().formatted() + "\n" + LiveGPUScanout.probe(card: card))
                } catch {
                    parts.append("\(path): \(error)")
                }
            }
        } catch {
            parts.append("display: \(error)")
        }
        parts.append(ALSADeviceList.formatted(ALSADeviceList.playbackDevices()))
        parts.append(ALSADeviceList.formatted(ALSADeviceList.captureDevices(), title: "ALSA capture devices (--mic)",
                                              whenNone: "no microphone"))
        return parts.joined(separator: "\n")
    }
}

extension LiveOptions {
    /// The composer's options: fps, seed and controls from these options.
    var motionOptions: MotionOptions {
        var motion = MotionOptions()
        motion.fps = fps
        motion.seed = seed
        motion.controls = controls
        return motion
    }
}
