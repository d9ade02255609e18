extension RGBAImage {
    /// The `width`×`height` region whose top-left corner is at (`x`, `y`) in this image. Parts of the region
    /// outside the image repeat the nearest edge pixel. An empty source gives transparent black.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> RGBAImage {
        precondition(cropWidth >= 0 && cropHeight >= 0, "negative crop size")
        if cropWidth == 0 || cropHeight == 0 { return RGBAImage(width: cropWidth, height: cropHeight, pixels: []) }
        if width == 0 || height == 0 { return RGBAImage(width: cropWidth, height: cropHeight, fill: (0, 0, 0, 0)) }
        let srcWidth = width, srcHeight = height
        var out = [UInt8](repeating: 0, count: cropWidth * cropHeight * 4)
        // Source column for every output column, edge-clamped (computed once, reused by every row).
        var columns = [Int](repeating: 0, count: cropWidth)
        for i in 0..<cropWidth { columns[i] = clampIndex(x, plus: i, count: srcWidth) }
        // Inside columns copy as one run.
        let firstInside = x >= 0 ? 0 : (x == Int.min ? cropWidth : min(cropWidth, -x))
        let (beyond, overflow) = srcWidth.subtractingReportingOverflow(x)
        let lastInside = max(firstInside, overflow ? cropWidth : min(cropWidth, max(0, beyond)))
        pixels.withUnsafeBytes { srcRaw in
            out.withUnsafeMutableBytes { dstRaw in
                func copyPixel(_ from: Int, _ to: Int) {
                    dstRaw.storeBytes(of: srcRaw.loadUnaligned(fromByteOffset: from * 4, as: UInt32.self),
                                      toByteOffset: to * 4, as: UInt32.self)
                }
                for row in 0..<cropHeight {
                    let sy = clampIndex(y, plus: row, count: srcHeight)
                    let srcRow = sy * srcWidth, dstRow = row * cropWidth
                    for i in 0..<firstInside { copyPixel(srcRow + columns[i], dstRow + i) }
                    if lastInside > firstInside {
                        let run = lastInside - firstInside
                        (dstRaw.baseAddress! + (dstRow + firstInside) * 4).copyMemory(
                            from: srcRaw.baseAddress! + (srcRow + columns[firstInside]) * 4, byteCount: run * 4)
                    }
                    for i in lastInside..<cropWidth { copyPixel(srcRow + columns[i], dstRow + i) }
                }
            }
        }
        return RGBAImage(width: cropWidth, height: cropHeight, pixels: out)
    }

    /// Bilinear sample at a continuous position (pixel centres at +0.5), edge-clamped; RGBA in 0...255.
    /// Non-finite coordinates clamp to the nearest edge (NaN to the top-left). An empty image samples as zero.
    public func sampleBilinear(x: Float, y: Float) -> SIMD4<Float> {
        guard width > 0 && height > 0 else { return .zero }
        let (x0, x1, tx) = bilinearTaps(x - 0.5, count: width)
        let (y0, y1, ty) = bilinearTaps(y - 0.5, count: height)
        return pixels.withUnsafeBytes { raw in
            func load(_ px: Int, _ py: Int) -> SIMD4<Float> {
                SIMD4<Float>(raw.loadUnaligned(fromByteOffset: (py * width + px) * 4, as: SIMD4<UInt8>.self))
            }
            let top = load(x0, y0) + (load(x1, y0) - load(x0, y0)) * tx
            let bottom = load(x0, y1) + (load(x1, y1) - load(x0, y1)) * tx
            return top + (bottom - top) * ty
        }
    }
}

/// `base + offset` clamped to `0..<count`, without overflowing for extreme values.
@inline(__always)
private func clampIndex(_ base: Int, plus offset: Int, count: Int) -> Int {
    let (sum, overflow) = base.addingReportingOverflow(offset)
    if overflow { return base > 0 ? count - 1 : 0 }
    return min(max(sum, 0), count - 1)
}

/// The two neighbouring indices and the blend weight for a coordinate in pixel-index units, clamped.
@inline(__always)
private func bilinearTaps(_ f: Float, count: Int) -> (Int, Int, Float) {
    let upper = Float(count - 1)
    var v = f
    if !(v >= 0) { v = 0 }  // also catches NaN
    if !(v <= upper) { v = upper }
    let i0 = Int(v)
    let i1 = min(i0 + 1, count - 1)
    return (i0, i1, v - Float(i0))
}
