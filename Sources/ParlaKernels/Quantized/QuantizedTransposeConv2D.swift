/// Int8 transposed convolution (MediaPipe's `Convolution2DTransposeBias`) over an NHWC image (batch 1): OHWI
/// weights symmetric per output channel (-127...127), int32 bias, accumulator `bias[oc] + Σ (x - inputZeroPoint)·w`
/// over every (input pixel, tap) that reaches the output pixel (see `TransposedWindow2D`), then the per-channel
/// `Requantizer` epilogue (TFLite's per-channel conv requantization).
public enum QuantizedTransposeConv2D {
    /// Plain scalar reference in scatter form: int32 accumulators for the whole output, then the epilogue.
    public static func reference(input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32, weights: UnsafeBufferPointer<Int8>,
                                 bias: UnsafeBufferPointer<Int32>?, output: UnsafeMutableBufferPointer<Int8>,
                                 window g: TransposedWindow2D, inputChannels: Int, outputChannels: Int,
                                 requantizer: Requantizer) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count, window: g,
                   inputChannels: inputChannels, outputChannels: outputChannels, requantizer: requantizer)
        let (ci, co) = (inputChannels, outputChannels)
        var acc = [Int32](repeating: 0, count: g.outputHeight * g.outputWidth * co)
        for p in 0..<(g.outputHeight * g.outputWidth) {
            for oc in 0..<co { acc[p * co + oc] = bias?[oc] ?? 0 }
        }
        for iy in 0..<g.inputHeight {
            for ix in 0..<g.inputWidth {
                for ky in 0..<g.kernelHeight {
                    let oy = iy * g.strideY - g.padTop + ky
                    if oy < 0 || oy >= g.outputHeight { continue }
                    for kx in 0..<g.kernelWidth {
                        let ox = ix * g.strideX - g.padLeft + kx
                        if ox < 0 || ox >= g.outputWidth { continue }
                        for oc in 0..<co {
                            for ic in 0..<ci {
                                let x = Int32(input[(iy * g.inputWidth + ix) * ci + ic]) - inputZeroPoint
                                acc[(oy * g.outputWidth + ox) * co + oc] &+=
                                    x * Int32(weights[((oc * g.kernelHeight + ky) * g.kernelWidth + kx) * ci + ic])
                            }
                        }
                    }
                }
            }
        }
        for i in 0..<acc.count { output[i] = requantizer.apply(acc[i], channel: i % co) }
    }

    /// Gather form: each output pixel sums the taps reaching it, 8 input channels per SIMD step (int8 widened to
    /// int32); integer sums, so bit-exact with `reference`.
    public static func fast(input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32, weights: UnsafeBufferPointer<Int8>,
                            bias: UnsafeBufferPointer<Int32>?, output: UnsafeMutableBufferPointer<Int8>,
                            window g: TransposedWindow2D, inputChannels: Int, outputChannels: Int,
                            requantizer: Requantizer) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count, window: g,
                   inputChannels: inputChannels, outputChannels: outputChannels, requantizer: requantizer)
        guard let x = input.baseAddress, let w = weights.baseAddress, let y = output.baseAddress else { return }
        let (ci, co) = (inputChannels, outputChannels)
        let zp8 = SIMD8<Int32>(repeating: inputZeroPoint)
        let columnTaps = (0..<g.outputWidth).map {
            g.taps($0, pad: g.padLeft, stride: g.strideX, kernel: g.kernelWidth, inputSize: g.inputWidth)
        }
        for oy in 0..<g.outputHeight {
            let rowTaps = g.taps(oy, pad: g.padTop, stride: g.strideY, kernel: g.kernelHeight, inputSize: g.inputHeight)
            for ox in 0..<g.outputWidth {
                let out = y + (oy * g.outputWidth + ox) * co
                for oc in 0..<co {
                    var sum = SIMD8<Int32>()
                    var tail: Int32 = bias?[oc] ?? 0
                    for (ky, iy) in rowTaps {
                        for (kx, ix) in columnTaps[ox] {
                            let px = x + (iy * g.inputWidth + ix) * ci
                            let pw = w + ((oc * g.kernelHeight + ky) * g.kernelWidth + kx) * ci
                            var c = 0
                            while c + 8 <= ci {
                                let xv = widen(UnsafeRawPointer(px + c).loadUnaligned(as: SIMD8<Int8>.self)) &- zp8
                                sum &+= xv &* widen(UnsafeRawPointer(pw + c).loadUnaligned(as: SIMD8<Int8>.self))
                                c += 8
                            }
                            while c < ci {
                                tail &+= (Int32(px[c]) - inputZeroPoint) &* Int32(pw[c])
                                c += 1
                            }
                        }
                    }
                    out[oc] = requantizer.apply(tail &+ sum.wrappedSum(), channel: oc)
                }
            }
        }
    }

    static func checkSizes(input: Int, weights: Int, bias: Int?, output: Int, window g: TransposedWindow2D,
                           inputChannels: Int, outputChannels: Int, requantizer: Requantizer) {
        TransposeConv2D.checkSizes(input: input, weights: weights, bias: bias, output: output, window: g,
                                   inputChannels: inputChannels, outputChannels: outputChannels)
        precondition(requantizer.channels == outputChannels,
                     "qtranspose_conv2d: requantizer has \(requantizer.channels) channels, not \(outputChannels)")
    }
}
