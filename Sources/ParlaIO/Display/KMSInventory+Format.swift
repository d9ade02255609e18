import Foundation

extension KMSInventory {
    /// The human-readable listing `parla live --list-outputs` prints: the card, each connector with its modes
    /// (preferred marked `*`, current marked `+`), each CRTC with what it shows, each plane with its formats.
    /// - Parameter maxModes: modes listed per connector before "… N more".
    public func formatted(maxModes: Int = 12) -> String {
        var lines = ["\(path): driver \(driver), \(supportsAtomic ? "atomic" : "legacy") modesetting"]
        for c in connectors {
            var head = "  connector \(c.name) (id \(c.id)): \(c.status.rawValue)"
            if c.widthMM > 0 && c.heightMM > 0 { head += ", \(c.widthMM)x\(c.heightMM) mm" }
            head += ", \(c.modes.count) mode\(c.modes.count == 1 ? "" : "s")"
            if c.currentCRTCID != 0 { head += ", on crtc \(c.currentCRTCID)" }
            lines.append(head)
            var seen = Set<String>(), distinct = [DisplayMode]()
            for m in c.modes where seen.insert(m.description).inserted { distinct.append(m) }
            for m in distinct.prefix(maxModes) {
                let current = crtcs.first(where: { $0.id == c.currentCRTCID })?.mode?.description == m.description
                let marks = (m.isPreferred ? "*" : "") + (current ? "+" : "")
                lines.append("      \(m.description)\(marks)")
            }
            if distinct.count > maxModes { lines.append("      … \(distinct.count - maxModes) more") }
        }
        for c in crtcs {
            let shows = c.mode.map { "\($0.description), framebuffer \(c.framebufferID)" } ?? "off"
            lines.append("  crtc \(c.id) (index \(c.index)): \(shows)")
        }
        for p in planes {
            let formats = p.formats.map(PlaneInfo.fourccName).joined(separator: " ")
            let crtcs = p.possibleCRTCIndices.map(String.init).joined(separator: ",")
            lines.append("  plane \(p.id) \(p.kind.rawValue), crtcs {\(crtcs)}, formats \(formats)")
        }
        return lines.joined(separator: "\n")
    }
}
