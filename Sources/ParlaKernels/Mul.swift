/// Element-wise multiplication with a fused activation: `a` is `pixels × channels` values; `b` is either the same
/// size or one value per channel, broadcast over every pixel (TFLite MUL with a `[1, 1, 1, C]` operand, the
/// gate of a squeeze-and-excite block).
public enum Mul {
    /// Plain scalar reference: `output[i] = activation(a[i] · b[i % bCount])` for `i < output.count`.
    public static func reference(a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>,
                                 output: UnsafeMutableBufferPointer<Float>, activation: FusedActivation) {
        checkSizes(a: a.count, b: b.count, output: output.count)
        for i in 0..<output.count { output[i] = activation.apply(a[i] * b[i % b.count]) }
    }

    static func checkSizes(a: Int, b: Int, output: Int) {
        precondition(a >= output, "mul: input smaller than output")
        precondition(b > 0 && (b >= output || output % b == 0), "mul: b is neither full size nor one value per channel")
    }
}
