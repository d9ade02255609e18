import ParlaMedia
import ParlaMotion
import ParlaTestSupport
import XCTest
@testable import ParlaVoice

/// libespeak-ng through ParlaVoice: audio, phoneme events with sample positions, voices and errors.
final class SpeechSynthesizerTests: XCTestCase {
    let synth = SpeechSynthesizer.shared

    func testPhonemeEventsAreOrderedInsideTheAudioAndSpellTheWords() throws {
        let s = try synth.synthesize("Big map. Pop it!")
        XCTAssertEqual(s.audio.sampleRate, 22050)
        XCTAssertGreaterThan(s.audio.duration, 0.8)
        XCTAssertGreaterThan(s.audio.samples.map { abs($0) }.max() ?? 0, 0.05, "audible speech")
        let samples = s.phonemes.map(\.sample)
        XCTAssertEqual(samples, samples.sorted(), "phonemes in time order")
        XCTAssertTrue(samples.allSatisfy { (0...s.audio.samples.count).contains($0) })
        // The word "map" is m, a, p in a row, in that order.
        let names = s.phonemes.map(\.name)
        let m = try XCTUnwrap(names.firstIndex(of: "m"))
        XCTAssertEqual(Array(names[m...(m + 2)]), ["m", "a", "p"])
        XCTAssertFalse(names.contains { $0.hasPrefix("'") || $0.hasPrefix(",") }, "stress marks dropped on every espeak-ng version")
        XCTAssertEqual(s.sentences.count, 2)
        XCTAssertEqual(s.words.count, 4)
        XCTAssertEqual(s.words.map(\.sample), s.words.map(\.sample).sorted())
    }

    func testLipClosingPhonemesAreSilentOrQuietAtTheirStartComparedWithVowels() throws {
        // A check that the reported positions belong to this audio: the closure of a p is quieter than the vowel
        // after it (energy over the first half of each phoneme).
        let s = try synth.synthesize("Papa popped a pea.")
        func rms(_ a: Int, _ b: Int) -> Float {
            let slice = s.audio.samples[a..<max(a + 1, b)]
            return (slice.map { $0 * $0 }.reduce(0, +) / Float(slice.count)).squareRoot()
        }
        var checked = 0
        for i in 0..<(s.phonemes.count - 2) where s.phonemes[i].name == "p" {
            let p = s.phonemes[i], vowel = s.phonemes[i + 1], after = s.phonemes[i + 2]
            guard PhonemeVisemes.viseme(forEspeakPhoneme: vowel.name).map({ [.aa, .e, .ih, .oh, .ou].contains($0) }) == true else { continue }
            let closure = rms(p.sample, p.sample + (vowel.sample - p.sample) / 2)
            let open = rms(vowel.sample, vowel.sample + (after.sample - vowel.sample) / 2)
            XCTAssertLessThan(closure, open, "p at \(p.sample) vs \(vowel.name) at \(vowel.sample)")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 3)
    }

    func testVisemeEventsTileTheAudio() throws {
        let s = try synth.synthesize("Good morning, Bob.")
        let events = s.visemeEvents()
        XCTAssertFalse(events.isEmpty)
        for (a, b) in zip(events, events.dropFirst()) { XCTAssertEqual(a.end, b.start, accuracy: 1e-9) }
        XCTAssertEqual(events.last!.end, s.audio.duration, accuracy: 1e-9)
        XCTAssertEqual(s.lipClosures().map(\.phoneme).filter { ["m", "b"].contains($0) }.count, 3)   // m, b, b
        let track = s.visemeTrack()
        XCTAssertEqual(track.frameCount, Int((s.audio.duration / VisemeTrack.frameSeconds - 1e-9).rounded(.up)))
    }

    func testRateAndPitchChangeTheSpeech() throws {
        var slow = VoiceOptions(); slow.rate = 120
        var fast = VoiceOptions(); fast.rate = 320
        let text = "The quick brown fox jumps over the lazy dog."
        let a = try synth.synthesize(text, options: slow), b = try synth.synthesize(text, options: fast)
        XCTAssertGreaterThan(a.audio.duration, 1.6 * b.audio.duration)
        var high = VoiceOptions(); high.pitch = 90
        XCTAssertNotEqual(try synth.synthesize(text, options: high).audio.samples, try synth.synthesize(text).audio.samples)
    }

