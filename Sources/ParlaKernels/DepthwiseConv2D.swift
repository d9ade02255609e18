/// Depthwise 2-D convolution (depth multiplier 1) over an NHWC image (batch 1) with 1HWC weights
/// `[1, kH, kW, C]`, optional bias, any kernel size, stride and padding, and a fused activation.
public enum DepthwiseConv2D {
    /// Plain scalar reference: loops over every output value.
    /// - Parameters:
    ///   - input: `window.inputHeight × window.inputWidth × channels` values.
    ///   - weights: `window.kernelHeight × window.kernelWidth × channels` values.
    ///   - bias: `channels` values, or nil.
    ///   - output: `window.outputHeight × window.outputWidth × channels` values; only those are written.
    public static func reference(
        input: UnsafeBufferPointer<Float>, weights: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        output: UnsafeMutableBufferPointer<Float>, window: Window2D, channels: Int, activation: FusedActivation
    ) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count,
                   window: window, channels: channels)
        for oy in 0..<window.outputHeight {
            for ox in 0..<window.outputWidth {
                for c in 0..<channels {
                    var sum: Float = bias?[c] ?? 0
                    for ky in 0..<window.kernelHeight {
                        let iy = oy * window.strideY + ky - window.padTop
                        if iy < 0 || iy >= window.inputHeight { continue }
                        for kx in 0..<window.kernelWidth {
                            let ix = ox * window.strideX + kx - window.padLeft
                            if ix < 0 || ix >= window.inputWidth { continue }
                            sum += input[(iy * window.inputWidth + ix) * channels + c]
                                * weights[(ky * window.kernelWidth + kx) * channels + c]
                        }
                    }
                    output[(oy * window.outputWidth + ox) * channels + c] = activation.apply(sum)
                }
            }
        }
    }

    static func checkSizes(input: Int, weights: Int, bias: Int?, output: Int, window: Window2D, channels: Int) {
        precondition(channels > 0, "depthwise_conv2d: channels must be positive")
        precondition(input >= window.inputHeight * window.inputWidth * channels, "depthwise_conv2d: input too small")
        precondition(weights >= window.kernelHeight * window.kernelWidth * channels,
                     "depthwise_conv2d: weights too small")
        precondition(bias.map { $0 >= channels } ?? true, "depthwise_conv2d: bias too small")
        precondition(output >= window.outputHeight * window.outputWidth * channels,
                     "depthwise_conv2d: output too small")
    }
}
