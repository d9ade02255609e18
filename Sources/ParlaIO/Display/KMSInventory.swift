/// Whether a display is plugged into a connector.
public enum ConnectorStatus: String, Sendable, Equatable {
    case connected, disconnected, unknown
}

/// A connector (a physical or virtual display output) as KMS reports it.
public struct ConnectorInfo: Sendable, Equatable {
    /// The KMS object id.
    public var id: UInt32
    /// The kernel's name: type and per-type index, e.g. "HDMI-A-1", "DSI-1", "Virtual-1".
    public var name: String
    /// Whether a display is plugged in.
    public var status: ConnectorStatus
    /// The modes the display offers (from its EDID, or the driver's list).
    public var modes: [DisplayMode]
    /// The CRTC currently driving it (0 when off).
    public var currentCRTCID: UInt32
    /// CRTC indices any of its encoders can use.
    public var possibleCRTCIndices: [Int]
    /// Physical width in millimetres (0 when unknown).
    public var widthMM: Int
    /// Physical height in millimetres (0 when unknown).
    public var heightMM: Int

    /// A connector description (read from the device or built by tests).
    public init(id: UInt32, name: String, status: ConnectorStatus, modes: [DisplayMode], currentCRTCID: UInt32 = 0,
                possibleCRTCIndices: [Int], widthMM: Int = 0, heightMM: Int = 0) {
        self.id = id; self.name = name; self.status = status; self.modes = modes
        self.currentCRTCID = currentCRTCID; self.possibleCRTCIndices = possibleCRTCIndices
        self.widthMM = widthMM; self.heightMM = heightMM
    }

    /// The kernel's connector type names, indexed by `DRM_MODE_CONNECTOR_*`.
    static let typeNames = [
        "Unknown", "VGA", "DVI-I", "DVI-D", "DVI-A", "Composite", "SVIDEO", "LVDS", "Component", "DIN", "DP",
        "HDMI-A", "HDMI-B", "TV", "eDP", "Virtual", "DSI", "DPI", "Writeback", "SPI", "USB",
    ]

    /// The kernel's name for connector type `type` number `typeID`, e.g. (11, 1) → "HDMI-A-1".
    public static func name(type: UInt32, typeID: UInt32) -> String {
        let base = Int(type) < typeNames.count ? typeNames[Int(type)] : "Type\(type)"
        return "\(base)-\(typeID)"
    }
}

/// A CRTC (scan-out engine) and what it shows now.
public struct CRTCInfo: Sendable, Equatable {
    /// The KMS object id.
    public var id: UInt32
    /// Its position in the card's CRTC list (what `possible_crtcs` bitmasks refer to).
    public var index: Int
    /// The mode it scans out, nil when off.
    public var mode: DisplayMode?
    /// The framebuffer it scans out (0 when none).
    public var framebufferID: UInt32
    /// Scan-out origin within the framebuffer, pixels.
    public var x: Int
    /// Scan-out origin's row within the framebuffer.
    public var y: Int

    /// A CRTC description.
    public init(id: UInt32, index: Int, mode: DisplayMode?, framebufferID: UInt32, x: Int = 0, y: Int = 0) {
        self.id = id; self.index = index; self.mode = mode; self.framebufferID = framebufferID; self.x = x; self.y = y
    }
}

/// What a plane is for.
public enum PlaneKind: String, Sendable, Equatable {
    case primary, overlay, cursor, unknown
}

/// A hardware plane (a layer a CRTC composes).
public struct PlaneInfo: Sendable, Equatable {
    /// The KMS object id.
    public var id: UInt32
    /// Primary (the main picture), overlay or cursor.
    public var kind: PlaneKind
    /// CRTC indices it can be attached to.
    public var possibleCRTCIndices: [Int]
    /// Supported pixel formats as fourcc codes.
    public var formats: [UInt32]
    /// The CRTC and framebuffer it shows now (0 when idle).
    public var crtcID: UInt32
    /// The framebuffer it shows now (0 when idle).
    public var framebufferID: UInt32

    /// A plane description.
    public init(id: UInt32, kind: PlaneKind, possibleCRTCIndices: [Int], formats: [UInt32], crtcID: UInt32 = 0,
                framebufferID: UInt32 = 0) {
        self.id = id; self.kind = kind; self.possibleCRTCIndices = possibleCRTCIndices; self.formats = formats
        self.crtcID = crtcID; self.framebufferID = framebufferID
    }

