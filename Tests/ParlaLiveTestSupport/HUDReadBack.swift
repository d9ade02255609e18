import ParlaIO

extension HUDOverlay {
    /// Reads the text of a `lines × columns` box back from `screen` (XRGB8888, `screenWidth` pixels a row, row 0 at
    /// the top): each cell's font pixels (the middle of each scaled one, through the overlay's rotation) are text
    /// where they hold ``textColor``, compared with every glyph; "#" where none matches. For tests of the CPU and GPU
    /// paths' overlays.
    public func readText(_ screen: [UInt32], lines: Int, columns: Int) -> [String] {
        let glyphs = BitmapFont.characters.map { ($0, BitmapFont.glyph($0)) }
        let s = scale
        let b = box(for: [String](repeating: String(repeating: " ", count: columns), count: lines))
        return (0..<lines).map { row in
            String((0..<columns).map { column -> Character in
                var rows = [UInt8](repeating: 0, count: BitmapFont.glyphHeight)
                for gy in 0..<BitmapFont.glyphHeight {
                    for gx in 0..<BitmapFont.glyphWidth {
                        let u = b.x + padding + column * BitmapFont.cellWidth * s + gx * s + s / 2
                        let v = b.y + padding + row * BitmapFont.cellHeight * s + gy * s + s / 2
                        let (x, y) = screenPoint(u: u, v: v)
                        if screen[y * screenWidth + x] == textColor { rows[gy] |= 0x10 >> UInt8(gx) }
                    }
                }
                return glyphs.first { $0.1 == rows }?.0 ?? "#"
            })
        }
    }
}
