extension Activation {
    /// Fast version of `reference`: SIMD8 clamp, scalar tail. `input` and `output` may be the same memory.
    public static func fast(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                            activation: FusedActivation) {
        precondition(input.count >= output.count, "activation: input smaller than output")
        guard let pi = input.baseAddress, let po = output.baseAddress else { return }
        let (lower, upper) = (activation.lowerBound, activation.upperBound)
        let n = output.count, vectorEnd = n / 8 * 8
        var i = 0
        while i < vectorEnd {
            let v = UnsafeRawPointer(pi + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(po + i).storeBytes(of: v.clamped(lower: lower, upper: upper), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            po[i] = clampScalar(pi[i], lower: lower, upper: upper)
            i += 1
        }
    }
}
