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

    /// The screen rectangle the box of `lines` covers once turned and clipped to the screen (x, y, width, height;
    /// width and height 0 when nothing shows): every pixel of it is the box's, and `draw` writes no other.
    public func screenRect(for lines: [String]) -> (x: Int, y: Int, width: Int, height: Int) {
        guard !lines.isEmpty else { return (0, 0, 0, 0) }
        let b = box(for: lines)
        let u1 = min(viewerWidth, b.x + b.width), v1 = min(viewerHeight, b.y + b.height)
        guard u1 > b.x, v1 > b.y else { return (0, 0, 0, 0) }
        let a = screenPoint(u: b.x, v: b.y), c = screenPoint(u: u1 - 1, v: v1 - 1)
        return (min(a.x, c.x), min(a.y, c.y), abs(a.x - c.x) + 1, abs(a.y - c.y) + 1)
    }

    /// What `draw` writes for `lines`, as an image of its ``screenRect(for:)`` (already turned by `rotation`):
    /// R, G, B, 255 per pixel, row 0 at the top, for the GPU path to put on the screen one texel per pixel.
    public func image(for lines: [String]) -> (x: Int, y: Int, width: Int, height: Int, rgba: [UInt8]) {
        let r = screenRect(for: lines)
        guard r.width > 0, r.height > 0 else { return (r.x, r.y, 0, 0, []) }
        var xrgb = [UInt32](repeating: 0, count: r.width * r.height)
        xrgb.withUnsafeMutableBytes { draw(lines, into: $0.baseAddress!, pitch: r.width * 4, origin: (r.x, r.y)) }
        var rgba = [UInt8](repeating: 255, count: xrgb.count * 4)
        for (i, c) in xrgb.enumerated() {
            rgba[4 * i] = UInt8(truncatingIfNeeded: c >> 16)
            rgba[4 * i + 1] = UInt8(truncatingIfNeeded: c >> 8)
            rgba[4 * i + 2] = UInt8(truncatingIfNeeded: c)
        }
        return (r.x, r.y, r.width, r.height, rgba)
    }

    /// Draws `lines` (nothing when empty) into `pixels`, a screen of `pitch` bytes per row, or, with `origin`, into
    /// the part of one starting at that screen pixel (``screenRect(for:)``'s corner: ``image(for:)``).
    public func draw(_ lines: [String], into pixels: UnsafeMutableRawPointer, pitch: Int, origin: (x: Int, y: Int) = (0, 0)) {
        guard !lines.isEmpty else { return }
        let b = box(for: lines)
        let vw = viewerWidth, vh = viewerHeight
        func put(_ u: Int, _ v: Int, _ color: UInt32) {
            guard u >= 0, v >= 0, u < vw, v < vh else { return }
            let (x, y) = screenPoint(u: u, v: v)
            (pixels + (y - origin.y) * pitch).assumingMemoryBound(to: UInt32.self)[x - origin.x] = color
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
