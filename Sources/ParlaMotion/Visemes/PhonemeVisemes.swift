import Foundation

/// Phoneme → viseme lookup for timed phonemes from espeak-ng (libespeak-ng phoneme events) and MBROLA
/// (`espeak-ng --pho` SAMPA names). The table is `espeak-visemes.tsv` in this folder, the same file
/// Tools/train-visemenet labels its training data with.
public enum PhonemeVisemes {
    /// Which naming a phoneme is in.
    public enum Table: String, Sendable, CaseIterable {
        /// espeak-ng's phoneme mnemonics (`A:`, `tS`, `@2`), as `espeakEVENT_PHONEME` reports them.
        case espeak
        /// The SAMPA names espeak-ng writes into MBROLA `.pho` files (`{`, `@U`, `p_h`).
        case sampa
    }

    /// The viseme of an espeak-ng phoneme mnemonic; nil for names the table cannot place (language-switch
    /// markers such as `(en)`, empty strings). See ``viseme(for:in:)`` for the fallback rule.
    public static func viseme(forEspeakPhoneme name: String) -> Viseme? { viseme(for: name, in: .espeak) }

    /// The viseme of an MBROLA SAMPA phoneme name.
    public static func viseme(forSAMPA name: String) -> Viseme? { viseme(for: name, in: .sampa) }

    /// Exact match first; otherwise trailing modifier characters (`: # - ~ ^ 2 3 @ = / 1` and `'`) are
    /// stripped one at a time and the rest looked up again (`a#2` → `a#` → `a`). Stress marks in front
    /// (`'`, `,`) are ignored.
    public static func viseme(for name: String, in table: Table) -> Viseme? {
        let map = tables[table] ?? [:]
        var key = Substring(name.trimmingCharacters(in: .whitespaces))
        while let first = key.first, first == "'" || first == "," { key = key.dropFirst() }
        while !key.isEmpty {
            if let v = map[String(key)] { return v }
            guard let last = key.last, modifiers.contains(last) else { return nil }
            key = key.dropLast()
        }
        return nil
    }

    /// Every (phoneme, viseme) pair of `table`, sorted by phoneme.
    public static func entries(in table: Table) -> [(phoneme: String, viseme: Viseme)] {
        (tables[table] ?? [:]).map { ($0.key, $0.value) }.sorted { $0.phoneme < $1.phoneme }
    }

    private static let modifiers: Set<Character> = [":", "#", "-", "~", "^", "2", "3", "@", "=", "/", "1", "'"]

    /// The table text (the bundled TSV).
    public static let tableText: String = {
        guard let url = Bundle.module.url(forResource: "espeak-visemes", withExtension: "tsv"),
              let text = try? String(contentsOf: url, encoding: .utf8) else { return "" }
        return text
    }()

    /// Parses TSV text of `table<TAB>phoneme<TAB>viseme` lines (`#` comments). Throws on a malformed line
    /// or an unknown viseme name.
    public static func parse(_ text: String) throws -> [Table: [String: Viseme]] {
        var result: [Table: [String: Viseme]] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 3, let table = Table(rawValue: String(fields[0])), !fields[1].isEmpty,
                  let viseme = Viseme(name: String(fields[2])) else {
                throw MotionError.invalidOptions("espeak-visemes.tsv line \(number + 1): expected table, phoneme, viseme")
            }
            result[table, default: [:]][String(fields[1])] = viseme
        }
        return result
    }

    static let tables: [Table: [String: Viseme]] = (try? parse(tableText)) ?? [:]
}
