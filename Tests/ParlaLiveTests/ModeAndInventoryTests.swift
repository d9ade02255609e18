import XCTest
@testable import ParlaIO

/// `--mode` parsing and selection, connector/CRTC/plane choice, and the `--list-outputs` text.
final class ModeAndInventoryTests: XCTestCase {
    /// A CEA-like mode with totals chosen so the refresh rate comes out at `hz`.
    static func mode(_ w: Int, _ h: Int, hz: Double, preferred: Bool = false, interlaced: Bool = false) -> DisplayMode {
        let hTotal = UInt16(w + 160), vTotal = UInt16(h + 45)
        let clock = UInt32((hz * Double(hTotal) * Double(vTotal) / 1000).rounded())
        return DisplayMode(width: w, height: h, clock: clock, hSyncStart: UInt16(w + 48), hSyncEnd: UInt16(w + 80),
                           hTotal: hTotal, vSyncStart: UInt16(h + 3), vSyncEnd: UInt16(h + 8), vTotal: vTotal,
                           vRefresh: UInt32(hz.rounded()), flags: interlaced ? 1 << 4 : 0, type: preferred ? 1 << 3 : 0)
    }

    let modes = [
        mode(1920, 1080, hz: 60, preferred: true), mode(1920, 1080, hz: 59.94), mode(1920, 1080, hz: 50),
        mode(1920, 1080, hz: 30, interlaced: true)  /* 60 fields/s */, mode(1280, 720, hz: 60), mode(1280, 720, hz: 50), mode(640, 480, hz: 59.94),
    ]

    func testParsesModeStrings() throws {
        XCTAssertEqual(try ModeRequest(parsing: "preferred"), .preferred)
        XCTAssertEqual(try ModeRequest(parsing: "640x480"), .size(width: 640, height: 480, refresh: nil))
        XCTAssertEqual(try ModeRequest(parsing: "1920x1080@59.94"), .size(width: 1920, height: 1080, refresh: 59.94))
        XCTAssertEqual(try ModeRequest(parsing: " 1280X720@60 "), .size(width: 1280, height: 720, refresh: 60))
        for bad in ["", "640", "640x", "x480", "640x480@", "640x480@0", "640x480@abc", "-640x480", "640x480@60@60", "99999x1"] {
            XCTAssertThrowsError(try ModeRequest(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("mode '\(bad)' is not of the form"), "\(error)")
            }
        }
        XCTAssertEqual(ModeRequest.size(width: 1920, height: 1080, refresh: 59.94).description, "1920x1080@59.94")
        XCTAssertEqual(ModeRequest.size(width: 640, height: 480, refresh: 60).description, "640x480@60")
    }

    func testSelectsModes() throws {
        XCTAssertEqual(try ModeRequest.preferred.select(from: modes, connector: "HDMI-A-1"), modes[0])
        XCTAssertEqual(try ModeRequest(parsing: "1920x1080@59.94").select(from: modes, connector: "HDMI-A-1"), modes[1])
        XCTAssertEqual(try ModeRequest(parsing: "1920x1080@50").select(from: modes, connector: "HDMI-A-1"), modes[2])
        XCTAssertEqual(try ModeRequest(parsing: "1920x1080").select(from: modes, connector: "HDMI-A-1"), modes[0], "highest rate, progressive")
        XCTAssertEqual(try ModeRequest(parsing: "1280x720").select(from: modes, connector: "HDMI-A-1"), modes[4])
        // 60 matches 59.94 when nothing closer exists (within 0.5 Hz).
        XCTAssertEqual(try ModeRequest(parsing: "640x480@60").select(from: modes, connector: "HDMI-A-1"), modes[6])
        XCTAssertThrowsError(try ModeRequest(parsing: "1280x720@75").select(from: modes, connector: "HDMI-A-1")) { error in
            XCTAssertEqual("\(error)", "HDMI-A-1 has no mode 1280x720@75; it offers 1920x1080@60.00, 1920x1080@59.94, 1920x1080@50.00, 1920x1080i@60.00, 1280x720@60.00, 1280x720@50.00, 640x480@59.94")
        }
        XCTAssertThrowsError(try ModeRequest.preferred.select(from: [], connector: "DSI-1")) { error in
            XCTAssertEqual("\(error)", "DSI-1 reports no modes (is a display attached and powered?)")
        }
        XCTAssertEqual(Self.mode(640, 480, hz: 59.94).refreshRate, 59.94, accuracy: 0.01)
    }

    var inventory: KMSInventory {
        KMSInventory(
            path: "/dev/dri/card1", driver: "vc4", supportsAtomic: true,
            connectors: [
                ConnectorInfo(id: 32, name: ConnectorInfo.name(type: 11, typeID: 1), status: .connected,
                              modes: [modes[0], modes[4], modes[4]], currentCRTCID: 90, possibleCRTCIndices: [0, 1],
                              widthMM: 600, heightMM: 340),
                ConnectorInfo(id: 40, name: ConnectorInfo.name(type: 11, typeID: 2), status: .disconnected, modes: [],
                              possibleCRTCIndices: [1]),
                ConnectorInfo(id: 45, name: ConnectorInfo.name(type: 16, typeID: 1), status: .connected, modes: [modes[6]],
                              possibleCRTCIndices: [0, 1]),
            ],
            crtcs: [CRTCInfo(id: 90, index: 0, mode: modes[0], framebufferID: 77), CRTCInfo(id: 95, index: 1, mode: nil, framebufferID: 0)],
            planes: [PlaneInfo(id: 60, kind: .primary, possibleCRTCIndices: [0], formats: [0x3432_5258, 0x3432_5241]),
                     PlaneInfo(id: 61, kind: .primary, possibleCRTCIndices: [1], formats: [0x3432_5258]),
                     PlaneInfo(id: 70, kind: .cursor, possibleCRTCIndices: [0, 1], formats: [0x3432_5241])])
    }