    /// A fourcc code as its four characters, e.g. 0x34325258 → "XR24".
    public static func fourccName(_ code: UInt32) -> String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: code >> (8 * $0)) }
        guard bytes.allSatisfy({ (0x20...0x7e).contains($0) }) else { return String(format: "0x%08x", code) }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }
}

/// Everything `parla live --list-outputs` shows about one DRM card.
public struct KMSInventory: Sendable, Equatable {
    /// The device file, e.g. "/dev/dri/card0".
    public var path: String
    /// The kernel driver's name, e.g. "vc4", "virtio_gpu".
    public var driver: String
    /// Whether the driver takes atomic commits.
    public var supportsAtomic: Bool
    /// Every connector, in the driver's order.
    public var connectors: [ConnectorInfo]
    /// Every CRTC, in index order.
    public var crtcs: [CRTCInfo]
    /// Every plane (universal planes: primary and cursor included).
    public var planes: [PlaneInfo]

    /// An inventory (read from a device by ``DRMCard/inventory()`` or built by tests).
    public init(path: String, driver: String, supportsAtomic: Bool, connectors: [ConnectorInfo], crtcs: [CRTCInfo],
                planes: [PlaneInfo]) {
        self.path = path; self.driver = driver; self.supportsAtomic = supportsAtomic
        self.connectors = connectors; self.crtcs = crtcs; self.planes = planes
    }

    /// The connector called `name` (case-insensitive), or the first connected one with modes when `name` is nil.
    /// - Throws: ``DisplayError`` listing the connectors when none fits.
    public func connector(named name: String?) throws -> ConnectorInfo {
        let summary = connectors.map { "\($0.name) (\($0.status.rawValue))" }.joined(separator: ", ")
        if let name {
            guard let c = connectors.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) else {
                throw DisplayError("\(path) has no connector \(name); it has \(summary.isEmpty ? "none" : summary)")
            }
            guard c.status != .disconnected else {
                throw DisplayError("\(c.name) on \(path) is disconnected: plug in a display (connectors: \(summary))")
            }
            return c
        }
        guard let c = connectors.first(where: { $0.status == .connected && !$0.modes.isEmpty }) else {
            throw DisplayError("no display connected to \(path) (connectors: \(summary.isEmpty ? "none" : summary))")
        }
        return c
    }

    /// The connector called `name` when it exists and is not disconnected, else the first connected one with modes
    /// and a line saying why `name` was passed over: a default (a board profile's `display`) is a preference, not a
    /// demand (the panel of a Pi 5 may be on HDMI-A-2 or DSI-1). Only an `--output` the user typed is strict
    /// (``connector(named:)``).
    /// - Throws: ``DisplayError`` when no connector at all is connected.
    public func connector(preferring name: String) throws -> (connector: ConnectorInfo, note: String?) {
        if let c = try? connector(named: name) { return (c, nil) }
        let c = try connector(named: nil)
        let why = connectors.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }).map { "is \($0.status.rawValue)" }
            ?? "does not exist"
        return (c, "\(name) \(why) on \(path): using \(c.name), the first connected connector")
    }

    /// The CRTC to drive `connector` with: the one it uses now if any, else the first it can use that no other
    /// connector is using.
    public func crtc(for connector: ConnectorInfo) throws -> CRTCInfo {
        if let c = crtcs.first(where: { $0.id == connector.currentCRTCID }) { return c }
        let busy = Set(connectors.filter { $0.id != connector.id }.map(\.currentCRTCID))
        let candidates = crtcs.filter { connector.possibleCRTCIndices.contains($0.index) }
        guard let first = candidates.first(where: { !busy.contains($0.id) }) ?? candidates.first else {
            throw DisplayError("\(path): no CRTC can drive \(connector.name)")
        }
        return first
    }

    /// The primary plane that can show `crtc`.
    public func primaryPlane(for crtc: CRTCInfo) throws -> PlaneInfo {
        guard let plane = planes.first(where: { $0.kind == .primary && $0.possibleCRTCIndices.contains(crtc.index) }) else {
            throw DisplayError("\(path): no primary plane for CRTC \(crtc.id)")
        }
        return plane
    }
}
