import Foundation

/// One video mode a connector offers, with the timing numbers KMS needs to set it (the fields of
/// `drmModeModeInfo`, kept as plain values so mode selection and formatting are testable without a device).
public struct DisplayMode: Sendable, Equatable, CustomStringConvertible {
    /// Visible pixels per line.
    public var width: Int
    /// Visible lines.
    public var height: Int
    /// Pixel clock in kHz.
    public var clock: UInt32
    /// Horizontal timing in pixels: sync start and end, total per line, skew.
    public var hSyncStart: UInt16, hSyncEnd: UInt16, hTotal: UInt16, hSkew: UInt16
    /// Vertical timing in lines: sync start and end, total per frame, scan multiplier.
    public var vSyncStart: UInt16, vSyncEnd: UInt16, vTotal: UInt16, vScan: UInt16
    /// The driver's rounded refresh rate in Hz.
    public var vRefresh: UInt32
    /// `DRM_MODE_FLAG_*` bits (interlace, double scan, sync polarities).
    public var flags: UInt32
    /// `DRM_MODE_TYPE_*` bits (preferred, driver, user).
    public var type: UInt32
    /// The driver's name for the mode, usually "WxH".
    public var name: String

    static let typePreferred: UInt32 = 1 << 3
    static let flagInterlace: UInt32 = 1 << 4
    static let flagDoubleScan: UInt32 = 1 << 5

    /// A mode from its timings.
    public init(width: Int, height: Int, clock: UInt32, hSyncStart: UInt16, hSyncEnd: UInt16, hTotal: UInt16,
                hSkew: UInt16 = 0, vSyncStart: UInt16, vSyncEnd: UInt16, vTotal: UInt16, vScan: UInt16 = 0,
                vRefresh: UInt32, flags: UInt32 = 0, type: UInt32 = 0, name: String? = nil) {
        self.width = width
        self.height = height
        self.clock = clock
        self.hSyncStart = hSyncStart; self.hSyncEnd = hSyncEnd; self.hTotal = hTotal; self.hSkew = hSkew
        self.vSyncStart = vSyncStart; self.vSyncEnd = vSyncEnd; self.vTotal = vTotal; self.vScan = vScan
        self.vRefresh = vRefresh
        self.flags = flags
        self.type = type
        self.name = name ?? "\(width)x\(height)"
    }

    /// Whether the connector marks this mode as its preferred (native) one.
    public var isPreferred: Bool { type & Self.typePreferred != 0 }
    /// Whether the mode is interlaced.
    public var isInterlaced: Bool { flags & Self.flagInterlace != 0 }

    /// Refresh rate in Hz from the pixel clock and totals (e.g. 59.94), or the driver's rounded value when the
    /// totals are missing.
    public var refreshRate: Double {
        guard clock > 0, hTotal > 0, vTotal > 0 else { return Double(vRefresh) }
        var rate = Double(clock) * 1000 / (Double(hTotal) * Double(vTotal))
        if isInterlaced { rate *= 2 }
        if flags & Self.flagDoubleScan != 0 { rate /= 2 }
        if vScan > 1 { rate /= Double(vScan) }
        return rate
    }

    /// "640x480@60.00", with "i" after the height for interlaced modes.
    public var description: String {
        "\(width)x\(height)\(isInterlaced ? "i" : "")@" + String(format: "%.2f", refreshRate)
    }
}

/// Which mode to use (`--mode`): the connector's preferred one, or a size with an optional refresh rate.
public enum ModeRequest: Sendable, Equatable, CustomStringConvertible {
    /// The mode the display marks preferred (its native resolution), else its first mode.
    case preferred
    /// `width × height`, at `refresh` Hz (within 0.5 Hz) when given, else the highest rate at that size.
    case size(width: Int, height: Int, refresh: Double?)

    /// Parses "preferred", "WxH" or "WxH@Hz" (Hz may have decimals: "1920x1080@59.94").
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "preferred" || t == "auto" { self = .preferred; return }
        let bad = DisplayError("mode '\(text)' is not of the form WIDTHxHEIGHT or WIDTHxHEIGHT@HZ (e.g. 1280x720@60)")
        let parts = t.split(separator: "@", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { throw bad }
        let size = parts[0].split(separator: "x", omittingEmptySubsequences: false)
        guard size.count == 2, let w = Int(size[0]), let h = Int(size[1]), (1...16384).contains(w), (1...16384).contains(h)
        else { throw bad }
        var refresh: Double?
        if parts.count == 2 {
            guard let hz = Double(parts[1]), hz.isFinite, hz > 0, hz <= 1000 else { throw bad }
            refresh = hz
        }
        self = .size(width: w, height: h, refresh: refresh)
    }

    /// The best of `modes` for this request.
    /// - Throws: ``DisplayError`` naming the connector and listing its sizes when nothing matches.
    public func select(from modes: [DisplayMode], connector: String) throws -> DisplayMode {
        guard !modes.isEmpty else { throw DisplayError("\(connector) reports no modes (is a display attached and powered?)") }
        switch self {
        case .preferred:
            return modes.first(where: { $0.isPreferred }) ?? modes[0]
        case let .size(width, height, refresh):
            let sized = modes.filter { $0.width == width && $0.height == height && !$0.isInterlaced }
            let candidates = sized.isEmpty ? modes.filter { $0.width == width && $0.height == height } : sized
            if let refresh {
                let near = candidates.filter { abs($0.refreshRate - refresh) < 0.5 }
                if let best = near.min(by: { abs($0.refreshRate - refresh) < abs($1.refreshRate - refresh) }) {
                    return best
                }
            } else if let best = candidates.max(by: { ($0.refreshRate, $0.isPreferred ? 1 : 0) < ($1.refreshRate, $1.isPreferred ? 1 : 0) }) {
                return best
            }
            var seen = Set<String>(), offered = [String]()
            for m in modes where seen.insert(m.description).inserted { offered.append(m.description) }
            throw DisplayError("\(connector) has no mode \(description); it offers \(offered.prefix(12).joined(separator: ", "))\(offered.count > 12 ? ", …" : "")")
        }
    }

    public var description: String {
        switch self {
        case .preferred: return "preferred"
        case let .size(w, h, r?): return "\(w)x\(h)@\(r == r.rounded() ? String(Int(r)) : String(r))"
        case let .size(w, h, nil): return "\(w)x\(h)"
        }
    }
}
