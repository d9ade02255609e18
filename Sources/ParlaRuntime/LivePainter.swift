import ParlaIO
import ParlaMedia

/// Puts one decoded picture on a live screen: scaled, turned and placed by ``FrameBlitter`` (per `--fit`,
/// `--rotate`), with the `--hud` stats overlay drawn over it when asked.
struct LivePainter {
    /// The geometry of the picture on the screen.
    let layout: FrameLayout
    let blitter: FrameBlitter
    let overlay: HUDOverlay
    /// The overlay box keeps this many columns and rows whatever the figures, so a shorter line never leaves
    /// pieces of a longer one on the border (which live blits do not repaint).
    static let hudColumns = 24
    static let hudRows = 3

    init(options o: some LivePanelSettings, screenWidth: Int, screenHeight: Int) throws {
        layout = try FrameLayout(sourceWidth: o.size, sourceHeight: o.size, targetWidth: screenWidth,
                                 targetHeight: screenHeight, rotation: o.rotation, fit: o.fit)
        blitter = FrameBlitter(layout: layout, background: o.background)
        overlay = HUDOverlay(screenWidth: screenWidth, screenHeight: screenHeight, rotation: o.rotation)
    }

    /// The overlay's lines for `reading`, padded to the fixed box.
    static func hudLines(_ reading: LiveHUD.Reading) -> [String] {
        var lines = LiveHUD.lines(reading)
        while lines.count < hudRows { lines.append("") }
        let width = max(hudColumns, lines.map(\.count).max() ?? 0)
        return lines.map { $0.padding(toLength: width, withPad: " ", startingAt: 0) }
    }

    /// Paints `picture` into `target`; with `background`, the border too (live buffers start filled with it, so
    /// live flips skip it). Draws the overlay when `hud` is given.
    func paint(_ picture: RGBAImage, into target: ScanoutTarget, hud: LiveHUD.Reading?, background: Bool = false) {
        blitter.blit(picture, into: target.pixels, pitch: target.pitch, background: background)
        if let hud {
            overlay.draw(Self.hudLines(hud), into: target.pixels, pitch: target.pitch)
        }
    }
}
