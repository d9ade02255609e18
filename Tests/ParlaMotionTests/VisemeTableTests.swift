import XCTest
import ParlaMedia
@testable import ParlaMotion

final class VisemeTableTests: XCTestCase {
    func testTheBundledTableParsesAndCoversBothNamings() throws {
        let tables = try PhonemeVisemes.parse(PhonemeVisemes.tableText)
        XCTAssertGreaterThan(tables[.espeak]?.count ?? 0, 100)
        XCTAssertGreaterThan(tables[.sampa]?.count ?? 0, 80)
        // Every viseme except non-speech is reachable from espeak-ng phonemes.
        let reached = Set(tables[.espeak]!.values)
        XCTAssertEqual(reached, Set(Viseme.allCases).subtracting([.nonSpeech]))
    }

    func testLookups() {
        XCTAssertEqual(PhonemeVisemes.viseme(forEspeakPhoneme: "p"), .pp)
        XCTAssertEqual(PhonemeVisemes.viseme(forEspeakPhoneme: "m"), .pp)
        XCTAssertEqual(PhonemeVisemes.viseme(forEspeakPhoneme: "A:"), .aa)
        XCTAssertEqual(PhonemeVisemes.viseme(forEspeakPhoneme: "_:"), .silence)
        XCTAssertEqual(PhonemeVisemes.viseme(forEspeakPhoneme: "tS"), .ch)
        XCTAssertEqual(PhonemeVisemes.viseme(forEspeakPhoneme: "oU"), .oh)
        // Fallback: trailing modifiers are stripped until a name matches.
        XCTAssertEqual(PhonemeVisemes.viseme(forEspeakPhoneme: "a#2"), .aa)
        XCTAssertEqual(PhonemeVisemes.viseme(forEspeakPhoneme: "'i:"), .ih)
        XCTAssertNil(PhonemeVisemes.viseme(forEspeakPhoneme: "(en)"))
        XCTAssertNil(PhonemeVisemes.viseme(forEspeakPhoneme: ""))
        XCTAssertEqual(PhonemeVisemes.viseme(forSAMPA: "{"), .aa)
        XCTAssertEqual(PhonemeVisemes.viseme(forSAMPA: "p_h"), .pp)
        XCTAssertEqual(PhonemeVisemes.viseme(forSAMPA: "@U"), .oh)
    }

    func testMalformedTableLinesAreRejected() {
        XCTAssertThrowsError(try PhonemeVisemes.parse("espeak\tp\n"))
        XCTAssertThrowsError(try PhonemeVisemes.parse("espeak\tp\tXX\n"))
        XCTAssertThrowsError(try PhonemeVisemes.parse("klingon\tp\tPP\n"))
        XCTAssertEqual(try PhonemeVisemes.parse("# c\n\nsampa\tp\tPP\n")[.sampa]?["p"], .pp)
    }

    func testTrackFromEventsPlacesFramesByTheirTime() {
        let events = [VisemeEvent(.pp, start: 0.10, duration: 0.05), VisemeEvent(.aa, start: 0.15, duration: 0.10)]
        let track = VisemeTrack(events: events, duration: 0.3)
        XCTAssertEqual(track.frameCount, 30)
        XCTAssertEqual(track[9], .silence)
        XCTAssertEqual(track[10], .pp)
        XCTAssertEqual(track[14], .pp)
        XCTAssertEqual(track[15], .aa)
        XCTAssertEqual(track[24], .aa)
        XCTAssertEqual(track[25], .silence)
        let runs = track.events()
        XCTAssertEqual(runs.map(\.viseme), [.silence, .pp, .aa, .silence])
        XCTAssertEqual(runs[1].start, 0.10, accuracy: 1e-9)
        XCTAssertEqual(runs[1].duration, 0.05, accuracy: 1e-9)
    }
}
