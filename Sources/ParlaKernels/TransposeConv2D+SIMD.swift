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
        if g.kernelHeight == g.strideY && g.kernelWidth == g.strideX && g.padTop == 0 && g.padLeft == 0
            && g.outputHeight == g.inputHeight * g.strideY && g.outputWidth == g.inputWidth * g.strideX {
            disjointTaps(x, w, bias?.baseAddress, y, window: g, inputChannels: ci, outputChannels: co)
            return
        }
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

    /// Kernel = stride, no padding (MediaPipe's 2×2/2 segmentation head): every output pixel is one input pixel's
    /// dot product with one tap, so each input pixel's channels are read once for its kernel×kernel outputs.
    private static func disjointTaps(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                                     _ y: UnsafeMutablePointer<Float>, window g: TransposedWindow2D, inputChannels ci: Int,
                                     outputChannels co: Int) {
        let vectorEnd = ci / 8 * 8
        for iy in 0..<g.inputHeight {
            for ix in 0..<g.inputWidth {
                let px = x + (iy * g.inputWidth + ix) * ci
                for ky in 0..<g.kernelHeight {
                    let row = y + ((iy * g.strideY + ky) * g.outputWidth + ix * g.strideX) * co
                    for kx in 0..<g.kernelWidth {
                        let out = row + kx * co
                        for oc in 0..<co {
                            let pw = w + ((oc * g.kernelHeight + ky) * g.kernelWidth + kx) * ci
                            var sum = SIMD8<Float>()
                            var c = 0
                            while c < vectorEnd {
                                sum += UnsafeRawPointer(px + c).loadUnaligned(as: SIMD8<Float>.self)
                                    * UnsafeRawPointer(pw + c).loadUnaligned(as: SIMD8<Float>.self)
                                c += 8
                            }
                            var tail: Float = bias?[oc] ?? 0
                            while c < ci {
                                tail += px[c] * pw[c]
                                c += 1
                            }
                            out[oc] = tail + sum.sum()
                        }
                    }
                }
            }
        }
    }
}