    func testMaximumSecondsStopsSynthesisAndLeavesTheSynthesizerReady() throws {
        let text = String(repeating: "This paragraph goes on and on about the museum and its many rooms. ", count: 20)
        let start = Date()
        XCTAssertThrowsError(try synth.synthesize(text, maximumSeconds: 2)) { error in
            XCTAssertEqual("\(error)", "the speech would last more than 2 s, the limit for one utterance; split the text")
        }
        let stopped = Date().timeIntervalSince(start)
        let whole = try synth.synthesize(text)
        XCTAssertGreaterThan(whole.audio.duration, 60)
        // Stopped near the cap: far less time than the whole text (about a minute and a half of speech) takes.
        let all = Date().timeIntervalSince(start) - stopped
        XCTAssertLessThan(stopped, all / 3, "synthesis went on past the cap (\(stopped) s, whole text \(all) s)")
        // Under the cap nothing changes; the next call after an abort speaks its whole text.
        let short = "Big map. Pop it!"
        let capped = try synth.synthesize(short, maximumSeconds: 60), free = try synth.synthesize(short)
        XCTAssertEqual(capped.phonemes.map(\.name), free.phonemes.map(\.name))
        XCTAssertLessThanOrEqual(abs(capped.audio.samples.count - free.audio.samples.count), 64)
    }

    func testSameTextSameTimingWithinAFewSamples() throws {
        // espeak-ng carries a little state between calls (a few samples of jitter), so the same text gives the same
        // phonemes at nearly, not exactly, the same places; each call's positions are exact for its own audio.
        let a = try synth.synthesize("Repeatable.")
        let b = try synth.synthesize("Repeatable.")
        XCTAssertEqual(a.phonemes.map(\.name), b.phonemes.map(\.name))
        for (x, y) in zip(a.phonemes, b.phonemes) { XCTAssertLessThanOrEqual(abs(x.sample - y.sample), 64) }
        XCTAssertLessThanOrEqual(abs(a.audio.samples.count - b.audio.samples.count), 64)
    }

    func testPunctuationMakesPauses() throws {
        let plain = try synth.synthesize("one two three")
        let paused = try synth.synthesize("one, two, three")
        XCTAssertGreaterThan(paused.audio.duration, plain.audio.duration + 0.3)
    }

    func testOtherLanguagesSpeak() throws {
        var de = VoiceOptions(); de.voice = "de"
        let s = try synth.synthesize("Guten Morgen", options: de)
        XCTAssertGreaterThan(s.phonemes.count, 5)
        XCTAssertTrue(try synth.voices().contains { $0.name == "en-us" })
        // A language code that is not a voice file's name still finds its voice.
        var gb = VoiceOptions(); gb.voice = "en-gb"
        XCTAssertGreaterThan(try synth.synthesize("Good morning", options: gb).phonemes.count, 5)
    }

    func testErrorsAreOneClearLine() throws {
        func message(_ text: String, _ configure: (inout VoiceOptions) -> Void) -> String {
            var o = VoiceOptions()
            configure(&o)
            do { _ = try synth.synthesize(text, options: o); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(message("hi") { $0.voice = "xx-nonesuch" },
                       "voice 'xx-nonesuch' is not an espeak-ng voice here (`parla say --list-voices` lists them)")
        XCTAssertTrue(message("hi") { $0.voice = "mb-zz9" }.hasPrefix("MBROLA voice 'mb-zz9' is not installed: it needs the Debian packages mbrola and mbrola-zz9"))
        XCTAssertEqual(message("  \n") { _ in }, "no text to say")
        XCTAssertEqual(message("hi") { $0.rate = 20 }, "--rate 20: words per minute must be 80…450")
        XCTAssertEqual(message("hi") { $0.pitch = 101 }, "--pitch 101: must be 0…100")
        XCTAssertTrue(message(String(repeating: "a ", count: 60_000)) { _ in }.contains("limit"))
        // A failed call leaves the synthesizer usable.
        XCTAssertNoThrow(try synth.synthesize("still fine"))
    }

    func testMBROLAVoiceWhenInstalled() throws {
        guard SpeechSynthesizer.mbrolaVoiceInstalled("mb-us1") else { throw XCTSkip("MBROLA us1 is not installed") }
        let listed = try synth.voices()
        XCTAssertTrue(listed.contains { $0.name == "mb-us1" }, "an installed MBROLA voice is listed")
        XCTAssertTrue(listed.filter { $0.name.hasPrefix("mb-") }.allSatisfy { SpeechSynthesizer.mbrolaVoiceInstalled($0.name) },
                      "only MBROLA voices whose data is installed are listed")
        XCTAssertTrue(listed.contains { $0.name == "en-us" })
        var o = VoiceOptions(); o.voice = "mb-us1"
        let s = try synth.synthesize("Hello world", options: o)
        XCTAssertEqual(s.audio.sampleRate, 16000)
        XCTAssertGreaterThan(s.phonemes.count, 5)
        XCTAssertTrue(s.phonemes.allSatisfy { $0.sample <= s.audio.samples.count })
    }
}
