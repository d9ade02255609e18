/// HARD_SWISH, element-wise: `x · relu6(x + 3) / 6` (MobileNetV3's activation).
public enum HardSwish {
    /// Plain scalar reference. `input` and `output` may be the same memory.
    public static func reference(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count >= output.count, "hard_swish: input smaller than output")
        for i in 0..<output.count { output[i] = apply(input[i]) }
    }

    /// One value, in the order the fast kernel computes it.
    @inlinable public static func apply(_ x: Float) -> Float { x * min(max(x + 3, 0), 6) * (1 / 6) }
}

/// LOGISTIC (sigmoid), element-wise: `1 / (1 + e^-x)`.
public enum Logistic {
    /// ln 2 with its low 13 mantissa bits cleared (7.4e-13 below ln 2): `k·reductionLn2` is exact for |k| < 2^13,
    /// so `x - k·ln2` in `exponential` is the same whether a compiler fuses it into one multiply-add (aarch64 can)
    /// or not.
    public static let reductionLn2 = 0.6931471805592082

    /// Plain scalar reference (libm's `exp` in double precision). `input` and `output` may be the same memory.
    public static func reference(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count >= output.count, "logistic: input smaller than output")
        for i in 0..<output.count { output[i] = Float(1 / (1 + Logistic.exponential(-Double(input[i])))) }
    }

    /// e^x from `+ - * /` only (no libm), within 1e-10 relative: x = k·ln2 + r with |r| ≤ ln2/2, a degree-13
    /// Taylor series of e^r, times 2^k by exact doublings; x is clamped to [-40, 40]. The same operations in the
    /// same order as `exp_deterministic` in Tools/lib/quantize.py, so the int8 LOGISTIC table is identical on every
    /// platform and in the quantizer's simulation.
    public static func exponential(_ value: Double) -> Double {
        let x = min(max(value, -40), 40)
        let ln2 = reductionLn2
        let v = x / ln2
        let f = v.rounded(.down)
        let k = v - f >= 0.5 ? f + 1 : f
        let r = x - k * ln2
        var p = 1.0
        var i = 13.0
        while i >= 1 {
            p = 1 + r * p / i
            i -= 1
        }
        var n = Int(abs(k))
        while n > 0 {
            p = k > 0 ? p * 2 : p * 0.5
            n -= 1
        }
        return p
    }
}
