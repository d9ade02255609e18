import CEspeak
import Foundation
import ParlaMedia

/// How ``SpeechSynthesizer`` speaks.
public struct VoiceOptions: Sendable, Equatable {
    /// An espeak-ng voice or language ("en-us", "de", "en-us+f3"), or an MBROLA voice ("mb-us1") when installed.
    public var voice = "en-us"
    /// Words per minute, 80…450 (espeak-ng's range).
    public var rate = 175
    /// Base pitch, 0…100 (50 is the voice's own).
    public var pitch = 50
    /// Extra pause between words, in units of 10 ms at the normal rate (0 = none).
    public var wordGap = 0
    /// Treat `<…>` as SSML (`<break time="500ms"/>`, `<emphasis>`, …); otherwise the text is plain and only its
    /// punctuation makes pauses (comma, full stop, colon, question mark, paragraph break).
    public var ssml = false

    /// The defaults: en-us at 175 wpm, pitch 50.
    public init() {}

    /// Throws a one-line error when a value is outside espeak-ng's range.
    public func validate() throws {
        guard (80...450).contains(rate) else { throw VoiceError("--rate \(rate): words per minute must be 80…450") }
        guard (0...100).contains(pitch) else { throw VoiceError("--pitch \(pitch): must be 0…100") }
        guard (0...100).contains(wordGap) else { throw VoiceError("word gap \(wordGap): must be 0…100") }
        guard !voice.isEmpty, voice.utf8.count < 100, !voice.contains("/") else {
            throw VoiceError("voice '\(voice)': not a voice name")
        }
    }
}

/// A failure of the text-to-speech stage, as one line.
public struct VoiceError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// The text would take longer to say than the cap given to ``SpeechSynthesizer/synthesize(_:options:maximumSeconds:)``:
/// synthesis stopped there, nothing was kept.
public struct SpeechTooLongError: Error, CustomStringConvertible, LocalizedError {
    public let maximumSeconds: Double
    public var description: String {
        "the speech would last more than \(Self.format(maximumSeconds)) s, the limit for one utterance; split the text"
    }
    public var errorDescription: String? { description }
    static func format(_ s: Double) -> String { s == s.rounded() ? String(Int(s)) : String(s) }
}

/// One phoneme as espeak-ng reported it while synthesizing: its name and the sample it starts at.
public struct PhonemeEvent: Sendable, Equatable, Codable {
    /// espeak-ng's phoneme mnemonic ("p", "aI", "@", "_:" for a pause …), without a leading stress mark.
    public var name: String
    /// First sample of the phoneme in ``SynthesizedSpeech/audio`` (at its rate).
    public var sample: Int
    /// Character offset (1-based, as espeak-ng counts) of the text the phoneme belongs to.
    public var textPosition: Int

    public init(name: String, sample: Int, textPosition: Int) {
        self.name = name
        self.sample = sample
        self.textPosition = textPosition
    }
}

/// A word boundary espeak-ng reported.
public struct WordEvent: Sendable, Equatable, Codable {
    /// First sample of the word.
    public var sample: Int
    /// Character offset (1-based) and length of the word in the text.
    public var textPosition: Int
    public var length: Int
}

/// Speech synthesized from text, with the timing of every phoneme exactly as the synthesizer produced it.
public struct SynthesizedSpeech: Sendable {
    /// The audio (mono, at the voice's rate: 22050 Hz for espeak-ng voices, 16000 Hz for most MBROLA ones).
    public var audio: AudioBuffer
    /// Phonemes in order; each starts at its `sample` and lasts until the next one (the last until the audio ends).
    public var phonemes: [PhonemeEvent]
    /// Word starts.
    public var words: [WordEvent]
    /// First sample of each sentence.
    public var sentences: [Int]
    /// The voice that spoke.
    public var voice: String

    /// Seconds at which phoneme `i` starts.
    public func time(ofPhoneme i: Int) -> Double { Double(phonemes[i].sample) / Double(audio.sampleRate) }
}

/// An installed voice.
public struct VoiceInfo: Sendable, Equatable, Codable {
    /// The name to pass as ``VoiceOptions/voice`` (the voice file's identifier, e.g. "gmw/en-US" → "en-us").
    public var name: String
    /// Its language codes, most preferred first.
    public var languages: [String]
    /// The descriptive name ("English_(America)").
    public var title: String
}

/// Text → speech through libespeak-ng in its synchronous mode, collecting the audio and the phoneme, word and
/// sentence events with their sample positions. libespeak-ng keeps global state, so every call goes through one
/// process-wide lock; the library is initialised on first use.
public final class SpeechSynthesizer: @unchecked Sendable {
    /// The one instance (libespeak-ng cannot have two).
    public static let shared = SpeechSynthesizer()

    private let lock = NSLock()
    private var sampleRate = 0
    private var initialised = false
    /// Where installed MBROLA voices live (Debian's mbrola-* packages).
    public static let mbrolaDirectory = "/usr/share/mbrola"
    /// The largest text accepted in one call, bytes.
    public static let maximumTextBytes = 100_000

