/// Stand-alone activation ops (`relu`, `relu6`): `output[i] = activation(input[i])`.
public enum Activation {
    /// Plain scalar reference over `output.count` values.
    public static func reference(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                                 activation: FusedActivation) {
        precondition(input.count >= output.count, "activation: input smaller than output")
        for i in 0..<output.count { output[i] = activation.apply(input[i]) }
    }
}
