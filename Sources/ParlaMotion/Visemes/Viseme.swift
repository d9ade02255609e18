/// The 15 standard visemes (the Oculus/Meta lip-sync set) plus a class for non-speech voice (laughter,
/// breath, hum). Every mouth driver meets here: VisemeNet posteriors from audio, phoneme timing from
/// Parla's own TTS, and both feed the same coarticulation model in the composer.
///
/// Raw values are the class indices of VisemeNet's output layer and of the training labels; do not reorder.
public enum Viseme: Int, CaseIterable, Sendable, Codable {
    case silence = 0
    case pp      // p, b, m: lips pressed together
    case ff      // f, v: lower lip under the upper teeth
    case th      // θ, ð: tongue between the teeth
    case dd      // t, d: tongue behind the upper teeth
    case kk      // k, g: back of the tongue raised
    case ch      // tʃ, dʒ, ʃ, ʒ: lips forward, teeth close
    case ss      // s, z: teeth close, lips spread
    case nn      // n, l: tongue up, mouth slightly open
    case rr      // r: lips slightly rounded
    case aa      // a, ɑ: jaw wide open
    case e       // e, ɛ: mid open, spread
    case ih      // i, ɪ: nearly closed, spread
    case oh      // o, ɔ: rounded, open
    case ou      // u, ʊ, w: rounded, nearly closed
    case nonSpeech // laughter, breath, hum: voiced but not articulated speech

    /// The conventional name of the viseme class (`sil`, `PP`, … `ou`; `nonspeech` for the extra class).
    public var name: String {
        switch self {
        case .silence: "sil"
        case .pp: "PP"
        case .ff: "FF"
        case .th: "TH"
        case .dd: "DD"
        case .kk: "kk"
        case .ch: "CH"
        case .ss: "SS"
        case .nn: "nn"
        case .rr: "RR"
        case .aa: "aa"
        case .e: "E"
        case .ih: "ih"
        case .oh: "oh"
        case .ou: "ou"
        case .nonSpeech: "nonspeech"
        }
    }

    /// Looks a viseme up by its conventional name (case-sensitive, as `name` spells it).
    public init?(name: String) {
        guard let match = Viseme.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}
