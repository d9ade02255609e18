extension Add {
    /// Fast version of `reference`: SIMD8 body, scalar tail.
    public static func fast(a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>,
                            output: UnsafeMutableBufferPointer<Float>, activation: FusedActivation) {
        precondition(a.count >= output.count && b.count >= output.count, "add: inputs smaller than output")
        guard let pa = a.baseAddress, let pb = b.baseAddress, let po = output.baseAddress else { return }
        let (lower, upper) = (activation.lowerBound, activation.upperBound)
        let n = output.count, vectorEnd = n / 8 * 8
        var i = 0
        while i < vectorEnd {
            let sum = UnsafeRawPointer(pa + i).loadUnaligned(as: SIMD8<Float>.self)
                + UnsafeRawPointer(pb + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(po + i).storeBytes(of: sum.clamped(lower: lower, upper: upper), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            po[i] = clampScalar(pa[i] + pb[i], lower: lower, upper: upper)
            i += 1
        }
    }
}
