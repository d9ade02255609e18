import Foundation
import XCTest
@testable import ParlaIO
@testable import ParlaRuntime

/// The flip loop's hotplug handling, driven by a fake display (no hardware here, and QEMU offers no way to unplug
/// a virtio-gpu head at run time): an unplugged panel pauses scan-out without ending the run, the mode is set
/// again when it is back, a panel without the mode is waited out, and a failure with the panel present is
/// retried once.
final class HotplugTests: XCTestCase {
    /// A display whose flips fail while "unplugged"; events and probes follow a script.
    final class FakeDisplay: ScanoutDevice {
        var outputName = "HDMI-A-1 on fake"
        var modeDescription = "1280x720@60.00"
        var refreshPeriod = 1.0 / 60
        var plugged = true
        var offersMode = true
        var eventPending = false
        var failFlipsWhilePlugged = 0
        /// Flips "land" even while unplugged (drivers that keep the CRTC running on a disconnected connector).
        var flipsWorkUnplugged = false
        var modesets = 0
        var flips = 0
        var log: [String] = []
        /// Called before each flip with the flip number (to unplug/replug mid-run).
        var beforeFlip: (Int, FakeDisplay) -> Void = { _, _ in }
        /// Called on every wait while unplugged.
        var onWait: (FakeDisplay) -> Void = { _ in }

        func modeset() throws {
            guard plugged && offersMode else { throw DisplayError("fake: drmModeSetCrtc: No such device (errno 19)", errno: ENODEV) }
            modesets += 1
            log.append("modeset")
        }

        func flip(stop: StopSignal) throws -> Double {
            beforeFlip(flips + log.filter { $0 == "flip failed" }.count, self)
            if !plugged && !flipsWorkUnplugged {
                log.append("flip failed")
                throw DisplayError("fake: no page-flip completion within 5 s")
            }
            if failFlipsWhilePlugged > 0 {
                failFlipsWhilePlugged -= 1
                log.append("flip failed")
                throw DisplayError("fake: drmModeAtomicCommit: Invalid argument (errno 22)", errno: EINVAL)
            }
            flips += 1
            log.append("flip")
            return Double(flips) / 60
        }

        func presence() -> OutputPresence { !plugged ? .absent : offersMode ? .ready : .modeMissing }

        func hotplugEventPending() -> Bool {
            defer { eventPending = false }
            return eventPending
        }

        func waitForHotplug(seconds: Double, stop: StopSignal) -> Bool {
            log.append("wait")
            onWait(self)
            return stop.isTriggered
        }
    }

    func run(_ device: FakeDisplay, pictures: Int) throws -> (ScanoutLoop, [String], [FlipTiming]) {
        var loop = ScanoutLoop()
        var reports = [String]()
        loop.report = { reports.append($0) }
        var timings = [FlipTiming]()
        var presented = 0
        try loop.run(device: device, stop: StopSignal(handlingSignals: false)) { timing in
            timings.append(timing)
            if presented == pictures { return .stop }
            presented += 1
            return .present
        }
        return (loop, reports, timings)
    }

    func testUnplugDuringAFlipPausesAndResumesWithAModeset() throws {
        let d = FakeDisplay()
        var waits = 0
        d.beforeFlip = { n, d in if n == 3 { d.plugged = false } }
        d.onWait = { d in waits += 1; if waits == 4 { d.plugged = true } }
        let (loop, reports, timings) = try run(d, pictures: 8)
        XCTAssertEqual(d.log, ["modeset", "flip", "flip", "flip", "flip failed", "wait", "wait", "wait", "wait", "modeset",
                               "flip", "flip", "flip", "flip"])
        XCTAssertEqual(loop.unplugs, 1)
        XCTAssertEqual(loop.replugs, 1)
        XCTAssertEqual(reports.count, 2, "\(reports)")
        XCTAssertTrue(reports[0].hasPrefix("display: HDMI-A-1 on fake went away (fake: no page-flip completion within 5 s): the sound goes on"), reports[0])
        XCTAssertEqual(reports[1], "display: HDMI-A-1 on fake is back: scan-out resumed at 1280x720@60.00")
        // The picture lost with the panel is reported to the caller, so it chooses again.
        XCTAssertEqual(timings.last?.flips, 7)
        XCTAssertEqual(timings.last?.lost, 2)
    }

