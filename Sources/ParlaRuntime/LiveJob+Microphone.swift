import Foundation
import ParlaIO
import ParlaMedia
import ParlaMotion
import ParlaRender

/// The parts of the sound-to-photon delay of `parla live --mic`, seconds.
public struct MicrophoneLatency: Sendable, Equatable {
    /// One capture period (the sound waits in the device until its period is complete).
    public var capturePeriod: Double
    /// The look-ahead: ``LiveMicrophone/lookAhead`` (the composer's, plus the resampler's when resampling).
    public var lookAhead: Double
    /// Composer time per period of audio.
    public var model: Double
    /// Decode + scale of the last picture.
    public var decode: Double
    /// From the end of the decode to the flip landing (the wait for the next vblank).
    public var vblank: Double

    public init(capturePeriod: Double, lookAhead: Double, model: Double, decode: Double, vblank: Double) {
        self.capturePeriod = capturePeriod
        self.lookAhead = lookAhead
        self.model = model
        self.decode = decode
        self.vblank = vblank
    }

    /// The estimate: the sum of the parts.
    public var total: Double { capturePeriod + lookAhead + model + decode + vblank }

    /// "sound-to-photon 187 ms estimated (capture 10 + look-ahead 129 + model 2 + decode 30 + vblank 16)",
    /// followed by the measured median when given.
    public func line(measured: Double?) -> String {
        func ms(_ s: Double) -> String { String(format: "%.0f", s * 1000) }
        var text = "sound-to-photon \(ms(total)) ms estimated (capture \(ms(capturePeriod)) + look-ahead \(ms(lookAhead)) + model \(ms(model)) + decode \(ms(decode)) + vblank \(ms(vblank)))"
        if let measured { text += ", \(ms(measured)) ms measured" }
        return text
    }
}

extension LiveJob {
    /// `--mic`: the face follows the microphone. Each picture shows the newest motion frame the composer has
    /// produced; a picture is drawn only when a new frame arrived. Runs until `stop`; returns the summary.
    func runMicrophone(device: String, stop: StopSignal, makeDecoder: LiveDecoderFactory,
                       makeScanoutDecoder: LiveScanoutDecoderFactory? = nil) throws -> String {
        let o = options
        let (display, painter) = try openDisplay()
        let scanout = chooseScanout(display: display, makeScanoutDecoder: makeScanoutDecoder)
        let motion = o.motionOptions
        let mic = try LiveMicrophone(device: device, motion: motion)
        report("audio: ALSA capture '\(device)' at \(mic.sampleRate) Hz, \(mic.channels) channel(s), \(mic.format.rawValue), period \(String(format: "%.1f", mic.periodSeconds * 1000)) ms\(mic.sampleRate == 16_000 ? "" : ", resampled to 16000 Hz")")
        let drawer = try makeDrawer(display: display, painter: painter, scanout: scanout, makeDecoder: makeDecoder,
                                    makeScanoutDecoder: makeScanoutDecoder)
        let traceFile = try o.trace.map(Self.openTrace)
        defer { try? traceFile?.close() }
        report(String(format: "live: microphone → motion at %.0f fps (look-ahead %.0f ms), %@; stop with Ctrl-C or SIGTERM",
                      o.fps, mic.lookAhead * 1000, "\(o.size)x\(o.size)"))

        var stats = LiveStats(start: MonotonicClock.now())
        var hud = LiveHUD(temperature: CPUTemperature(root: o.thermalRoot))
        var shownSerial = 0
        var pending: (frame: MotionFrame, workEnd: Double)?
        var decode = 0.0, vblank = 0.0
        var measured = [Double]()
        var lastLost = 0
        var parts: MicrophoneLatency {
            MicrophoneLatency(capturePeriod: mic.periodSeconds, lookAhead: mic.lookAhead, model: mic.modelSecondsPerPeriod(),
                          decode: decode, vblank: vblank)
        }
        func medianMeasured() -> Double? {
            guard !measured.isEmpty else { return nil }
            let recent = measured.suffix(64).sorted()
            return recent[recent.count / 2]
        }
        mic.start()
        let restored: String
        do {
            defer { mic.stop() }
            restored = try display.presentThenRestore(stop: stop) { target, timing in
                if let error = mic.error { throw error }
                if timing.lost != lastLost {
                    lastLost = timing.lost
                    pending = nil
                } else if let p = pending {
                    // The picture drawn last turn appeared at this flip.
                    pending = nil
                    vblank = max(0, timing.lastFlipTime - p.workEnd)
                    hud.recordFlip(at: timing.lastFlipTime)
                    if let heard = mic.soundTime(ofStreamTime: p.frame.time) {
                        let delay = timing.lastFlipTime - heard
                        measured.append(delay)
                        stats.recordOffset(-delay)
                        if let traceFile {
                            traceFile.write(Data(String(format: "%d,%d,%d,%d,%.4f,%.4f,%.6f,%.6f\n", timing.flips, shownSerial,
                                                        Int((p.frame.time * o.fps).rounded()), 1, p.frame.blendshapes[.jawOpen],
                                                        p.frame.blendshapes[.eyeBlinkLeft], timing.lastFlipTime, p.frame.time).utf8))
                        }
                    }
                }
                let now = MonotonicClock.now()
                stats.underruns = mic.overruns
                if o.stats, let line = stats.secondLine(at: now) {
                    report(line.replacingOccurrences(of: "a/v", with: "mic→screen").replacingOccurrences(of: "underruns", with: "overruns"))
                    report("live: " + parts.line(measured: medianMeasured()) + String(format: "; backlog %.0f ms", mic.backlog * 1000))
                }
                guard let (frame, serial) = mic.latest(), serial != shownSerial else {
                    return .skip(until: now + min(timing.refreshPeriod, 0.5 / o.fps))
                }
                let skipped = shownSerial == 0 ? 0 : max(0, serial - shownSerial - 1)
                shownSerial = serial
                let reading = o.hud ? hud.reading(now: now, frameSeconds: decode, lagSeconds: medianMeasured() ?? parts.total,
                                                  dropped: stats.dropped + skipped) : nil
                try drawer.draw(frame, into: target, hud: reading)
                let end = MonotonicClock.now()
                decode = end - now
                stats.recordFrame(workSeconds: decode, skippedTicks: skipped)
                pending = (frame, end)
                return .present
            }
        }
        report("display: " + restored)
        return stats.summary(at: MonotonicClock.now()).replacingOccurrences(of: "a/v", with: "mic→screen")
            .replacingOccurrences(of: "audio underruns", with: "capture overruns") + "; " + parts.line(measured: medianMeasured())
    }
}
