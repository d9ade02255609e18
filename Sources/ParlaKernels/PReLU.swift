/// Parametric ReLU with one slope per channel (last dimension): `x >= 0 ? x : slope[c] * x`.
public enum PReLU {
    /// Plain scalar reference over `output.count` values laid out as `[..., channels]`.
    public static func reference(input: UnsafeBufferPointer<Float>, slopes: UnsafeBufferPointer<Float>,
                                 output: UnsafeMutableBufferPointer<Float>, channels: Int) {
        checkSizes(input: input.count, slopes: slopes.count, output: output.count, channels: channels)
        for i in 0..<output.count {
            let x = input[i]
            output[i] = x >= 0 ? x : slopes[i % channels] * x
        }
    }

    static func checkSizes(input: Int, slopes: Int, output: Int, channels: Int) {
        precondition(channels > 0 && output % channels == 0, "prelu: output is not a whole number of pixels")
        precondition(input >= output && slopes >= channels, "prelu: buffers too small")
    }
}