    func testChoosesConnectorCRTCAndPlane() throws {
        let inv = inventory
        XCTAssertEqual(try inv.connector(named: nil).name, "HDMI-A-1")
        XCTAssertEqual(try inv.connector(named: "dsi-1").id, 45)
        XCTAssertThrowsError(try inv.connector(named: "HDMI-A-2")) {
            XCTAssertEqual("\($0)", "HDMI-A-2 on /dev/dri/card1 is disconnected: plug in a display (connectors: HDMI-A-1 (connected), HDMI-A-2 (disconnected), DSI-1 (connected))")
        }
        XCTAssertThrowsError(try inv.connector(named: "Virtual-1")) {
            XCTAssertEqual("\($0)", "/dev/dri/card1 has no connector Virtual-1; it has HDMI-A-1 (connected), HDMI-A-2 (disconnected), DSI-1 (connected)")
        }
        // HDMI-A-1 keeps its CRTC; DSI-1 gets the CRTC nobody else uses.
        XCTAssertEqual(try inv.crtc(for: inv.connector(named: "HDMI-A-1")).id, 90)
        let dsiCRTC = try inv.crtc(for: inv.connector(named: "DSI-1"))
        XCTAssertEqual(dsiCRTC.id, 95)
        XCTAssertEqual(try inv.primaryPlane(for: dsiCRTC).id, 61)
        let none = KMSInventory(path: "/dev/dri/card0", driver: "x", supportsAtomic: false, connectors: [], crtcs: [], planes: [])
        XCTAssertThrowsError(try none.connector(named: nil)) {
            XCTAssertEqual("\($0)", "no display connected to /dev/dri/card0 (connectors: none)")
        }
    }

    /// A board profile's output (pi5: HDMI-A-1) is a preference: a panel on another connector is taken, with a line
    /// saying so; only the user's --output is strict (testChoosesConnectorCRTCAndPlane).
    func testProfileOutputIsAPreference() throws {
        let inv = inventory
        let kept = try inv.connector(preferring: "hdmi-a-1")
        XCTAssertEqual(kept.connector.id, 32)
        XCTAssertNil(kept.note)
        let disconnected = try inv.connector(preferring: "HDMI-A-2")
        XCTAssertEqual(disconnected.connector.name, "HDMI-A-1")
        XCTAssertEqual(disconnected.note, "HDMI-A-2 is disconnected on /dev/dri/card1: using HDMI-A-1, the first connected connector")
        let missing = try inv.connector(preferring: "Virtual-1")
        XCTAssertEqual(missing.connector.name, "HDMI-A-1")
        XCTAssertEqual(missing.note, "Virtual-1 does not exist on /dev/dri/card1: using HDMI-A-1, the first connected connector")
        // The panel on DSI only (a Pi with the official touch display, HDMI ports empty).
        var dsiOnly = inv
        dsiOnly.connectors[0].status = .disconnected
        let dsi = try dsiOnly.connector(preferring: "HDMI-A-1")
        XCTAssertEqual(dsi.connector.name, "DSI-1")
        XCTAssertEqual(dsi.note, "HDMI-A-1 is disconnected on /dev/dri/card1: using DSI-1, the first connected connector")
        XCTAssertThrowsError(try dsiOnly.connector(named: "HDMI-A-1"), "--output stays strict")
        // Nothing connected at all: the same error as without a name.
        dsiOnly.connectors[2].status = .disconnected
        XCTAssertThrowsError(try dsiOnly.connector(preferring: "HDMI-A-1")) {
            XCTAssertEqual("\($0)", "no display connected to /dev/dri/card1 (connectors: HDMI-A-1 (disconnected), HDMI-A-2 (disconnected), DSI-1 (disconnected))")
        }
    }

    func testListOutputsFormatting() {
        XCTAssertEqual(inventory.formatted(maxModes: 1), """
        /dev/dri/card1: driver vc4, atomic modesetting
          connector HDMI-A-1 (id 32): connected, 600x340 mm, 3 modes, on crtc 90
              1920x1080@60.00*+
              … 1 more
          connector HDMI-A-2 (id 40): disconnected, 0 modes
          connector DSI-1 (id 45): connected, 1 mode
              640x480@59.94
          crtc 90 (index 0): 1920x1080@60.00, framebuffer 77
          crtc 95 (index 1): off
          plane 60 primary, crtcs {0}, formats XR24 AR24
          plane 61 primary, crtcs {1}, formats XR24
          plane 70 cursor, crtcs {0,1}, formats AR24
        """)
        XCTAssertEqual(ALSADeviceList.formatted([AudioDeviceInfo(name: "default", description: "Default ALSA Output"),
                                                 AudioDeviceInfo(name: "hw:CARD=vc4hdmi0,DEV=0", description: "vc4-hdmi-0 — MAI PCM")]), """
        ALSA playback devices:
          default                 Default ALSA Output
          hw:CARD=vc4hdmi0,DEV=0  vc4-hdmi-0 — MAI PCM
        """)
        XCTAssertEqual(ALSADeviceList.formatted([]), "ALSA playback devices: none (no sound card; use --audio-device none)")
        XCTAssertEqual(ConnectorInfo.name(type: 15, typeID: 1), "Virtual-1")
        XCTAssertEqual(ConnectorInfo.name(type: 99, typeID: 2), "Type99-2")
        XCTAssertEqual(PlaneInfo.fourccName(0x3231_564E), "NV12")
        XCTAssertEqual(PlaneInfo.fourccName(0x0000_0001), "0x00000001")
    }
}
