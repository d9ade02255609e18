import Foundation
import ParlaMedia
import ParlaTestSupport
import XCTest
@testable import ParlaIO
@testable import ParlaRuntime

/// Machines without a display (like the test host): the errors must say what is missing, in one line, before
/// any other work.
final class NoDisplayTests: XCTestCase {
    func testMissingOrEmptyDRIFolder() throws {
        XCTAssertThrowsError(try DRMCard.cardPaths(in: "/nonexistent/dri")) { error in
            XCTAssertEqual("\(error)", "no display: /nonexistent/dri does not exist (is a DRM driver loaded? on a board, check that vc4, rockchipdrm, sun4i-drm or the board's display driver is enabled)")
        }
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data().write(to: dir.appendingPathComponent("renderD128"))
        XCTAssertThrowsError(try DRMCard.cardPaths(in: dir.path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("no display: \(dir.path) has no card (is a DRM driver loaded?"), "\(error)")
        }
        // A "card" that is not a DRM device: named as unable to drive a display.
        try Data().write(to: dir.appendingPathComponent("card0"))
        XCTAssertEqual(try DRMCard.cardPaths(in: dir.path), [dir.appendingPathComponent("card0").path])
        XCTAssertThrowsError(try DRMCard.find(directory: dir.path, connector: nil, master: true, atomic: true)) { error in
            XCTAssertEqual("\(error)", "\(dir.path)/card0 (driver unknown) cannot drive a display: it is a render-only or non-KMS device")
        }
        XCTAssertThrowsError(try DRMCard(path: dir.appendingPathComponent("card7").path, master: false, atomic: false)) { error in
            XCTAssertEqual("\(error)", "no display: \(dir.path)/card7 does not exist")
        }
    }

    func testPermissionAndMasterMessagesSayWhatToDo() {
        let denied = DRMCard.openFailure(path: "/dev/null", errno: EACCES)
        XCTAssertEqual(denied.description, "/dev/null: open: Permission denied (errno 13): join the 'root' group (sudo usermod -aG root $USER, then log in again) or run as root")
        let busy = DRMCard.masterFailure(path: "/dev/dri/card0", errno: EBUSY)
        XCTAssertTrue(busy.description.hasPrefix("/dev/dri/card0: drmSetMaster: Device or resource busy (errno 16): another display server"), busy.description)
    }

    func testLiveFailsOnTheDisplayBeforeAnythingElse() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The audio file does not exist either: the display error must come first.
        var options = LiveOptions(audio: dir.appendingPathComponent("missing.wav"))
        options.driDirectory = dir.path
        options.audioDevice = nil
        let job = LiveJob(options: options)
        var decoderMade = false
        XCTAssertThrowsError(try job.run(stop: StopSignal(handlingSignals: false)) { _, _ in
            decoderMade = true
            throw RuntimeError("unreachable")
        }) { error in
            XCTAssertTrue("\(error)".hasPrefix("no display: \(dir.path) has no card"), "\(error)")
        }
        XCTAssertFalse(decoderMade)

        let listing = LiveJob.listOutputs(driDirectory: dir.path)
        XCTAssertTrue(listing.hasPrefix("display: no display: \(dir.path) has no card"), listing)
        XCTAssertTrue(listing.contains("ALSA playback devices"), listing)
    }

    /// `parla serve` on the panel opens it the way `parla live` does (the same settings and code), first, with the
    /// same one-line errors.
    func testServePanelFailsOnTheDisplayLikeLive() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = FaceEngine.Configuration()
        config.sink = .kms
        config.driDirectory = dir.path
        config.output = "HDMI-A-1"
        config.outputIsPreference = true
        var lines = [String]()
        XCTAssertThrowsError(try EnginePanel(configuration: config, report: { lines.append($0) })) { error in
            XCTAssertTrue("\(error)".hasPrefix("no display: \(dir.path) has no card (is a DRM driver loaded?"), "\(error)")
        }
        config.card = dir.appendingPathComponent("card3").path
        XCTAssertThrowsError(try EnginePanel(configuration: config, report: { lines.append($0) })) { error in
            XCTAssertEqual("\(error)", "no display: \(dir.path)/card3 does not exist")
        }
        XCTAssertEqual(lines, [])
    }

    func testStopSignalWakesWaiters() {
        let stop = StopSignal(handlingSignals: false)
        XCTAssertFalse(stop.isTriggered)
        let start = MonotonicClock.now()
        XCTAssertFalse(stop.wait(seconds: 0.02))
        XCTAssertGreaterThanOrEqual(MonotonicClock.now() - start, 0.015)
        stop.trigger()
        XCTAssertTrue(stop.isTriggered)
        XCTAssertTrue(stop.wait(seconds: 5))
        XCTAssertTrue(stop.isTriggered, "stays triggered for every poller")
    }

    func testSIGTERMTriggersTheHandlingInstance() {
        let stop = StopSignal(handlingSignals: true)
        kill(getpid(), SIGTERM)
        XCTAssertTrue(stop.wait(seconds: 5))
    }
}