    func testHotplugEventStopsFlippingUntilThePanelWithTheModeIsBack() throws {
        let d = FakeDisplay()
        var waits = 0
        d.onWait = { d in
            waits += 1
            if waits == 2 { d.plugged = true; d.offersMode = false; d.eventPending = true }   // another panel
            if waits == 4 { d.offersMode = true; d.eventPending = true }
        }
        // The unplug lands while flip 2 is queued and the flip still "succeeds" (drivers that keep the CRTC on):
        // the event alone must pause the loop.
        d.flipsWorkUnplugged = true
        d.beforeFlip = { n, d in if n == 2 { d.eventPending = true; d.plugged = false } }
        let (loop, reports, _) = try run(d, pictures: 4)
        XCTAssertEqual(loop.unplugs, 1)
        XCTAssertEqual(loop.replugs, 1)
        XCTAssertTrue(reports.contains("display: HDMI-A-1 on fake is back but does not offer 1280x720@60.00; waiting for a panel that does"), "\(reports)")
        XCTAssertEqual(d.modesets, 2)
        XCTAssertEqual(d.flips, 4)
        // No flip is attempted while unplugged or while the mode is missing: the fourth comes after the modeset.
        XCTAssertEqual(d.log, ["modeset", "flip", "flip", "flip", "wait", "wait", "wait", "wait", "modeset", "flip"])
    }

    func testFailureWithThePanelPresentIsRetriedOnceThenEndsTheRun() throws {
        let d = FakeDisplay()
        d.failFlipsWhilePlugged = 1
        let (_, reports, _) = try run(d, pictures: 3)
        // Three pictures: the first is lost, the mode is set again, the next two land.
        XCTAssertEqual(d.log, ["modeset", "flip failed", "modeset", "flip", "flip"])
        XCTAssertEqual(reports, ["display: fake: drmModeAtomicCommit: Invalid argument (errno 22); setting 1280x720@60.00 again"])

        let e = FakeDisplay()
        e.failFlipsWhilePlugged = 2
        XCTAssertThrowsError(try run(e, pictures: 3)) { error in
            XCTAssertEqual("\(error)", "fake: drmModeAtomicCommit: Invalid argument (errno 22)")
        }
    }

    func testStopWhileUnpluggedEndsCleanly() throws {
        let d = FakeDisplay()
        d.beforeFlip = { n, d in if n == 1 { d.plugged = false } }
        let stop = StopSignal(handlingSignals: false)
        var waits = 0
        d.onWait = { _ in waits += 1; if waits == 3 { stop.trigger() } }
        var loop = ScanoutLoop()
        try loop.run(device: d, stop: stop) { _ in .present }
        XCTAssertEqual(d.log, ["modeset", "flip", "flip failed", "wait", "wait", "wait"])
    }

    func testUeventParsing() {
        func message(_ fields: [String]) -> [UInt8] { Array(fields.joined(separator: "\0").utf8) + [0] }
        XCTAssertTrue(HotplugMonitor.isDRMHotplug(message(["change@/devices/pci0000:00/0000:00:02.0/drm/card0", "ACTION=change",
                                                          "DEVPATH=/devices/pci0000:00/0000:00:02.0/drm/card0",
                                                          "SUBSYSTEM=drm", "HOTPLUG=1", "DEVNAME=dri/card0", "SEQNUM=2011"])))
        XCTAssertFalse(HotplugMonitor.isDRMHotplug(message(["add@/devices/usb1", "ACTION=add", "SUBSYSTEM=usb"])))
        XCTAssertFalse(HotplugMonitor.isDRMHotplug(message(["change@/x", "SUBSYSTEM=drm", "HOTPLUG=0"])))
    }
}
