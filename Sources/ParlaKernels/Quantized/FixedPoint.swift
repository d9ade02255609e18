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
    /// Lane-wise `FixedPoint.multiplyByQuantizedMultiplier` with per-lane multipliers and shifts, bit-identical to
    /// the scalar form for every input. The 64-bit product is formed from the unsigned 32×32→64 product of the
    /// bit patterns (SSE2 `pmuludq`, which baseline x86-64 has, unlike a signed one) corrected in 32-bit lanes,
    /// and the nudge + truncating division is rewritten as one rounding shift (see `roundingDoublingHighMulLanes`).
    @inlinable @inline(__always)
    func multipliedByQuantized(_ multiplier: SIMD4<Int32>, shift: SIMD4<Int32>) -> SIMD4<Int32> {
        let left = shift & ~(shift &>> 31)                  // max(shift, 0)
        let negated = SIMD4<Int32>(repeating: 0) &- shift
        let right = negated & ~(negated &>> 31)             // max(-shift, 0)
        let shifted = SIMD4(self[0] &<< left[0], self[1] &<< left[1], self[2] &<< left[2], self[3] &<< left[3])
        return FixedPoint.roundingDivideByPOTLanes(FixedPoint.roundingDoublingHighMulLanes(shifted, multiplier), right)
    }
}

extension SIMD4 where Scalar == Int32 {
    /// `multipliedByQuantized` with one multiplier and shift for all lanes (ADD's input scaling): the shifts take
    /// one count for every lane, which SSE2/NEON do in one instruction, where per-lane counts go lane by lane.
    /// Bit-identical to the scalar form.
    @inlinable @inline(__always)
    func multipliedByQuantized(uniform multiplier: Int32, shift: Int32) -> SIMD4<Int32> {
        let left = SIMD4<Int32>(repeating: Swift.max(shift, 0)), right = Swift.max(-shift, 0)
        let h = FixedPoint.roundingDoublingHighMulLanes(self &<< left, SIMD4(repeating: multiplier))
        return h.roundingDividedByPOT(uniform: right)
    }

    /// Lane-wise `roundingDivideByPOT` with one exponent in 0...31 for all lanes.
    @inlinable @inline(__always)
    func roundingDividedByPOT(uniform exponent: Int32) -> SIMD4<Int32> {
        let mask = SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: (Int64(1) << Int64(exponent)) - 1))
        let threshold = (mask &>> 1) &- (self &>> 31)
        let floor = self &>> SIMD4(repeating: exponent)
        return floor &- ((threshold &- (self & mask)) &>> 31)
    }

    /// Lane-wise `FixedPoint.shiftedInputHighMul` (lanes in −256...256, `split` from `FixedPoint.splitMultiplier`):
    /// two 32-bit lane multiplies, no 64-bit products.
    @inlinable @inline(__always)
    func shiftedInputHighMul(uniform split: (high: Int32, low: Int32)) -> SIMD4<Int32> {
        let low = (self &* SIMD4(repeating: split.low) &+ SIMD4(repeating: 1 << 10)) &>> 11
        return self &* SIMD4(repeating: split.high) &+ low
    }
}

extension FixedPoint {
    /// `saturatingRoundingDoublingHighMul(v << 20, m)` for |v| ≤ 256 (ADD's shifted inputs) with 32-bit products
    /// only. SRDHM is `(v·2^20·m + 2^30) >> 31` (floor; see `roundingDoublingHighMulLanes`) = `(v·m + 2^10) >> 11`,
    /// and with `m = 2^11·(m >> 11) + (m & 2047)` that is `v·(m >> 11) + ((v·(m & 2047) + 2^10) >> 11)`:
    /// |v·(m >> 11)| ≤ 2^28 and |v·(m & 2047) + 2^10| < 2^20, so nothing overflows; `v << 20` is never `Int32.min`,
    /// so the saturating case cannot occur.
    @inlinable @inline(__always)
    public static func shiftedInputHighMul(_ v: Int32, split: (high: Int32, low: Int32)) -> Int32 {
        v &* split.high &+ ((v &* split.low &+ (1 << 10)) &>> 11)
    }

    /// `(m >> 11, m & 2047)` for `shiftedInputHighMul`.
    @inlinable public static func splitMultiplier(_ m: Int32) -> (high: Int32, low: Int32) { (m &>> 11, m & 2047) }
}

extension FixedPoint {
    /// Lane-wise `saturatingRoundingDoublingHighMul`. With `p = a·b` the scalar `(p + nudge) / 2^31` (C division)
    /// equals `(p + 2^30) >> 31` for both signs (for `p < 0`: `trunc(q/d) = floor((q + d - 1)/d)` with
    /// `q = p + 1 - 2^30`, `d = 2^31`), i.e. bits 31...62 of `p + 2^30`. The signed product differs from the unsigned
    /// product `u` of the bit patterns by `2^32·((a < 0 ? b : 0) + (b < 0 ? a : 0))` (mod 2^64), which shifts those
    /// bits by twice that sum; `Int32.min · Int32.min` gives `Int32.min` there and is moved to `Int32.max`.
    @inlinable @inline(__always)
    static func roundingDoublingHighMulLanes(_ a: SIMD4<Int32>, _ b: SIMD4<Int32>) -> SIMD4<Int32> {
        @inline(__always) func u(_ v: Int32) -> UInt64 { UInt64(UInt32(bitPattern: v)) }
        let round = SIMD2<UInt64>(repeating: 1 << 30)
        let low = (SIMD2(u(a[0]), u(a[2])) &* SIMD2(u(b[0]), u(b[2])) &+ round) &>> 31
        let high = (SIMD2(u(a[1]), u(a[3])) &* SIMD2(u(b[1]), u(b[3])) &+ round) &>> 31
        let bits = SIMD4(Int32(truncatingIfNeeded: low[0]), Int32(truncatingIfNeeded: high[0]),
                         Int32(truncatingIfNeeded: low[1]), Int32(truncatingIfNeeded: high[1]))
        let correction = ((a &>> 31) & b) &+ ((b &>> 31) & a)
        let minimum = SIMD4<Int32>(repeating: Int32.min)
        let z = (a ^ minimum) | (b ^ minimum)                  // 0 exactly in the saturating lanes
        let saturated = ~(z | (SIMD4<Int32>(repeating: 0) &- z)) &>> 31  // -1 there, else 0
        return bits &- (correction &<< 1) &+ saturated
    }

    /// Lane-wise `roundingDivideByPOT` with per-lane exponents in 0...31.
    @inlinable @inline(__always)
    static func roundingDivideByPOTLanes(_ x: SIMD4<Int32>, _ exponent: SIMD4<Int32>) -> SIMD4<Int32> {
        let one = SIMD4<Int32>(repeating: 1)
        let mask = SIMD4(1 &<< exponent[0], 1 &<< exponent[1], 1 &<< exponent[2], 1 &<< exponent[3]) &- one
        let remainder = x & mask
        let threshold = (mask &>> 1) &- (x &>> 31)
        let floor = SIMD4(x[0] &>> exponent[0], x[1] &>> exponent[1], x[2] &>> exponent[2], x[3] &>> exponent[3])
        return floor &- ((threshold &- remainder) &>> 31)      // +1 where remainder > threshold
    }
}
