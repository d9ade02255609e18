extension TriangleRaster {
    /// Fast rasterizer: for each row, solves the three edge inequalities `E_i(x) ≥ bias_i` for the exact
    /// span of covered pixels with integer floor/ceil division, so it covers exactly the pixels
    /// ``forEachSpanReference(_:)`` finds (the tests compare them on random triangles).
    @inline(__always)
    func forEachSpan(_ body: (_ y: Int, _ x0: Int, _ x1: Int) -> Void) {
        forEachSpan(rows: minY...max(minY, maxY), body)
    }

    /// ``forEachSpan(_:)`` restricted to the rows in `rows` (a band of the output; the row-band split of
    /// the multi-threaded decoder).
    @inline(__always)
    func forEachSpan(rows: ClosedRange<Int>, _ body: (_ y: Int, _ x0: Int, _ x1: Int) -> Void) {
        if isEmpty { return }
        let first = max(minY, rows.lowerBound), last = min(maxY, rows.upperBound)
        if first > last { return }
        // Along a row, E_i(x) − bias_i = stepX_i·x + rowValue_i with stepX_i = a_i·256.
        let stepX = a &* Subpixel.one
        let stepY = b &* Subpixel.one
        var rowValue = a &* (Subpixel.one / 2) &+ b &* Self.centre(first) &+ c &- bias
        let lowBound = Int64(minX), highBound = Int64(maxX)
        for y in first...last {
            var lo = lowBound, hi = highBound
            for i in 0..<3 {
                let s = stepX[i], r = rowValue[i]
                if s > 0 {
                    lo = max(lo, Self.ceilDiv(-r, s))
                } else if s < 0 {
                    hi = min(hi, Self.floorDiv(r, -s))
                } else if r < 0 {
                    hi = lo - 1
                }
            }
            if lo <= hi { body(y, Int(lo), Int(hi)) }
            rowValue &+= stepY
        }
    }
}
