/// Int8 depthwise convolution (channel multiplier 1) over an NHWC image (batch 1), TFLite semantics: weights
/// `[1, kH, kW, C]` symmetric per channel (-127...127), int32 bias, accumulator `bias[c] + Σ (x - inputZeroPoint)·w`
/// over the taps inside the image, then the per-channel `Requantizer` epilogue.
public enum QuantizedDepthwiseConv2D {
    /// Plain scalar reference: loops over every output value.
    /// - Parameters:
    ///   - weights: `kernelHeight × kernelWidth × channels` values (1HWC).
    ///   - bias: `channels` values or nil.
    public static func reference(
        input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32, weights: UnsafeBufferPointer<Int8>,
        bias: UnsafeBufferPointer<Int32>?, output: UnsafeMutableBufferPointer<Int8>, window: Window2D, channels: Int,
        requantizer: Requantizer
    ) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count, window: window,
                   channels: channels, requantizer: requantizer)
        let c = channels
        for oy in 0..<window.outputHeight {
            for ox in 0..<window.outputWidth {
                for ch in 0..<c {
                    var acc: Int32 = bias?[ch] ?? 0
                    for ky in 0..<window.kernelHeight {
                        let iy = oy * window.strideY + ky - window.padTop
                        if iy < 0 || iy >= window.inputHeight { continue }
                        for kx in 0..<window.kernelWidth {
                            let ix = ox * window.strideX + kx - window.padLeft
                            if ix < 0 || ix >= window.inputWidth { continue }
                            let x = Int32(input[(iy * window.inputWidth + ix) * c + ch]) - inputZeroPoint
                            acc &+= x * Int32(weights[(ky * window.kernelWidth + kx) * c + ch])
                        }
                    }
                    output[(oy * window.outputWidth + ox) * c + ch] = requantizer.apply(acc, channel: ch)
                }
            }
        }
    }

    static func checkSizes(input: Int, weights: Int, bias: Int?, output: Int, window: Window2D, channels: Int,
                           requantizer: Requantizer) {
        precondition(channels > 0, "qdepthwise: channels must be positive")
        precondition(input >= window.inputHeight * window.inputWidth * channels, "qdepthwise: input too small")
        precondition(weights >= window.kernelHeight * window.kernelWidth * channels, "qdepthwise: weights too small")
        precondition(bias.map { $0 >= channels } ?? true, "qdepthwise: bias too small")
        precondition(output >= window.outputHeight * window.outputWidth * channels, "qdepthwise: output too small")
        precondition(requantizer.channels == channels, "qdepthwise: requantizer has \(requantizer.channels) channels, not \(channels)")
    }
}
