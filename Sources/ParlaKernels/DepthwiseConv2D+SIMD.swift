extension DepthwiseConv2D {
    /// Fast depthwise convolution: SIMD8 over channels (scalar tail for the last `channels % 8`), kernel
    /// ranges clipped once per output pixel. Same arguments and results as `reference` up to rounding order.
    public static func fast(
        input: UnsafeBufferPointer<Float>, weights: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        output: UnsafeMutableBufferPointer<Float>, window: Window2D, channels: Int, activation: FusedActivation
    ) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count,
                   window: window, channels: channels)
        guard let inp = input.baseAddress, let w = weights.baseAddress, let out = output.baseAddress else { return }
        let b = bias?.baseAddress
        let (lower, upper) = (activation.lowerBound, activation.upperBound)
        let c = channels, kw = window.kernelWidth, inW = window.inputWidth
        let vectorChannels = c / 8 * 8
        for oy in 0..<window.outputHeight {
            let rows = window.kernelRows(forOutputRow: oy)
            let iy0 = oy * window.strideY - window.padTop
            for ox in 0..<window.outputWidth {
                let columns = window.kernelColumns(forOutputColumn: ox)
                let ix0 = ox * window.strideX - window.padLeft
                let o = out + (oy * window.outputWidth + ox) * c
                var ch = 0
                while ch < vectorChannels {
                    var acc = b.map { UnsafeRawPointer($0 + ch).loadUnaligned(as: SIMD8<Float>.self) } ?? .zero
                    for ky in rows {
                        let rowIn = inp + ((iy0 + ky) * inW + ix0) * c + ch
                        let rowW = w + ky * kw * c + ch
                        for kx in columns {
                            acc += UnsafeRawPointer(rowIn + kx * c).loadUnaligned(as: SIMD8<Float>.self)
                                * UnsafeRawPointer(rowW + kx * c).loadUnaligned(as: SIMD8<Float>.self)
                        }
                    }
                    UnsafeMutableRawPointer(o + ch).storeBytes(of: acc.clamped(lower: lower, upper: upper),
                                                               as: SIMD8<Float>.self)
                    ch += 8
                }
                while ch < c {
                    var acc: Float = b?[ch] ?? 0
                    for ky in rows {
                        for kx in columns {
                            acc += inp[((iy0 + ky) * inW + ix0 + kx) * c + ch] * w[(ky * kw + kx) * c + ch]
                        }
                    }
                    o[ch] = clampScalar(acc, lower: lower, upper: upper)
                    ch += 1
                }
            }
        }
    }
}
