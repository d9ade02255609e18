import ParlaMedia

/// RGBA → planar YUV 4:2:0, BT.601 limited range (Y 16…235, Cb/Cr 16…240), chroma averaged over each 2×2 block
/// (centred siting, as Y4M's `C420jpeg` declares). Integer arithmetic with 8 fractional bits; odd widths and heights
/// round the chroma planes up.
public enum YUV420 {
    /// Sizes of the three planes for a `width`×`height` picture.
    public static func planeSizes(width: Int, height: Int) -> (luma: Int, chroma: Int) {
        (width * height, ((width + 1) / 2) * ((height + 1) / 2))
    }

    /// Converts `image` into `out`, which must hold `luma + 2 * chroma` bytes (Y plane, then U, then V).
    public static func convert(_ image: RGBAImage, into out: inout [UInt8]) {
        let w = image.width, h = image.height
        let (lumaSize, chromaSize) = planeSizes(width: w, height: h)
        precondition(out.count == lumaSize + 2 * chromaSize, "YUV buffer has the wrong size")
        let cw = (w + 1) / 2, ch = (h + 1) / 2
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for x in 0..<w {
                        let p = (y * w + x) * 4
                        let r = Int32(src[p]), g = Int32(src[p + 1]), b = Int32(src[p + 2])
                        let luma: Int32 = (66 * r + 129 * g + 25 * b + 128) >> 8 + 16
                        dst[y * w + x] = UInt8(luma)
                    }
                }
                for cy in 0..<ch {
                    for cx in 0..<cw {
                        var r: Int32 = 0, g: Int32 = 0, b: Int32 = 0, n: Int32 = 0
                        for dy in 0..<2 where cy * 2 + dy < h {
                            for dx in 0..<2 where cx * 2 + dx < w {
                                let p = ((cy * 2 + dy) * w + cx * 2 + dx) * 4
                                r += Int32(src[p]); g += Int32(src[p + 1]); b += Int32(src[p + 2]); n += 1
                            }
                        }
                        // Average with rounding, then the BT.601 chroma rows.
                        r = (r + n / 2) / n; g = (g + n / 2) / n; b = (b + n / 2) / n
                        let u: Int32 = (-38 * r - 74 * g + 112 * b + 128) >> 8 + 128
                        let v: Int32 = (112 * r - 94 * g - 18 * b + 128) >> 8 + 128
                        dst[lumaSize + cy * cw + cx] = UInt8(clamping: u)
                        dst[lumaSize + chromaSize + cy * cw + cx] = UInt8(clamping: v)
                    }
                }
            }
        }
    }
}
