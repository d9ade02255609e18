import ParlaMedia

extension FrameBlitter {
    /// The scalar reference for ``blit(_:into:pitch:background:)``: for every screen pixel, the source point from
    /// the layout's geometry, a bilinear sample with the same 8-bit weights and roundings (along the screen's x axis
    /// first), one channel at a time, alpha over the background. Slow; tests compare the two exactly.
    public func blitReference(_ frame: RGBAImage, into destination: UnsafeMutableRawPointer, pitch: Int) {
        precondition(frame.width == layout.sourceWidth && frame.height == layout.sourceHeight, "frame size differs from the layout")
        let columns = layout.contentColumns, rows = layout.contentRows
        let bg = [Int(background.red), Int(background.green), Int(background.blue)]
        for y in 0..<layout.targetHeight {
            let out = (destination + y * pitch).assumingMemoryBound(to: UInt32.self)
            for x in 0..<layout.targetWidth {
                guard columns.contains(x), rows.contains(y) else {
                    out[x] = background.xrgb
                    continue
                }
                let p = layout.sourcePoint(x: Double(x) + 0.5, y: Double(y) + 0.5)
                let tx = AxisTap(coordinate: p.x, count: layout.sourceWidth)
                let ty = AxisTap(coordinate: p.y, count: layout.sourceHeight)
                var rgba = [Int](repeating: 0, count: 4)
                for c in 0..<4 {
                    func at(_ i: Int, _ j: Int) -> Int { Int(frame.pixels[(j * frame.width + i) * 4 + c]) }
                    let wx1 = Int(tx.weight1), wy1 = Int(ty.weight1)
                    // The blitter's first axis is the screen's x axis, which runs along the source's y axis when
                    // the rotation swaps axes: interpolate along that axis first, like it does.
                    let value: Int
                    if layout.rotation.swapsAxes {
                        let left = (at(tx.index0, ty.index0) * (256 - wy1) + at(tx.index0, ty.index1) * wy1 + 128) >> 8
                        let right = (at(tx.index1, ty.index0) * (256 - wy1) + at(tx.index1, ty.index1) * wy1 + 128) >> 8
                        value = (left * (256 - wx1) + right * wx1 + 128) >> 8
                    } else {
                        let top = (at(tx.index0, ty.index0) * (256 - wx1) + at(tx.index1, ty.index0) * wx1 + 128) >> 8
                        let bottom = (at(tx.index0, ty.index1) * (256 - wx1) + at(tx.index1, ty.index1) * wx1 + 128) >> 8
                        value = (top * (256 - wy1) + bottom * wy1 + 128) >> 8
                    }
                    rgba[c] = value
                }
                if rgba[3] != 255 {
                    for c in 0..<3 { rgba[c] = (rgba[c] * rgba[3] + bg[c] * (255 - rgba[3]) + 127) / 255 }
                }
                out[x] = UInt32(rgba[0] << 16 | rgba[1] << 8 | rgba[2])
            }
        }
    }
}
