/// Int8 2-D convolution over an NHWC image (batch 1), TFLite semantics: OHWI int8 weights symmetric per output
/// channel (values in -127...127), int32 bias, accumulator `bias[c] + Σ (x - inputZeroPoint)·w` over the taps inside
/// the image (padding stands for `inputZeroPoint`, i.e. real 0), then the per-channel `Requantizer` epilogue.
public enum QuantizedConv2D {
    /// Plain scalar reference: loops over every output value. Obviously correct, slow.
    /// - Parameters:
    ///   - input: `window.inputHeight × window.inputWidth × inputChannels` int8 values.
    ///   - inputZeroPoint: the input's zero point (also the padding value).
    ///   - weights: OHWI weights, `outputChannels × kernelHeight × kernelWidth × inputChannels`, in -127...127.
    ///   - bias: `outputChannels` int32 values at scale `inputScale·weightScale[c]`, or nil.
    ///   - output: `window.outputHeight × window.outputWidth × outputChannels` values; only those are written.
    ///   - requantizer: the epilogue, `outputChannels` channels.
    public static func reference(
        input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32, weights: UnsafeBufferPointer<Int8>,
        bias: UnsafeBufferPointer<Int32>?, output: UnsafeMutableBufferPointer<Int8>, window: Window2D,
        inputChannels: Int, outputChannels: Int, requantizer: Requantizer
    ) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count, window: window,
                   inputChannels: inputChannels, outputChannels: outputChannels, requantizer: requantizer)
        let (kh, kw, ci, co) = (window.kernelHeight, window.kernelWidth, inputChannels, outputChannels)
        for oy in 0..<window.outputHeight {
            for ox in 0..<window.outputWidth {
                for oc in 0..<co {
                    var acc: Int32 = bias?[oc] ?? 0
                    for ky in 0..<kh {
                        let iy = oy * window.strideY + ky - window.padTop
                        if iy < 0 || iy >= window.inputHeight { continue }
                        for kx in 0..<kw {
                            let ix = ox * window.strideX + kx - window.padLeft
                            if ix < 0 || ix >= window.inputWidth { continue }
                            for ic in 0..<ci {
                                let x = Int32(input[(iy * window.inputWidth + ix) * ci + ic]) - inputZeroPoint
                                acc &+= x * Int32(weights[((oc * kh + ky) * kw + kx) * ci + ic])
                            }
                        }
                    }
                    output[(oy * window.outputWidth + ox) * co + oc] = requantizer.apply(acc, channel: oc)
                }
            }
        }
    }

    static func checkSizes(input: Int, weights: Int, bias: Int?, output: Int, window: Window2D,
                           inputChannels: Int, outputChannels: Int, requantizer: Requantizer) {
        precondition(inputChannels > 0 && outputChannels > 0, "qconv2d: channels must be positive")
        precondition(input >= window.inputHeight * window.inputWidth * inputChannels, "qconv2d: input too small")
        precondition(weights >= outputChannels * window.kernelHeight * window.kernelWidth * inputChannels,
                     "qconv2d: weights too small")
        precondition(bias.map { $0 >= outputChannels } ?? true, "qconv2d: bias too small")
        precondition(output >= window.outputHeight * window.outputWidth * outputChannels, "qconv2d: output too small")
        precondition(requantizer.channels == outputChannels, "qconv2d: requantizer has \(requantizer.channels) channels, not \(outputChannels)")
    }
}

/// Int8 fully connected layer, TFLite semantics: `weights` is `[outputCount, inputCount]` (symmetric per output
/// row), `output[b][o] = requantize(bias[o] + Σ (input[b][i] - inputZeroPoint)·weights[o][i])`.
public enum QuantizedFullyConnected {
    /// Plain scalar reference over `batch` input rows.
    public static func reference(
        input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32, weights: UnsafeBufferPointer<Int8>,
        bias: UnsafeBufferPointer<Int32>?, output: UnsafeMutableBufferPointer<Int8>, batch: Int,
        inputCount: Int, outputCount: Int, requantizer: Requantizer
    ) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count, batch: batch,
                   inputCount: inputCount, outputCount: outputCount, requantizer: requantizer)
        for b in 0..<batch {
            for o in 0..<outputCount {
                var acc: Int32 = bias?[o] ?? 0
                for i in 0..<inputCount {
                    acc &+= (Int32(input[b * inputCount + i]) - inputZeroPoint) * Int32(weights[o * inputCount + i])
                }
                output[b * outputCount + o] = requantizer.apply(acc, channel: o)
            }
        }
    }

    static func checkSizes(input: Int, weights: Int, bias: Int?, output: Int, batch: Int, inputCount: Int,
                           outputCount: Int, requantizer: Requantizer) {
        precondition(batch > 0 && inputCount > 0 && outputCount > 0, "qfc: sizes must be positive")
        precondition(input >= batch * inputCount && weights >= inputCount * outputCount, "qfc: input or weights too small")
        precondition(bias.map { $0 >= outputCount } ?? true, "qfc: bias too small")
        precondition(output >= batch * outputCount, "qfc: output too small")
        precondition(requantizer.channels == outputCount, "qfc: requantizer has \(requantizer.channels) channels, not \(outputCount)")
    }
}
