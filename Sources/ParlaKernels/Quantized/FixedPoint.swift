import Foundation

/// Integer-only fixed-point arithmetic of TFLite/gemmlowp, the building blocks of int8 requantization.
/// Every function is exact integer arithmetic, so results are identical on x86-64 and aarch64.
public enum FixedPoint {
    /// gemmlowp `SaturatingRoundingDoublingHighMul`: the high 32 bits of `2·a·b`, rounded to nearest with ties
    /// upward (the sign-dependent nudge plus C's truncating division; same as aarch64 `sqrdmulh`); the one
    /// overflowing case `a = b = Int32.min` saturates to `Int32.max`.
    @inlinable @inline(__always) public static func saturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
        if a == b && a == Int32.min { return Int32.max }
        let product = Int64(a) * Int64(b)
        let nudge: Int64 = product >= 0 ? (1 << 30) : (1 - (1 << 30))
        return Int32(truncatingIfNeeded: (product + nudge) / (1 << 31))  // `/` truncates toward zero, as in C
    }

    /// gemmlowp `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero. `exponent` in 0...31.
    @inlinable @inline(__always) public static func roundingDivideByPOT(_ x: Int32, _ exponent: Int32) -> Int32 {
        let mask: Int32 = Int32(truncatingIfNeeded: (Int64(1) << Int64(exponent)) - 1)
        let remainder = x & mask
        let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
        return (x >> exponent) + (remainder > threshold ? 1 : 0)
    }

    /// TFLite `MultiplyByQuantizedMultiplier` (the double-rounding form of reference_ops): `x · m · 2^shift`
    /// with `m` a Q31 multiplier; a positive `shift` is applied as a left shift before the multiply.
    @inlinable @inline(__always) public static func multiplyByQuantizedMultiplier(_ x: Int32, _ multiplier: Int32, _ shift: Int32) -> Int32 {
        let leftShift = shift > 0 ? shift : 0
        let rightShift = shift > 0 ? 0 : -shift
        return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x &* (1 << leftShift), multiplier), rightShift)
    }
}

/// A real multiplier stored as a Q31 fixed-point `multiplier` and a power-of-two `shift`
/// (TFLite `QuantizeMultiplier`): `real ≈ multiplier · 2^(shift - 31)`.
public struct QuantizedMultiplier: Sendable, Equatable, Hashable {
    /// Q31 mantissa; |multiplier| in [2^30, 2^31) unless the real scale is 0 (then 0). Negative for a negative scale.
    public let multiplier: Int32
    /// Power of two; positive means a left shift of the input before the multiply.
    public let shift: Int32

    /// Stores the given fixed-point pair as is.
    public init(multiplier: Int32, shift: Int32) {
        precondition((-31...30).contains(shift), "quantized multiplier: shift \(shift) out of -31...30")
        self.multiplier = multiplier
        self.shift = shift
    }

    /// TFLite `QuantizeMultiplier`: frexp, round half away from zero to Q31, renormalize 2^31, flush tiny scales to
    /// zero and saturate huge ones (|scale| ≥ 2^30). Negative scales give a negative multiplier (PReLU slopes).
    public init(realScale: Double) {
        precondition(realScale.isFinite, "quantized multiplier: scale \(realScale) is not finite")
        if realScale == 0 { self.init(multiplier: 0, shift: 0); return }
        let magnitude = abs(realScale)
        var exponent = Int(magnitude.exponent) + 1  // frexp: magnitude = q · 2^exponent, q in [0.5, 1)
        let q = magnitude / Double(sign: .plus, exponent: exponent, significand: 1)
        var fixed = Int64((q * Double(Int64(1) << 31)).rounded(.toNearestOrAwayFromZero))
        if fixed == Int64(1) << 31 { fixed /= 2; exponent += 1 }
        if exponent < -31 { exponent = 0; fixed = 0 }
        if exponent > 30 { exponent = 30; fixed = (Int64(1) << 31) - 1 }
        if realScale < 0 { fixed = -fixed }
        self.init(multiplier: Int32(fixed), shift: Int32(exponent))
    }

    /// The real value this pair stands for.
    public var realValue: Double { Double(multiplier) * pow(2.0, Double(shift) - 31) }

    /// `FixedPoint.multiplyByQuantizedMultiplier(x, multiplier, shift)`.
    @inlinable @inline(__always) public func apply(_ x: Int32) -> Int32 {
        FixedPoint.multiplyByQuantizedMultiplier(x, multiplier, shift)
    }
}

/// Scale and zero point of an asymmetric per-tensor int8 quantization: `real = scale · (q - zeroPoint)`.
public struct QuantizationParameters: Sendable, Equatable, Hashable {
    /// Real value of one step.
    public var scale: Float
    /// The int8 value that stands for real 0.
    public var zeroPoint: Int32

    public init(scale: Float, zeroPoint: Int32) {
        precondition(scale > 0 && scale.isFinite, "quantization: scale \(scale) must be positive and finite")
        precondition((-128...127).contains(zeroPoint), "quantization: zero point \(zeroPoint) outside int8")
        self.scale = scale
        self.zeroPoint = zeroPoint
    }

    /// TFLite `CalculateActivationRangeQuantized` for int8: the clamp bounds that realise a fused activation.
    public func activationRange(_ activation: FusedActivation) -> ClosedRange<Int32> {
        func quantize(_ value: Float) -> Int32 { zeroPoint + Int32((value / scale).rounded(.toNearestOrAwayFromZero)) }
        switch activation {
        case .none: return -128...127
        case .relu: return max(-128, min(127, quantize(0)))...127
        case .relu6: return max(-128, min(127, quantize(0)))...max(-128, min(127, quantize(6)))
        }
    }
}

// MARK: - SIMD forms (bit-identical to the scalar ones above)

extension SIMD4 where Scalar == Int32 {
    /// Lane-wise `FixedPoint.multiplyByQuantizedMultiplier` with per-lane multipliers and shifts. Written lane by
    /// lane: baseline x86-64 (SSE2) has no signed 32×32→64 vector multiply, and scalar `imul` beats its emulation.
    @inlinable @inline(__always)
    func multipliedByQuantized(_ multiplier: SIMD4<Int32>, shift: SIMD4<Int32>) -> SIMD4<Int32> {
        SIMD4(FixedPoint.multiplyByQuantizedMultiplier(self[0], multiplier[0], shift[0]),
              FixedPoint.multiplyByQuantizedMultiplier(self[1], multiplier[1], shift[1]),
              FixedPoint.multiplyByQuantizedMultiplier(self[2], multiplier[2], shift[2]),
              FixedPoint.multiplyByQuantizedMultiplier(self[3], multiplier[3], shift[3]))
    }
}
