extension ResizeBilinear {
    /// Fast version of `reference`: 8 channels per step with the same operations per lane (identical results),
    /// scalar channel tail.
    public static func fast(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                            geometry g: QuantizedResize.Geometry) {
        precondition(input.count >= g.inputCount && output.count >= g.outputCount, "resize: buffers too small")
        guard let src = input.baseAddress, let dst = output.baseAddress else { return }
        let (sy, sx) = scales(g)
        let c = g.channels
        for y in 0..<g.outputHeight {
            let (iy, y0, y1) = interpolation(y, scale: sy, inputSize: g.inputHeight, halfPixelCenters: g.halfPixelCenters)
            let fy = iy - Float(y0)
            for x in 0..<g.outputWidth {
                let (ix, x0, x1) = interpolation(x, scale: sx, inputSize: g.inputWidth, halfPixelCenters: g.halfPixelCenters)
                let fx = ix - Float(x0)
                let p00 = src + (y0 * g.inputWidth + x0) * c, p01 = src + (y0 * g.inputWidth + x1) * c
                let p10 = src + (y1 * g.inputWidth + x0) * c, p11 = src + (y1 * g.inputWidth + x1) * c
                let out = dst + (y * g.outputWidth + x) * c
                var ch = 0
                while ch + 8 <= c {
                    @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
                        UnsafeRawPointer(p + ch).loadUnaligned(as: SIMD8<Float>.self)
                    }
                    let top = load(p00) * (1 - fx) + load(p01) * fx
                    let bottom = load(p10) * (1 - fx) + load(p11) * fx
                    UnsafeMutableRawPointer(out + ch).storeBytes(of: top * (1 - fy) + bottom * fy, as: SIMD8<Float>.self)
                    ch += 8
                }
                while ch < c {
                    let top = p00[ch] * (1 - fx) + p01[ch] * fx
                    let bottom = p10[ch] * (1 - fx) + p11[ch] * fx
                    out[ch] = top * (1 - fy) + bottom * fy
                    ch += 1
                }
            }
        }
    }
}
