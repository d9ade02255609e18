extension TransposeConv2D {
    /// Fast version of `reference` in gather form: each output pixel sums the taps that reach it (found once per
    /// output row and column), dot products over the input channels in SIMD8 lanes. Rounding differs from the
    /// scatter order of `reference` (within float tolerance).
    public static func fast(input: UnsafeBufferPointer<Float>, weights: UnsafeBufferPointer<Float>,
                            bias: UnsafeBufferPointer<Float>?, output: UnsafeMutableBufferPointer<Float>,
                            window g: TransposedWindow2D, inputChannels: Int, outputChannels: Int) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count, window: g,
                   inputChannels: inputChannels, outputChannels: outputChannels)
        guard let x = input.baseAddress, let w = weights.baseAddress, let y = output.baseAddress else { return }
        let (ci, co) = (inputChannels, outputChannels)
        let columnTaps = (0..<g.outputWidth).map {
            g.taps($0, pad: g.padLeft, stride: g.strideX, kernel: g.kernelWidth, inputSize: g.inputWidth)
        }
        for oy in 0..<g.outputHeight {
            let rowTaps = g.taps(oy, pad: g.padTop, stride: g.strideY, kernel: g.kernelHeight, inputSize: g.inputHeight)
            for ox in 0..<g.outputWidth {
                let out = y + (oy * g.outputWidth + ox) * co
                for oc in 0..<co {
                    var sum = SIMD8<Float>()
                    var tail: Float = bias?[oc] ?? 0
                    for (ky, iy) in rowTaps {
                        for (kx, ix) in columnTaps[ox] {
                            let px = x + (iy * g.inputWidth + ix) * ci
                            let pw = w + ((oc * g.kernelHeight + ky) * g.kernelWidth + kx) * ci
                            var c = 0
                            while c + 8 <= ci {
                                sum += UnsafeRawPointer(px + c).loadUnaligned(as: SIMD8<Float>.self)
                                    * UnsafeRawPointer(pw + c).loadUnaligned(as: SIMD8<Float>.self)
                                c += 8
                            }
                            while c < ci {
                                tail += px[c] * pw[c]
                                c += 1
                            }
                        }
                    }
                    out[oc] = tail + sum.sum()
                }
            }
        }
    }
}
