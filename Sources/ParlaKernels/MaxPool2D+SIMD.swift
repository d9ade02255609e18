extension MaxPool2D {
    /// Fast version of `reference`: SIMD8 maximum over channels, scalar channel tail, clipped windows.
    public static func fast(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                            window: Window2D, channels: Int, activation: FusedActivation) {
        checkSizes(input: input.count, output: output.count, window: window, channels: channels)
        guard let inp = input.baseAddress, let out = output.baseAddress else { return }
        let (lower, upper) = (activation.lowerBound, activation.upperBound)
        let c = channels, inW = window.inputWidth, vectorChannels = c / 8 * 8
        for oy in 0..<window.outputHeight {
            let rows = window.kernelRows(forOutputRow: oy)
            let iy0 = oy * window.strideY - window.padTop
            for ox in 0..<window.outputWidth {
                let columns = window.kernelColumns(forOutputColumn: ox)
                let ix0 = ox * window.strideX - window.padLeft
                let o = out + (oy * window.outputWidth + ox) * c
                var ch = 0
                while ch < vectorChannels {
                    var best = SIMD8<Float>(repeating: -.infinity)
                    for ky in rows {
                        let rowIn = inp + ((iy0 + ky) * inW + ix0) * c + ch
                        for kx in columns {
                            let v = UnsafeRawPointer(rowIn + kx * c).loadUnaligned(as: SIMD8<Float>.self)
                            best.replace(with: v, where: v .> best)
                        }
                    }
                    UnsafeMutableRawPointer(o + ch).storeBytes(of: best.clamped(lower: lower, upper: upper),
                                                               as: SIMD8<Float>.self)
                    ch += 8
                }
                while ch < c {
                    var best = -Float.infinity
                    for ky in rows {
                        for kx in columns { best = max(best, inp[((iy0 + ky) * inW + ix0 + kx) * c + ch]) }
                    }
                    o[ch] = clampScalar(best, lower: lower, upper: upper)
                    ch += 1
                }
            }
        }
    }
}
