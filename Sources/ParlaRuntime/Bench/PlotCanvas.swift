import ParlaIO
import ParlaMedia

/// Text for the plot, drawn with ParlaIO's 5×7 ``BitmapFont`` (upper case; characters it lacks show as "?").
enum PlotText {
    static let width = BitmapFont.glyphWidth, height = BitmapFont.glyphHeight

    /// Width in pixels of `text` at `scale` (one column of spacing between glyphs).
    static func measure(_ text: String, scale: Int) -> Int {
        max(0, text.count * BitmapFont.cellWidth * scale - scale)
    }

    /// Draws `text` with its top-left corner at (x, y).
    static func draw(_ text: String, at x: Int, _ y: Int, scale: Int, color: (UInt8, UInt8, UInt8), into image: inout RGBAImage) {
        var cx = x
        for ch in text {
            for (r, bits) in BitmapFont.glyph(ch).enumerated() {
                for c in 0..<width where bits & (0x10 >> c) != 0 {
                    PlotCanvas.fill(&image, x0: cx + c * scale, y0: y + r * scale, x1: cx + (c + 1) * scale, y1: y + (r + 1) * scale, color)
                }
            }
            cx += BitmapFont.cellWidth * scale
        }
    }

    /// Draws `text` turned 90° anticlockwise (reading bottom to top), its bottom-left at (x, y).
    static func drawVertical(_ text: String, at x: Int, _ y: Int, scale: Int, color: (UInt8, UInt8, UInt8), into image: inout RGBAImage) {
        var cy = y
        for ch in text {
            for (r, bits) in BitmapFont.glyph(ch).enumerated() {
                for c in 0..<width where bits & (0x10 >> c) != 0 {
                    PlotCanvas.fill(&image, x0: x + r * scale, y0: cy - (c + 1) * scale + 1, x1: x + (r + 1) * scale, y1: cy - c * scale + 1, color)
                }
            }
            cy -= BitmapFont.cellWidth * scale
        }
    }
}

/// Pixel helpers for the plot.
enum PlotCanvas {
    @inline(__always)
    static func set(_ image: inout RGBAImage, _ x: Int, _ y: Int, _ color: (UInt8, UInt8, UInt8)) {
        guard x >= 0, y >= 0, x < image.width, y < image.height else { return }
        let i = (y * image.width + x) * 4
        image.pixels[i] = color.0
        image.pixels[i + 1] = color.1
        image.pixels[i + 2] = color.2
        image.pixels[i + 3] = 255
    }

    static func fill(_ image: inout RGBAImage, x0: Int, y0: Int, x1: Int, y1: Int, _ color: (UInt8, UInt8, UInt8)) {
        for y in max(0, y0)..<min(image.height, y1) {
            for x in max(0, x0)..<min(image.width, x1) { set(&image, x, y, color) }
        }
    }

    /// A line `thickness` pixels wide (Bresenham, square pen).
    static func line(_ image: inout RGBAImage, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: (UInt8, UInt8, UInt8), thickness: Int = 1) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        let lo = -(thickness - 1) / 2, hi = thickness / 2
        while true {
            for oy in lo...hi { for ox in lo...hi { set(&image, x + ox, y + oy, color) } }
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }
}
