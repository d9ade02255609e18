import ParlaMedia
import ParlaMotion

extension SynthesizedSpeech {
    /// The phonemes as timed visemes: each phoneme's viseme (``PhonemeVisemes``, espeak-ng table) from its sample
    /// position to the next phoneme's (the last to the end of the audio). Phonemes missing from the table count as
    /// silence, so an exotic language still closes the mouth rather than inventing a shape.
    public func visemeEvents() -> [VisemeEvent] {
        let rate = Double(audio.sampleRate)
        var out = [VisemeEvent]()
        out.reserveCapacity(phonemes.count)
        for (i, p) in phonemes.enumerated() {
            let end = i + 1 < phonemes.count ? phonemes[i + 1].sample : audio.samples.count
            guard end > p.sample else { continue }
            let viseme = PhonemeVisemes.viseme(forEspeakPhoneme: p.name) ?? .silence
            out.append(VisemeEvent(viseme, start: Double(p.sample) / rate, duration: Double(end - p.sample) / rate))
        }
        return out
    }

    /// The viseme track covering the whole audio (10 ms frames), ready for
    /// ``MotionComposer/frames(for:visemes:)``.
    public func visemeTrack() -> VisemeTrack {
        VisemeTrack(events: visemeEvents(), duration: audio.duration)
    }

    /// The audio at 16 kHz for the composer (jaw loudness, head motion, blinks).
    public var analysisAudio: AudioBuffer { audio.resampledForAnalysis() }

    /// Motion frames for the whole utterance: the mouth from the phoneme timing, the rest from the audio.
    public func motionFrames(options: MotionOptions) -> [MotionFrame] {
        MotionComposer(options: options).frames(for: analysisAudio, visemes: visemeTrack())
    }

    /// The lip-closing phonemes (p, b, m and their variants: every phoneme whose viseme is PP) with their spans in
    /// seconds.
    public func lipClosures() -> [(phoneme: String, start: Double, end: Double)] {
        let rate = Double(audio.sampleRate)
        return phonemes.indices.compactMap { i in
            let p = phonemes[i]
            guard PhonemeVisemes.viseme(forEspeakPhoneme: p.name) == .pp else { return nil }
            let end = i + 1 < phonemes.count ? phonemes[i + 1].sample : audio.samples.count
            return (p.name, Double(p.sample) / rate, Double(end) / rate)
        }
    }
}
