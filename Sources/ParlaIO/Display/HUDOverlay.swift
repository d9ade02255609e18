/// Draws a few lines of text (the `--hud` stats) into an XRGB8888 screen: an opaque dark box in the viewer's
/// top-left corner with the text in ``BitmapFont``, scaled by a whole number so it stays legible on large modes.
///
/// "Viewer" means the screen as seen after `--rotate`: with a panel mounted sideways and the picture turned by
/// 90°, the text is turned with it and reads upright.
public struct HUDOverlay: Sendable {
    /// Screen width and height in pixels (the scan-out buffer's size).
    public let screenWidth: Int
    public let screenHeight: Int
    /// How the viewer's picture is turned on the screen (as `--rotate`).
    public let rotation: Rotation
    /// Pixels per font pixel.
    public let scale: Int
    /// Box and text colours (XRGB8888).
    public var boxColor: UInt32 = 0x00_10_10_10
    public var textColor: UInt32 = 0x00_F0_F0_F0

    /// The viewer's width and height (the screen's, swapped for 90° and 270°).
    public var viewerWidth: Int { rotation == .degrees90 || rotation == .degrees270 ? screenHeight : screenWidth }
    public var viewerHeight: Int { rotation == .degrees90 || rotation == .degrees270 ? screenWidth : screenHeight }

    /// An overlay for a `screenWidth × screenHeight` screen; `scale` defaults to one font pixel per 240 viewer
    /// pixels of the shorter side (2 at 640×480, 4 at 1920×1080).
    public init(screenWidth: Int, screenHeight: Int, rotation: Rotation = .degrees0, scale: Int? = nil) {
        precondition(screenWidth > 0 && screenHeight > 0, "empty screen")
        self.screenWidth = screenWidth
        self.screenHeight = screenHeight
        self.rotation = rotation
        self.scale = max(1, scale ?? min(screenWidth, screenHeight) / 240)
    }

    /// Margin between the viewer's corner and the box, and padding between box and text, in screen pixels.
    public var margin: Int { 4 * scale }
    public var padding: Int { 2 * scale }

    /// The box `lines` occupy, in viewer coordinates (x, y, width, height), before clipping to the screen.
    public func box(for lines: [String]) -> (x: Int, y: Int, width: Int, height: Int) {
        let columns = lines.map(\.count).max() ?? 0
        let width = columns * BitmapFont.cellWidth * scale - scale + 2 * padding
        let height = lines.count * BitmapFont.cellHeight * scale - scale + 2 * padding
        return (margin, margin, max(0, width), max(0, height))
    }

    /// The screen pixel showing viewer pixel (u, v).
    @inline(__always)
    public func screenPoint(u: Int, v: Int) -> (x: Int, y: Int) {
        switch rotation {
        case .degrees0: return (u, v)
        case .degrees90: return (screenWidth - 1 - v, u)
        case .degrees180: return (screenWidth - 1 - u, screenHeight - 1 - v)
        case .degrees270: return (v, screenHeight - 1 - u)
        }
    }

    /// Draws `lines` (nothing when empty) into `pixels`, a screen of `pitch` bytes per row.
    public func draw(_ lines: [String], into pixels: UnsafeMutableRawPointer, pitch: Int) {
        guard !lines.isEmpty else { return }
        let b = box(for: lines)
        let vw = viewerWidth, vh = viewerHeight
        func put(_ u: Int, _ v: Int, _ color: UInt32) {
            guard u >= 0, v >= 0, u < vw, v < vh else { return }
            let (x, y) = screenPoint(u: u, v: v)
            (pixels + y * pitch).assumingMemoryBound(to: UInt32.self)[x] = color
        }
        // A screen smaller than the margin shows none of the box (and must not make an empty range backwards).
        for v in b.y..<max(b.y, min(vh, b.y + b.height)) {
            for u in b.x..<max(b.x, min(vw, b.x + b.width)) { put(u, v, boxColor) }
        }
        let s = scale
        for (row, line) in lines.enumerated() {
            let top = b.y + padding + row * BitmapFont.cellHeight * s
            for (column, character) in line.enumerated() {
                let left = b.x + padding + column * BitmapFont.cellWidth * s
                let glyph = BitmapFont.glyph(character)
                for gy in 0..<BitmapFont.glyphHeight {
                    let bits = glyph[gy]
                    guard bits != 0 else { continue }
                    for gx in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(gx)) != 0 {
                        for dy in 0..<s {
                            for dx in 0..<s { put(left + gx * s + dx, top + gy * s + dy, textColor) }
                        }
                    }
                }
            }
        }
    }
}