    private init() {}

    /// Synthesizes `text`; throws a one-line ``VoiceError`` for an unknown voice, a missing MBROLA voice, bad
    /// options, empty text, or a synthesizer failure. With `maximumSeconds`, synthesis stops as soon as the audio
    /// passes that length and ``SpeechTooLongError`` is thrown: time and memory stay bounded by the cap, not by
    /// the text (100 KB of text is over an hour of speech).
    public func synthesize(_ text: String, options: VoiceOptions = VoiceOptions(),
                           maximumSeconds: Double? = nil) throws -> SynthesizedSpeech {
        try options.validate()
        guard text.contains(where: { !$0.isWhitespace }) else { throw VoiceError("no text to say") }
        guard text.utf8.count <= Self.maximumTextBytes else {
            throw VoiceError("\(text.utf8.count) bytes of text is more than the \(Self.maximumTextBytes)-byte limit")
        }
        lock.lock(); defer { lock.unlock() }
        try initialise()
        try selectVoice(options.voice)
        espeak_SetParameter(espeakRATE, Int32(options.rate), 0)
        espeak_SetParameter(espeakPITCH, Int32(options.pitch), 0)
        espeak_SetParameter(espeakWORDGAP, Int32(options.wordGap), 0)
        let rate = Int(espeak_ng_GetSampleRate())
        let collector = Collector()
        if let maximumSeconds {
            collector.maximumSamples = Int((maximumSeconds * Double(rate > 0 ? rate : sampleRate)).rounded(.up))
        }
        let box = Unmanaged.passRetained(collector)
        defer { box.release() }
        let flags = UInt32(espeakCHARS_UTF8) | (options.ssml ? UInt32(espeakSSML) : 0)
        let status = text.withCString { cText in
            espeak_Synth(cText, strlen(cText) + 1, 0, POS_CHARACTER, 0, flags, nil, box.toOpaque())
        }
        guard status == EE_OK else { throw VoiceError("espeak-ng could not synthesize the text (error \(status.rawValue))") }
        guard espeak_Synchronize() == EE_OK else { throw VoiceError("espeak-ng failed while synthesizing") }
        if collector.overLimit, let maximumSeconds { throw SpeechTooLongError(maximumSeconds: maximumSeconds) }
        guard !collector.samples.isEmpty else { throw VoiceError("espeak-ng produced no audio for the text") }
        let audio = AudioBuffer(sampleRate: rate > 0 ? rate : sampleRate,
                                samples: collector.samples.map { Float($0) / 32768 })
        let last = audio.samples.count
        return SynthesizedSpeech(
            audio: audio,
            phonemes: collector.phonemes.map { PhonemeEvent(name: $0.name, sample: min($0.sample, last), textPosition: $0.textPosition) },
            words: collector.words.map { WordEvent(sample: min($0.sample, last), textPosition: $0.textPosition, length: $0.length) },
            sentences: collector.sentences.map { min($0, last) },
            voice: options.voice)
    }

    /// Every voice espeak-ng offers here (MBROLA ones listed only when their voice data is installed).
    public func voices() throws -> [VoiceInfo] {
        lock.lock(); defer { lock.unlock() }
        try initialise()
        // espeak-ng leaves the MBROLA voices out of the full list and gives them only when asked for the
        // language "mb" (as `espeak-ng --voices=mb` does). Each call reuses the same array, so the first list is
        // read before the second call.
        var out = Self.voiceInfos(espeak_ListVoices(nil))
        var spec = espeak_VOICE()
        let mbrola: [VoiceInfo] = "mb".withCString { language in
            spec.languages = language
            return Self.voiceInfos(espeak_ListVoices(&spec)).filter { $0.name.hasPrefix("mb-") }
        }
        let listed = Set(out.map(\.name))
        out += mbrola.filter { !listed.contains($0.name) && Self.mbrolaVoiceInstalled($0.name) }
        return out.sorted { $0.name < $1.name }
    }

    /// The voices of one `espeak_ListVoices` answer (a NULL-terminated array), MBROLA ones without data left out.
    private static func voiceInfos(_ list: UnsafeMutablePointer<UnsafePointer<espeak_VOICE>?>?) -> [VoiceInfo] {
        guard let list else { return [] }
        var out = [VoiceInfo]()
        var i = 0
        while let entry = list[i] {
            i += 1
            let v = entry.pointee
            guard let id = v.identifier.map({ String(cString: $0) }) else { continue }
            var languages = [String]()
            if var p = v.languages.map({ UnsafePointer<CChar>($0) }) {
                while p.pointee != 0 {
                    let name = String(cString: p + 1)   // skip the priority byte
                    languages.append(name)
                    p += name.utf8.count + 2
                }
            }
            let name = id.hasPrefix("mb/") ? String(id.dropFirst(3)) : (languages.first ?? id)
            if name.hasPrefix("mb-"), !mbrolaVoiceInstalled(name) { continue }
            out.append(VoiceInfo(name: name, languages: languages, title: v.name.map { String(cString: $0) } ?? name))
        }
        return out
    }

