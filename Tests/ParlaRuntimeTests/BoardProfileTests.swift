import Foundation
import XCTest
import ParlaIO
@testable import ParlaRuntime

final class BoardProfileTests: XCTestCase {
    private let minimal = """
        # a comment
        name: Test Board   # trailing comment
        arch: aarch64
        threads: 4
        frame_budget_ms: 25
        """

    func testEveryShippedProfileParses() throws {
        let profiles = try BoardProfiles.locate(environment: [:])
        let ids = profiles.ids()
        for id in ["pi5", "pi4", "rk3588", "generic-a55", "x86-dev"] { XCTAssertTrue(ids.contains(id), id) }
        for id in ids {
            let p = try profiles.profile(id)
            XCTAssertEqual(p.id, id)
            XCTAssertFalse(p.name.isEmpty, id)
            XCTAssertFalse(p.setup.isEmpty, "\(id) has no setup steps")
            XCTAssertLessThanOrEqual(p.frameBudgetMs, 1000 / p.fps, "\(id): the budget exceeds the frame period")
        }
        let pi5 = try profiles.profile("pi5")
        XCTAssertEqual(pi5.architecture, "aarch64")
        XCTAssertEqual(pi5.display, "HDMI-A-1")
        XCTAssertEqual(pi5.kms, "atomic")
        XCTAssertTrue(pi5.setup.contains { $0.contains("video,render,audio") })
    }

    func testMinimalProfileTakesDefaults() throws {
        let p = try BoardProfile(id: "t", text: minimal, source: "t.board")
        XCTAssertEqual(p.name, "Test Board")
        XCTAssertEqual(p.threads, 4)
        XCTAssertEqual(p.frameBudgetMs, 25)
        XCTAssertEqual(p.size, 512)
        XCTAssertEqual(p.fps, 30)
        XCTAssertEqual(p.mode, "preferred")
        XCTAssertNil(p.display)
        XCTAssertEqual(p.match, [])
    }

    func testBadProfilesGiveOneLineErrorsWithTheLine() {
        let cases: [(String, String)] = [
            (minimal + "\nfpz: 30", "t.board:6: unknown key 'fpz'"),
            (minimal + "\nthreads: 8", "t.board:6: 'threads' is given twice"),
            (minimal + "\nfps: fast", "t.board:6: fps 'fast' must be a number"),
            (minimal + "\nfps: 0", "t.board:6: fps '0' must be a number"),
            (minimal + "\nsize: 8", "t.board:6: size '8' must be a whole number"),
            (minimal + "\nmode: big", "t.board:6: mode 'big' must be preferred"),
            (minimal + "\nkms: fancy", "t.board:6: kms 'fancy' must be auto"),
            (minimal + "\njust text", "t.board:6: expected 'key: value'"),
            (minimal + "\ndisplay:", "t.board:6: 'display' has no value"),
            ("name: x\narch: arm\nthreads: 1\nframe_budget_ms: 1", "t.board:2: arch 'arm' must be aarch64 or x86_64"),
            ("name: x\nthreads: 1\nframe_budget_ms: 1", "t.board: missing 'arch'"),
            ("", "t.board: missing 'name'"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try BoardProfile(id: "t", text: text, source: "t.board")) { error in
                let message = String(describing: error)
                XCTAssertTrue(message.hasPrefix(expected), "'\(message)' should start with '\(expected)'")
                XCTAssertFalse(message.contains("\n"))
            }
        }
    }

    func testDetectionAndResolution() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parla-boards-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try (minimal + "\nmatch: Raspberry Pi 5").write(to: dir.appendingPathComponent("b.board"), atomically: true, encoding: .utf8)
        try (minimal + "\nmatch: rockchip,rk3588").write(to: dir.appendingPathComponent("a.board"), atomically: true, encoding: .utf8)
        try "name: broken".write(to: dir.appendingPathComponent("zz.board"), atomically: true, encoding: .utf8)
        let profiles = BoardProfiles(directory: dir)
        XCTAssertEqual(profiles.ids(), ["a", "b", "zz"])
        XCTAssertEqual(try profiles.resolve("auto", model: "Raspberry Pi 5 Model B Rev 1.0")?.id, "b")
        XCTAssertEqual(try profiles.resolve(nil, model: "Radxa ROCK 5B radxa,rock-5b rockchip,rk3588")?.id, "a")
        XCTAssertNil(try profiles.resolve("none", model: "Raspberry Pi 5"))
        XCTAssertEqual(try profiles.resolve("a", model: nil)?.id, "a")
        XCTAssertThrowsError(try profiles.resolve("pi9", model: nil)) { error in
            XCTAssertTrue(String(describing: error).contains("no such profile (known: a, b, zz)"))
        }
        XCTAssertThrowsError(try profiles.resolve("../etc/passwd", model: nil))
        XCTAssertThrowsError(try profiles.resolve("zz", model: nil)) { error in
            XCTAssertTrue(String(describing: error).hasPrefix("zz.board: missing 'arch'"))
        }
        // A model nothing matches reads the broken profile too, and reports it rather than guessing.
        XCTAssertThrowsError(try profiles.resolve("auto", model: "Some PC"))
    }

    func testProfileFillsOnlyTheLiveOptionsNotGiven() throws {
        let p = try BoardProfile(id: "t", text: minimal + "\nsize: 384\nfps: 25\ndisplay: HDMI-A-2\naudio: none\nkms: legacy\nmode: 1280x720@60",
                                 source: "t.board")
        var options = LiveOptions(audio: URL(fileURLWithPath: "/x.wav"))
        options.size = 256
        try options.apply(p, except: ["size"])
        XCTAssertEqual(options.size, 256)
        XCTAssertEqual(options.fps, 25)
        XCTAssertEqual(options.output, "HDMI-A-2")
        XCTAssertTrue(options.outputIsPreference, "a profile's display is a preference")
        XCTAssertNil(options.audioDevice)
        XCTAssertEqual(options.kms, .legacy)
        XCTAssertEqual(options.mode, try ModeRequest(parsing: "1280x720@60"))
        XCTAssertEqual(options.decoderThreads, 4, "the profile's threads reach the decoder")
        options.decoderThreads = 2
        try options.apply(p, except: ["threads"])
        XCTAssertEqual(options.decoderThreads, 2, "a typed --threads wins")

        // --output typed: the user's connector stays, and stays strict.
        var typed = LiveOptions(audio: URL(fileURLWithPath: "/x.wav"))
        typed.output = "DSI-1"
        try typed.apply(p, except: ["output"])
        XCTAssertEqual(typed.output, "DSI-1")
        XCTAssertFalse(typed.outputIsPreference)
    }

    /// `parla serve` takes a profile the same way as `parla live` (one implementation for both settings types).
    func testProfileFillsTheServeEngineSettingsToo() throws {
        let p = try BoardProfile(id: "t", text: minimal + "\nsize: 384\nfps: 25\ndisplay: HDMI-A-2\naudio: hw:1,0\nkms: legacy",
                                 source: "t.board")
        var config = FaceEngine.Configuration()
        config.sink = .kms
        config.audioDevice = "default"
        try config.apply(p, except: ["fps"])
        XCTAssertEqual(config.size, 384)
        XCTAssertEqual(config.fps, 30)
        XCTAssertEqual(config.output, "HDMI-A-2")
        XCTAssertTrue(config.outputIsPreference)
        XCTAssertEqual(config.audioDevice, "hw:1,0")
        XCTAssertEqual(config.kms, .legacy)
        XCTAssertEqual(config.mode, .preferred)
        XCTAssertEqual(config.decoderThreads, 4)
    }
}
