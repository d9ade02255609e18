import CDRM
import Foundation

/// An open DRM device file (`/dev/dri/cardN`): discovery, opening with a clear reason when that is impossible,
/// DRM master, client capabilities, and reading the card's ``KMSInventory``.
public final class DRMCard {
    /// The device path.
    public let path: String
    /// The open file descriptor (owned; closed on deinit).
    public let fd: Int32
    /// The kernel driver's name.
    public let driver: String
    /// Whether atomic modesetting was enabled for this file (`DRM_CLIENT_CAP_ATOMIC` accepted).
    public let atomic: Bool

    /// Where DRM device files live.
    public static let defaultDirectory = "/dev/dri"

    /// The card device files in `directory`, in number order ("card0" before "card10").
    /// - Throws: ``DisplayError`` "no display: …" when the folder is missing or holds no card.
    public static func cardPaths(in directory: String = defaultDirectory) throws -> [String] {
        let hint = "is a DRM driver loaded? on a board, check that vc4, rockchipdrm, sun4i-drm or the board's display driver is enabled"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw DisplayError("no display: \(directory) does not exist (\(hint))")
        }
        let cards = names.filter { $0.hasPrefix("card") && Int($0.dropFirst(4)) != nil }
            .sorted { Int($0.dropFirst(4))! < Int($1.dropFirst(4))! }
        guard !cards.isEmpty else { throw DisplayError("no display: \(directory) has no card (\(hint))") }
        return cards.map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Opens `path` read-write.
    /// - Parameters:
    ///   - master: become DRM master (needed to set modes); explains who holds it when that fails.
    ///   - atomic: ask for atomic modesetting; falls back to legacy when the driver refuses.
    public init(path: String, master: Bool, atomic: Bool) throws {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw Self.openFailure(path: path, errno: errno) }
        self.path = path
        self.fd = fd
        var name = "unknown"
        if let version = drmGetVersion(fd) {
            if let n = version.pointee.name { name = String(cString: n) }
            drmFreeVersion(version)
        }
        driver = name
        var dumb: UInt64 = 0
        guard drmGetCap(fd, UInt64(DRM_CAP_DUMB_BUFFER), &dumb) == 0, dumb != 0,
              let resources = drmModeGetResources(fd) else {
            close(fd)
            throw DisplayError("\(path) (driver \(name)) cannot drive a display: it is a render-only or non-KMS device")
        }
        drmModeFreeResources(resources)
        _ = drmSetClientCap(fd, UInt64(DRM_CLIENT_CAP_UNIVERSAL_PLANES), 1)
        self.atomic = atomic && drmSetClientCap(fd, UInt64(DRM_CLIENT_CAP_ATOMIC), 1) == 0
        if master { try acquireMaster() }
    }

    /// Becomes DRM master (needed to set modes) unless already; explains who holds it when that fails.
    public func acquireMaster() throws {
        guard drmIsMaster(fd) == 0 else { return }
        if drmSetMaster(fd) != 0 { throw Self.masterFailure(path: path, errno: errno) }
    }

    deinit {
        close(fd)
    }

    /// The card to use when none was named: the first where connector `connector` (or any connector, when nil)
    /// is connected; with `preferred` (`connector` is a board profile's default, see ``KMSInventory/connector(preferring:)``)
    /// next the first where any connector is; else the first card that can drive a display at all. Render-only
    /// cards (v3d, panfrost) are skipped.
    public static func find(directory: String = defaultDirectory, connector: String?, preferred: Bool = false,
                            master: Bool, atomic: Bool) throws -> DRMCard {
        // 2: the connector asked for is connected; 1: another one is (only when it is a preference); 0: neither.
        var chosen: (card: DRMCard, rank: Int)?
        var firstError: Error?
        for path in try cardPaths(in: directory) {
            do {
                let card = try DRMCard(path: path, master: false, atomic: atomic)
                let inventory = try? card.inventory()
                var rank = 0
                if (try? inventory?.connector(named: connector)) != nil {
                    rank = 2
                } else if preferred, (try? inventory?.connector(named: nil)) != nil {
                    rank = 1
                }
                if chosen == nil || rank > chosen!.rank { chosen = (card, rank) }
                if rank == 2 { break }
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        guard let card = chosen?.card else {
            throw firstError ?? DisplayError("no display: no card in \(directory) can drive a display")
        }
        if master { try card.acquireMaster() }
        return card
    }

    /// Reads connectors (with modes), CRTCs and planes.
    public func inventory() throws -> KMSInventory {
        guard let res = drmModeGetResources(fd) else {
            let code = errno
            throw DisplayError("\(path): " + describeFailure("drmModeGetResources", errno: code), errno: code)
        }
        defer { drmModeFreeResources(res) }
        let crtcIDs = Array(UnsafeBufferPointer(start: res.pointee.crtcs, count: Int(res.pointee.count_crtcs)))
        let encoderIDs = Array(UnsafeBufferPointer(start: res.pointee.encoders, count: Int(res.pointee.count_encoders)))
        let connectorIDs = Array(UnsafeBufferPointer(start: res.pointee.connectors, count: Int(res.pointee.count_connectors)))

        var encoderCRTC = [UInt32: UInt32](), encoderPossible = [UInt32: UInt32]()
        for id in encoderIDs {
            guard let e = drmModeGetEncoder(fd, id) else { continue }
            encoderCRTC[id] = e.pointee.crtc_id
            encoderPossible[id] = e.pointee.possible_crtcs
            drmModeFreeEncoder(e)
        }
        var crtcs = [CRTCInfo]()
        for (index, id) in crtcIDs.enumerated() {
            guard let c = drmModeGetCrtc(fd, id) else { continue }
            let mode = c.pointee.mode_valid != 0 ? DisplayMode(c.pointee.mode) : nil
            crtcs.append(CRTCInfo(id: id, index: index, mode: mode, framebufferID: c.pointee.buffer_id,
                                  x: Int(c.pointee.x), y: Int(c.pointee.y)))
            drmModeFreeCrtc(c)
        }
        var connectors = [ConnectorInfo]()
        for id in connectorIDs {
            guard let c = drmModeGetConnector(fd, id) else { continue }
            let p = c.pointee
            let modes = (0..<Int(p.count_modes)).map { DisplayMode(p.modes[$0]) }
            var possible: UInt32 = 0
            for k in 0..<Int(p.count_encoders) { possible |= encoderPossible[p.encoders[k]] ?? 0 }
            let status: ConnectorStatus = p.connection == DRM_MODE_CONNECTED ? .connected
                : p.connection == DRM_MODE_DISCONNECTED ? .disconnected : .unknown
            connectors.append(ConnectorInfo(
                id: id, name: ConnectorInfo.name(type: p.connector_type, typeID: p.connector_type_id), status: status,
                modes: modes, currentCRTCID: p.encoder_id != 0 ? encoderCRTC[p.encoder_id] ?? 0 : 0,
                possibleCRTCIndices: Self.indices(possible), widthMM: Int(p.mmWidth), heightMM: Int(p.mmHeight)))
            drmModeFreeConnector(c)
        }
        var planes = [PlaneInfo]()
        if let list = drmModeGetPlaneResources(fd) {
            for k in 0..<Int(list.pointee.count_planes) {
                let id = list.pointee.planes[k]
                guard let plane = drmModeGetPlane(fd, id) else { continue }
                let p = plane.pointee
                let formats = Array(UnsafeBufferPointer(start: p.formats, count: Int(p.count_formats)))
                planes.append(PlaneInfo(id: id, kind: planeKind(id), possibleCRTCIndices: Self.indices(p.possible_crtcs),
                                        formats: formats, crtcID: p.crtc_id, framebufferID: p.fb_id))
                drmModeFreePlane(plane)
            }
            drmModeFreePlaneResources(list)
        }
        return KMSInventory(path: path, driver: driver, supportsAtomic: atomic, connectors: connectors, crtcs: crtcs,
                            planes: planes)
    }

    /// The ids of `object`'s properties by name (for atomic commits).
    func propertyIDs(of object: UInt32, type: UInt32) -> [String: UInt32] {
        propertyValues(of: object, type: type).mapValues(\.id)
    }

    /// `object`'s properties by name: id and current value.
    func propertyValues(of object: UInt32, type: UInt32) -> [String: (id: UInt32, value: UInt64)] {
        guard let props = drmModeObjectGetProperties(fd, object, type) else { return [:] }
        defer { drmModeFreeObjectProperties(props) }
        var out = [String: (id: UInt32, value: UInt64)]()
        for k in 0..<Int(props.pointee.count_props) {
            let id = props.pointee.props[k]
            guard let prop = drmModeGetProperty(fd, id) else { continue }
            let name = withUnsafeBytes(of: prop.pointee.name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            out[name] = (id, props.pointee.prop_values[k])
            drmModeFreeProperty(prop)
        }
        return out
    }

    private func planeKind(_ id: UInt32) -> PlaneKind {
        guard let value = propertyValues(of: id, type: UInt32(DRM_MODE_OBJECT_PLANE))["type"]?.value else { return .unknown }
        switch value {
        case UInt64(DRM_PLANE_TYPE_PRIMARY): return .primary
        case UInt64(DRM_PLANE_TYPE_OVERLAY): return .overlay
        case UInt64(DRM_PLANE_TYPE_CURSOR): return .cursor
        default: return .unknown
        }
    }

    static func indices(_ mask: UInt32) -> [Int] { (0..<32).filter { mask & (1 << UInt32($0)) != 0 } }

    static func openFailure(path: String, errno code: Int32) -> DisplayError {
        let cause = describeFailure("open", errno: code)
        switch code {
        case ENOENT:
            return DisplayError("no display: \(path) does not exist", errno: code)
        case EACCES, EPERM:
            var group = "video"
            var info = stat()
            if stat(path, &info) == 0, let g = getgrgid(info.st_gid), let name = g.pointee.gr_name {
                group = String(cString: name)
            }
            return DisplayError("\(path): \(cause): join the '\(group)' group (sudo usermod -aG \(group) $USER, then log in again) or run as root", errno: code)
        default:
            return DisplayError("\(path): \(cause)", errno: code)
        }
    }

    static func masterFailure(path: String, errno code: Int32) -> DisplayError {
        let cause = describeFailure("drmSetMaster", errno: code)
        if code == EACCES || code == EPERM {
            return DisplayError("\(path): \(cause): another program is the display's master and parla may not take over; stop the X server or Wayland compositor (e.g. systemctl stop display-manager) or run as root from a text console", errno: code)
        }
        return DisplayError("\(path): \(cause): another display server (X, a Wayland compositor or another KMS program) is using the display; stop it (e.g. systemctl stop display-manager) or run parla from a free text console", errno: code)
    }
}

extension DisplayMode {
    /// The mode described by a kernel mode record.
    init(_ m: drmModeModeInfo) {
        let name = withUnsafeBytes(of: m.name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        self.init(width: Int(m.hdisplay), height: Int(m.vdisplay), clock: m.clock, hSyncStart: m.hsync_start,
                  hSyncEnd: m.hsync_end, hTotal: m.htotal, hSkew: m.hskew, vSyncStart: m.vsync_start,
                  vSyncEnd: m.vsync_end, vTotal: m.vtotal, vScan: m.vscan, vRefresh: m.vrefresh, flags: m.flags,
                  type: m.type, name: name)
    }

    /// The kernel mode record for this mode.
    var modeInfo: drmModeModeInfo {
        var m = drmModeModeInfo()
        m.clock = clock
        m.hdisplay = UInt16(width); m.hsync_start = hSyncStart; m.hsync_end = hSyncEnd; m.htotal = hTotal; m.hskew = hSkew
        m.vdisplay = UInt16(height); m.vsync_start = vSyncStart; m.vsync_end = vSyncEnd; m.vtotal = vTotal; m.vscan = vScan
        m.vrefresh = vRefresh
        m.flags = flags
        m.type = type
        withUnsafeMutableBytes(of: &m.name) { raw in
            for (i, b) in name.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        return m
    }
}