    /// Whether the MBROLA voice `name` ("mb-us1") can speak: the `mbrola` program and its voice data are installed.
    public static func mbrolaVoiceInstalled(_ name: String) -> Bool {
        let id = name.dropFirst(3).split(separator: "+").first.map(String.init) ?? ""
        guard !id.isEmpty else { return false }
        let data = "\(mbrolaDirectory)/\(id)/\(id)"
        let program = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/mbrola") }
        return program && FileManager.default.fileExists(atPath: data)
    }

    // MARK: - Internal

    private func initialise() throws {
        guard !initialised else { return }
        let rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nil,
                                     Int32(espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_DONT_EXIT))
        guard rate > 0 else { throw VoiceError("espeak-ng did not start: its voice data (package espeak-ng-data) is missing") }
        sampleRate = Int(rate)
        espeak_SetSynthCallback(synthCallback)
        initialised = true
    }

    private func selectVoice(_ name: String) throws {
        if name.hasPrefix("mb-"), !Self.mbrolaVoiceInstalled(name) {
            let id = name.dropFirst(3).split(separator: "+").first.map(String.init) ?? name
            throw VoiceError("MBROLA voice '\(name)' is not installed: it needs the Debian packages mbrola and mbrola-\(id) (contrib/non-free)")
        }
        if espeak_SetVoiceByName(name) == EE_OK { return }
        // A language code ("en-gb", "pt-br") rather than a voice name: ask for a voice speaking it, and accept
        // the answer only if it really lists that language (espeak-ng otherwise falls back to any voice).
        if !name.contains("+") {
            let chosen: Bool = name.withCString { language in
                var spec = espeak_VOICE()
                spec.languages = language
                guard espeak_SetVoiceByProperties(&spec) == EE_OK, let current = espeak_GetCurrentVoice() else { return false }
                var p = current.pointee.languages.map { UnsafePointer<CChar>($0) }
                while let q = p, q.pointee != 0 {
                    let code = String(cString: q + 1)
                    if code.lowercased() == name.lowercased() { return true }
                    p = q + code.utf8.count + 2
                }
                return false
            }
            if chosen { return }
        }
        throw VoiceError("voice '\(name)' is not an espeak-ng voice here (`parla say --list-voices` lists them)")
    }
}

/// What one synthesis collected; reached from the C callback through the events' `user_data`.
final class Collector {
    struct Phoneme { var name: String; var sample: Int; var textPosition: Int }
    var samples: [Int16] = []
    var phonemes: [Phoneme] = []
    var words: [WordEvent] = []
    var sentences: [Int] = []
    /// Samples after which synthesis is aborted (``overLimit`` set).
    var maximumSamples = Int.max
    var overLimit = false
}

/// libespeak-ng's synthesis callback: appends audio, and records each event at the sample count reached when the
/// buffer carrying it starts plus the event's offset into that buffer. In synchronous mode an event's `sample`
/// field counts samples from the start of the message, so that is used directly.
private func synthCallback(_ wav: UnsafeMutablePointer<Int16>?, _ count: Int32,
                           _ events: UnsafeMutablePointer<espeak_EVENT>?) -> Int32 {
    guard let events, let userData = events.pointee.user_data else { return 0 }
    let collector = Unmanaged<Collector>.fromOpaque(userData).takeUnretainedValue()
    var e = events
    while e.pointee.type != espeakEVENT_LIST_TERMINATED {
        let event = e.pointee
        let sample = Int(event.sample)
        switch event.type {
        case espeakEVENT_PHONEME:
            let name = withUnsafeBytes(of: event.id.string) { raw -> String in
                let bytes = raw.prefix { $0 != 0 }
                // espeak-ng 1.52 (Debian trixie) puts the stress mark in front of a stressed vowel's name ("'a",
                // ",a"); 1.51 (bookworm) does not. Dropped, so a phoneme has the same name on every version.
                return String(decoding: bytes.drop { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: ",") }, as: UTF8.self)
            }
            collector.phonemes.append(.init(name: name, sample: sample, textPosition: Int(event.text_position)))
        case espeakEVENT_WORD:
            collector.words.append(WordEvent(sample: sample, textPosition: Int(event.text_position), length: Int(event.length)))
        case espeakEVENT_SENTENCE:
            collector.sentences.append(sample)
        default:
            break
        }
        e += 1
    }
    if let wav, count > 0 {
        collector.samples.append(contentsOf: UnsafeBufferPointer(start: wav, count: Int(count)))
    }
    // Returning 1 makes espeak-ng abandon the rest of the text.
    if collector.samples.count > collector.maximumSamples {
        collector.overLimit = true
        return 1
    }
    return 0
}
