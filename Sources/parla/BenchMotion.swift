import ArgumentParser
import Foundation
import ParlaMedia
import ParlaMotion
import ParlaRuntime

/// `parla bench motion`: speed of the audio → motion composers per stage, in CPU time of the measuring thread.
struct BenchMotion: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "motion",
        abstract: "Audio → motion speed (ms per stage, × real time) of the batch and streaming composers on one core.",
        discussion: """
            Repeats the bundled speech clip (or --audio) to --seconds of 16 kHz audio and times each stage of the
            VisemeNet mouth path (front end, VisemeNet, coarticulation), the acoustic analysis for head, brows and
            blinks, the whole batch composer (MotionComposer.frames(for:)) and the streaming composer fed 20 ms
            pushes. VisemeNet and the batch composer also run with the fp32 network in the same process (int8 and
            fp32 runs alternate), so the int8/fp32 ratio is an A/B, not a comparison of two runs. Times are CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), the best of --runs, so
            other processes on a shared machine do not inflate them. × real time = audio seconds ÷ stage seconds.
            """
    )

    @Option(help: "Speech WAV to use instead of the bundled one (resampled to 16 kHz).")
    var audio: String?

    @Option(help: "Seconds of speech to analyse (the clip is repeated to this length).")
    var seconds: Double = 60

    @Option(help: "Runs per stage; the fastest is reported.")
    var runs: Int = 3

    @Option(help: "Video frames per second.")
    var fps: Double = 30

    func validate() throws {
        if !(seconds > 0 && seconds <= 3600) { throw ValidationError("--seconds must be above 0 and at most 3600") }
        if runs < 1 || runs > 100 { throw ValidationError("--runs must be 1…100") }
        if !(fps > 0 && fps <= MotionOptions.maximumFPS) { throw ValidationError("--fps must be above 0 and at most 1000") }
    }

    func run() throws {
        try runReportingErrors {
            let url = try audio.map { URL(fileURLWithPath: $0) } ?? DemoContent.speech
            var clip = try WAVFile.read(contentsOf: url)
            if clip.sampleRate != AudioBuffer.analysisRate { clip = Resampler.resample(clip, to: AudioBuffer.analysisRate) }
            guard !clip.samples.isEmpty else { throw ValidationError("\(url.lastPathComponent) holds no samples") }
            let total = Int(seconds * Double(AudioBuffer.analysisRate))
            var samples = [Float]()
            samples.reserveCapacity(total)
            while samples.count < total { samples += clip.samples.prefix(total - samples.count) }
            let speech = AudioBuffer(sampleRate: AudioBuffer.analysisRate, samples: samples)
            let net = try VisemeNet.bundled()
            var options = MotionOptions()
            options.fps = fps
            let composer = MotionComposer(options: options)

            print("parla bench motion: \(url.lastPathComponent) repeated to \(String(format: "%.1f", seconds)) s, "
                  + "\(String(format: "%g", fps)) fps, CPU time of one thread, best of \(runs)")
            print("stage".padding(toLength: 27, withPad: " ", startingAt: 0) + "       ms  × real time")
            func row(_ name: String, _ s: Double) {
                print(name.padding(toLength: 27, withPad: " ", startingAt: 0)
                      + String(format: "%9.1f %12.0f", 1000 * s, seconds / s))
            }
            let frontEnd = VisemeFrontEnd()
            var mel = VisemeFrontEnd.Frames()
            let tFront = best { mel = frontEnd.analyse(speech.samples) }
            row("front end", tFront)
            var track = VisemeTrack(frameCount: 0)
            let (tNet, tNetFloat) = bestPair({ track = net.posteriors(logMel: mel.logMel, precision: .int8) },
                                             { _ = net.posteriors(logMel: mel.logMel, precision: .fp32) })
            row("VisemeNet int8", tNet)
            row("VisemeNet fp32 (A/B)", tNetFloat)
            var mouth = Coarticulation.Output()
            let tCo = best { mouth = Coarticulation.apply(posteriors: track.values, levels: mel.levelDB) }
            row("coarticulation", tCo)
            row("  mouth path", tFront + tNet + tCo)
            let extractor = try SpeechFeatureExtractor(sampleRate: AudioBuffer.analysisRate)
            var features = extractor.extract([])
            var activity = SpeechActivity(levels: [], hopSeconds: 0.01)
            var articulation = MouthArticulation(features: features, activity: activity)
            let tFeatures = best { features = extractor.extract(samples) }
            row("features + pitch", tFeatures)
            let tActivity = best {
                activity = SpeechActivity(levels: features.levelDB, voiced: features.voiced, hopSeconds: features.hopSeconds)
                articulation = MouthArticulation(features: features, activity: activity)
            }
            row("activity + jaw track", tActivity)
            let tMotion = best {
                _ = HeadMotion(features: features, activity: activity, jaw: articulation.jawOpen, seed: 1,
                               motionScale: 1, still: false)
            }
            row("head motion", tMotion)
            var analysis: SpeechAnalysis?
            let tHead = best { analysis = composer.analyse(speech) }
            row("  head/brow/blink analysis", tHead + tMotion)
            var frames = [MotionFrame]()
            var floatOptions = options
            floatOptions.visemePrecision = .fp32
            let floatComposer = MotionComposer(options: floatOptions)
            let (tBatch, tBatchFloat) = bestPair({ frames = composer.frames(for: speech) },
                                                 { _ = floatComposer.frames(for: speech) })
            row("batch composer", tBatch)
            row("batch composer, fp32 net", tBatchFloat)
            var streamed = 0
            let tStream = try bestThrowing {
                var stream = try StreamingMotionComposer(options: options, net: net)
                streamed = 0
                var i = 0
                while i < samples.count {
                    let end = min(i + 320, samples.count)
                    streamed += stream.push(samples16k: Array(samples[i..<end])).count
                    i = end
                }
                streamed += stream.finish().count
            }
            row("streaming composer", tStream)
            print(String(format: "VisemeNet int8 is %.2f× faster than fp32 (same process, alternating runs)", tNetFloat / tNet))
            print("(\(frames.count) batch frames, \(streamed) streamed frames, \(mouth.count) mouth hops, "
                  + "\(analysis?.features.count ?? 0) analysis hops; streaming pushes 20 ms)")
        }
    }

    private func best(_ body: () -> Void) -> Double {
        var fastest = Double.infinity
        for _ in 0..<runs {
            let start = Self.threadSeconds()
            body()
            fastest = min(fastest, Self.threadSeconds() - start)
        }
        return fastest
    }

    /// The fastest of `runs` runs of each body, the two alternating (an in-process A/B).
    private func bestPair(_ a: () -> Void, _ b: () -> Void) -> (Double, Double) {
        var fastest = (Double.infinity, Double.infinity)
        for _ in 0..<runs {
            var start = Self.threadSeconds()
            a()
            fastest.0 = min(fastest.0, Self.threadSeconds() - start)
            start = Self.threadSeconds()
            b()
            fastest.1 = min(fastest.1, Self.threadSeconds() - start)
        }
        return fastest
    }

    private func bestThrowing(_ body: () throws -> Void) throws -> Double {
        var fastest = Double.infinity
        for _ in 0..<runs {
            let start = Self.threadSeconds()
            try body()
            fastest = min(fastest, Self.threadSeconds() - start)
        }
        return fastest
    }

    /// CPU seconds the calling thread has used.
    static func threadSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
