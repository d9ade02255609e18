extension Mul {
    /// Fast version of `reference`: SIMD8 over the channels of each pixel, scalar channel tail.
    public static func fast(a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>,
                            output: UnsafeMutableBufferPointer<Float>, activation: FusedActivation) {
        checkSizes(a: a.count, b: b.count, output: output.count)
        guard let pa = a.baseAddress, let pb = b.baseAddress, let po = output.baseAddress else { return }
        let (lower, upper) = (activation.lowerBound, activation.upperBound)
        // Rows of `period` values all multiplied by the same b[0..<period].
        let period = b.count >= output.count ? output.count : b.count
        var start = 0
        while start < output.count {
            let x = pa + start, y = po + start
            var c = 0
            while c + 8 <= period {
                let v = UnsafeRawPointer(x + c).loadUnaligned(as: SIMD8<Float>.self)
                    * UnsafeRawPointer(pb + c).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(y + c).storeBytes(of: v.clamped(lower: lower, upper: upper), as: SIMD8<Float>.self)
                c += 8
            }
            while c < period {
                y[c] = clampScalar(x[c] * pb[c], lower: lower, upper: upper)
                c += 1
            }
            start += period
        }
    }
}
