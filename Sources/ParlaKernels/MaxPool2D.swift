/// 2-D max pooling over an NHWC image (batch 1). Padded positions are ignored (not treated as zero), as in
/// TFLite; a fused activation is applied to the maximum.
public enum MaxPool2D {
    /// Plain scalar reference.
    /// - Parameters:
    ///   - input: `window.inputHeight × window.inputWidth × channels` values.
    ///   - output: `window.outputHeight × window.outputWidth × channels` values; only those are written.
    public static func reference(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                                 window: Window2D, channels: Int, activation: FusedActivation) {
        checkSizes(input: input.count, output: output.count, window: window, channels: channels)
        for oy in 0..<window.outputHeight {
            for ox in 0..<window.outputWidth {
                for c in 0..<channels {
                    var best = -Float.infinity
                    for ky in 0..<window.kernelHeight {
                        let iy = oy * window.strideY + ky - window.padTop
                        if iy < 0 || iy >= window.inputHeight { continue }
                        for kx in 0..<window.kernelWidth {
                            let ix = ox * window.strideX + kx - window.padLeft
                            if ix < 0 || ix >= window.inputWidth { continue }
                            best = max(best, input[(iy * window.inputWidth + ix) * channels + c])
                        }
                    }
                    output[(oy * window.outputWidth + ox) * channels + c] = activation.apply(best)
                }
            }
        }
    }

    static func checkSizes(input: Int, output: Int, window: Window2D, channels: Int) {
        precondition(channels > 0, "max_pool2d: channels must be positive")
        precondition(input >= window.inputHeight * window.inputWidth * channels, "max_pool2d: input too small")
        precondition(output >= window.outputHeight * window.outputWidth * channels, "max_pool2d: output too small")
    }
}
