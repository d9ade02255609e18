/// Element-wise addition of two same-shaped tensors with a fused activation.
public enum Add {
    /// Plain scalar reference: `output[i] = activation(a[i] + b[i])` for `i < output.count`.
    public static func reference(a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>,
                                 output: UnsafeMutableBufferPointer<Float>, activation: FusedActivation) {
        precondition(a.count >= output.count && b.count >= output.count, "add: inputs smaller than output")
        for i in 0..<output.count { output[i] = activation.apply(a[i] + b[i]) }
    }
}
