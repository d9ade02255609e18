/// Average pooling over an NHWC image (batch 1), TFLite semantics: the window is clipped to the image (padding is
/// never counted), then the fused activation. A window covering the whole image is a global average pool.
public enum AveragePool2D {
    /// Plain scalar reference.
    public static func reference(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                                 window: Window2D, channels: Int, activation: FusedActivation) {
        checkSizes(input: input.count, output: output.count, window: window, channels: channels)
        for oy in 0..<window.outputHeight {
            let rows = window.kernelRows(forOutputRow: oy)
            for ox in 0..<window.outputWidth {
                let columns = window.kernelColumns(forOutputColumn: ox)
                let iy0 = oy * window.strideY - window.padTop, ix0 = ox * window.strideX - window.padLeft
                let count = Float(rows.count * columns.count)
                for c in 0..<channels {
                    var sum: Float = 0
                    for ky in rows {
                        for kx in columns { sum += input[((iy0 + ky) * window.inputWidth + ix0 + kx) * channels + c] }
                    }
                    output[(oy * window.outputWidth + ox) * channels + c] = activation.apply(sum / count)
                }
            }
        }
    }

    static func checkSizes(input: Int, output: Int, window: Window2D, channels: Int) {
        precondition(channels > 0, "average_pool2d: channels must be positive")
        precondition(input >= window.inputHeight * window.inputWidth * channels, "average_pool2d: input too small")
        precondition(output >= window.outputHeight * window.outputWidth * channels, "average_pool2d: output too small")
    }
}
