import Foundation
import ParlaIO
import ParlaMedia
import ParlaMotion
import ParlaRender

/// A raw PCM stream for `parla live` (`--pcm-stdin FORMAT`, `--pcm-socket PATH`, `--pcm-fifo PATH`).
public struct LivePCMInput: Sendable, Equatable {
    public var endpoint: PCMEndpoint
    public var format: PCMStreamFormat

    public init(endpoint: PCMEndpoint, format: PCMStreamFormat) {
        self.endpoint = endpoint
        self.format = format
    }
}

extension LiveJob {
    /// `--pcm-*`: a TTS (or anything) streams raw PCM; it is played on the sound device and the face speaks along,
    /// idling whenever the stream runs dry. Each flip shows the frame of the sound heard when the flip lands.
    /// Runs until `stop` (the stream ending does not stop it: the face idles, a FIFO or socket takes the next
    /// producer); returns the summary.
    func runStream(_ input: LivePCMInput, stop: StopSignal, makeDecoder: LiveDecoderFactory,
                   makeScanoutDecoder: LiveScanoutDecoderFactory? = nil) throws -> String {
        let o = options
        let (display, painter) = try openDisplay()
        let scanout = chooseScanout(display: display, makeScanoutDecoder: makeScanoutDecoder)
        let source = try PCMStreamSource(endpoint: input.endpoint, format: input.format)
        let motion = o.motionOptions
        let output: PCMOutput?
        if let device = o.audioDevice {
            // The stream is heard at its own rate and channels (the 16 kHz mono copy is only for the motion).
            let playback = try ALSAPlayback(device: device, sampleRate: input.format.sampleRate, channels: input.format.channels)
            report(Self.describe(playback, source: input.format.sampleRate, input.format.channels))
            output = playback
        } else {
            output = nil
            report("audio: none (monotonic clock)")
        }
        let stream = try LivePCMStream(queue: source.queue, motion: motion, output: output)
        let drawer = try makeDrawer(display: display, painter: painter, scanout: scanout, makeDecoder: makeDecoder,
                                    makeScanoutDecoder: makeScanoutDecoder)
        report(String(format: "live: PCM %@ from %@ → motion at %.0f fps (sound delayed %.0f ms for the look-ahead), %@; stop with Ctrl-C or SIGTERM",
                      input.format.description, Self.describe(input.endpoint), o.fps, stream.delaySeconds * 1000, "\(o.size)x\(o.size)"))

        var stats = LiveStats(start: MonotonicClock.now())
        var hud = LiveHUD(temperature: CPUTemperature(root: o.thermalRoot))
        var shown = -1
        var pending: (index: Int, chosen: Double)?
        var landing = 1 / max(1, display.mode.refreshRate)   // choose → flip landed, seconds (smoothed)
        var lastWork = 0.0, lastLost = 0
        source.start()
        stream.start()
        let restored: String
        do {
            defer {
                stream.stop()
                source.stop()
            }
            restored = try display.presentThenRestore(stop: stop) { target, timing in
                if let error = stream.error { throw error }
                if let error = source.error { throw error }
                if timing.lost != lastLost {
                    lastLost = timing.lost
                    pending = nil
                } else if let p = pending {
                    pending = nil
                    landing += (max(0, timing.lastFlipTime - p.chosen) - landing) * 0.2
                    hud.recordFlip(at: timing.lastFlipTime)
                    stats.recordOffset(Double(p.index) / o.fps - stream.position(at: timing.lastFlipTime))
                }
                let now = MonotonicClock.now()
                stats.underruns = stream.underruns
                if o.stats, let line = stats.secondLine(at: now) { report(line) }
                guard let (frame, index) = stream.frame(at: now + landing), index != shown else {
                    return .skip(until: now + min(timing.refreshPeriod, 0.5 / o.fps))
                }
                let skipped = shown < 0 ? 0 : max(0, index - shown - 1)
                shown = index
                let reading = o.hud ? hud.reading(now: now, frameSeconds: lastWork, lagSeconds: landing, dropped: stats.dropped + skipped) : nil
                try drawer.draw(frame, into: target, hud: reading)
                lastWork = MonotonicClock.now() - now
                stats.recordFrame(workSeconds: lastWork, skippedTicks: skipped)
                pending = (index, now)
                return .present
            }
        }
        report("display: " + restored)
        return stats.summary(at: MonotonicClock.now())
            + String(format: "; stream: %.1f s received, ran dry on %d reads", source.queue.receivedSeconds, source.queue.underruns)
    }

    static func describe(_ endpoint: PCMEndpoint) -> String {
        switch endpoint {
        case .stdin: "stdin"
        case .fifo(let path): "FIFO \(path)"
        case .socket(let path): "socket \(path)"
        }
    }
}
