/// 2-D convolution over an NHWC image (batch 1) with OHWI weights `[outC, kH, kW, inC]`, optional bias,
/// any kernel size, stride and padding, and a fused activation.
public enum Conv2D {
    /// Number of weights for the given sizes (OHWI).
    public static func weightCount(window: Window2D, inputChannels: Int, outputChannels: Int) -> Int {
        outputChannels * window.kernelHeight * window.kernelWidth * inputChannels
    }

    /// Plain scalar reference: loops over every output value. Obviously correct, slow.
    /// - Parameters:
    ///   - input: `window.inputHeight × window.inputWidth × inputChannels` values.
    ///   - weights: OHWI weights, `Conv2D.weightCount(...)` values.
    ///   - bias: `outputChannels` values, or nil for no bias.
    ///   - output: `window.outputHeight × window.outputWidth × outputChannels` values; only those are written.
    public static func reference(
        input: UnsafeBufferPointer<Float>, weights: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        output: UnsafeMutableBufferPointer<Float>, window: Window2D, inputChannels: Int, outputChannels: Int,
        activation: FusedActivation
    ) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count,
                   window: window, inputChannels: inputChannels, outputChannels: outputChannels)
        let (kh, kw, ci, co) = (window.kernelHeight, window.kernelWidth, inputChannels, outputChannels)
        for oy in 0..<window.outputHeight {
            for ox in 0..<window.outputWidth {
                for oc in 0..<co {
                    var sum: Float = bias?[oc] ?? 0
                    for ky in 0..<kh {
                        let iy = oy * window.strideY + ky - window.padTop
                        if iy < 0 || iy >= window.inputHeight { continue }
                        for kx in 0..<kw {
                            let ix = ox * window.strideX + kx - window.padLeft
                            if ix < 0 || ix >= window.inputWidth { continue }
                            for ic in 0..<ci {
                                sum += input[(iy * window.inputWidth + ix) * ci + ic]
                                    * weights[((oc * kh + ky) * kw + kx) * ci + ic]
                            }
                        }
                    }
                    output[(oy * window.outputWidth + ox) * co + oc] = activation.apply(sum)
                }
            }
        }
    }

    static func checkSizes(input: Int, weights: Int, bias: Int?, output: Int,
                           window: Window2D, inputChannels: Int, outputChannels: Int) {
        precondition(inputChannels > 0 && outputChannels > 0, "conv2d: channels must be positive")
        precondition(input >= window.inputHeight * window.inputWidth * inputChannels, "conv2d: input too small")
        precondition(weights >= weightCount(window: window, inputChannels: inputChannels,
                                            outputChannels: outputChannels), "conv2d: weights too small")
        precondition(bias.map { $0 >= outputChannels } ?? true, "conv2d: bias too small")
        precondition(output >= window.outputHeight * window.outputWidth * outputChannels, "conv2d: output too small")
    }
}
