import CParlaDot

/// fp32 ↔ int8 tensor conversion, TFLite semantics: quantize `q = clamp(round(x / scale) + zeroPoint)` with
/// round half away from zero (IEEE division, identical on every platform); dequantize `x = scale · (q - zeroPoint)`.
public enum QuantizedConversion {
    /// Plain scalar quantize reference.
    public static func quantizeReference(_ input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Int8>,
                                         parameters: QuantizationParameters) {
        precondition(input.count >= output.count, "quantize: input too small")
        for i in 0..<output.count { output[i] = quantize(input[i], parameters) }
    }

    /// Plain scalar dequantize reference.
    public static func dequantizeReference(_ input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Float>,
                                           parameters: QuantizationParameters) {
        precondition(input.count >= output.count, "dequantize: input too small")
        for i in 0..<output.count { output[i] = parameters.scale * Float(Int32(input[i]) - parameters.zeroPoint) }
    }

    /// One value: NaN becomes the zero point, ±infinity saturates.
    @inlinable public static func quantize(_ x: Float, _ p: QuantizationParameters) -> Int8 {
        let r = (x / p.scale).rounded(.toNearestOrAwayFromZero)
        if r.isNaN { return Int8(p.zeroPoint) }
        let clamped = min(max(r, -512), 512)  // keeps the conversion to Int32 defined
        return Int8(min(max(Int32(clamped) + p.zeroPoint, -128), 127))
    }

    /// Fast quantize, bit-exact with `quantizeReference`: 8 lanes per step with lane-wise arithmetic, compares and
    /// selects only (no `roundf` call, no float → int conversion, nothing baseline x86-64 SSE2 lacks), on the
    /// magnitude: `a = min(|x / scale|, 512)` (the division stays an IEEE division, the reference's), then
    /// `a + 1.5·2^23` is rounded by the float add to the nearest integer (ties to even) and that integer sits in the
    /// low mantissa bits; a tie that went down (`a − r = 0.5`) gets one more step up, i.e. away from zero once the
    /// sign is put back. NaN lanes (`q == q` false) are zeroed before the zero point is added. The tail runs the
    /// reference's steps one value at a time. On x86-64 with AVX2 CParlaQS8 runs the same steps in 8 lanes, the
    /// clamp done by the saturating packs.
    /// - Parameter path: the implementation (`Int8KernelPath.best` unless a test picks one).
    public static func quantizeFast(_ input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Int8>,
                                    parameters p: QuantizationParameters, path: Int8KernelPath = .best) {
        precondition(input.count >= output.count, "quantize: input too small")
        precondition(Int8KernelPath.isAvailable(path), "quantize: this CPU cannot run \(path)")
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        let n = output.count
        #if arch(x86_64)
        if path.usesAVX2 {
            parla_qs8_quantize_avx2(x, y, n, p.scale, p.zeroPoint)
            return
        }
        #endif
        let scale = SIMD8<Float>(repeating: p.scale), zp = SIMD8<Int32>(repeating: p.zeroPoint)
        let high = SIMD8<Float>(repeating: 512), magic = SIMD8<Float>(repeating: 12_582_912)  // 1.5·2^23
        let half = SIMD8<Float>(repeating: 0.5), magnitudeBits = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
        let minimum = SIMD8<Int16>(repeating: -128), maximum = SIMD8<Int16>(repeating: 127)
        var i = 0
        while i + 8 <= n {
            let q = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) / scale
            let bits = unsafeBitCast(q, to: SIMD8<UInt32>.self)
            let sign = unsafeBitCast(bits, to: SIMD8<Int32>.self) &>> 31
            let magnitude = unsafeBitCast(bits & magnitudeBits, to: SIMD8<Float>.self)
            let a = magnitude.replacing(with: high, where: magnitude .> high)  // NaN stays NaN here
            let s = a + magic
            let tie = unsafeBitCast(a - (s - magic) .== half, to: SIMD8<Int32>.self)  // -1 where rounded down on a tie
            let ordered = unsafeBitCast(q .== q, to: SIMD8<Int32>.self)
            let rounded = ((unsafeBitCast(s, to: SIMD8<Int32>.self) &- 0x4B40_0000) &- tie) & ordered
            // |v| ≤ 512 + 128: the clamp runs in int16 lanes (SSE2 has int16 min/max, not int32).
            let v = halve(((rounded ^ sign) &- sign) &+ zp)
            let c = v.replacing(with: minimum, where: v .< minimum).replacing(with: maximum, where: v .> maximum)
            UnsafeMutableRawPointer(y + i).storeBytes(of: halve(c), as: SIMD8<Int8>.self)
            i += 8
        }
        while i < n {
            let q = x[i] / p.scale
            let c: Float = q.isNaN ? 0 : Swift.min(Swift.max(q, -512), 512)
            let magic: Float = 12_582_912  // 1.5·2^23, bit pattern 0x4B40_0000
            let s = c + magic
            let r = s - magic
            var v = Int32(bitPattern: s.bitPattern) &- 0x4B40_0000
            v &+= (c > 0 && c - r == 0.5) ? 1 : 0
            v &-= (c < 0 && c - r == -0.5) ? 1 : 0
            y[i] = Int8(truncatingIfNeeded: Swift.min(Swift.max(v &+ zp[0], -128), 127))
            i += 1
        }
    }

    /// SIMD dequantize, 8 values per step; bit-exact with `dequantizeReference`. On x86-64 with AVX2 CParlaQS8 runs
    /// the same steps, 32 values per step (`path`: `Int8KernelPath.best` unless a test picks one).
    public static func dequantizeFast(_ input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Float>,
                                      parameters p: QuantizationParameters, path: Int8KernelPath = .best) {
        precondition(input.count >= output.count, "dequantize: input too small")
        precondition(Int8KernelPath.isAvailable(path), "dequantize: this CPU cannot run \(path)")
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        let n = output.count
        #if arch(x86_64)
        if path.usesAVX2 {
            parla_qs8_dequantize_avx2(x, y, n, p.scale, p.zeroPoint)
            return
        }
        #endif
        let scale = SIMD8<Float>(repeating: p.scale), zp = SIMD8<Int32>(repeating: p.zeroPoint)
        var i = 0
        while i + 8 <= n {
            let q = widen(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Int8>.self)) &- zp
            UnsafeMutableRawPointer(y + i).storeBytes(of: scale * toFloat(q), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] = p.scale * Float(Int32(x[i]) - p.zeroPoint); i += 1 }
    }
}

/// Lane-wise truncation to the next narrower integer, written lane by lane (see SIMDLanes.swift).
@inline(__always) private func halve(_ v: SIMD8<Int32>) -> SIMD8<Int16> {
    SIMD8(Int16(truncatingIfNeeded: v[0]), Int16(truncatingIfNeeded: v[1]), Int16(truncatingIfNeeded: v[2]),
          Int16(truncatingIfNeeded: v[3]), Int16(truncatingIfNeeded: v[4]), Int16(truncatingIfNeeded: v[5]),
          Int16(truncatingIfNeeded: v[6]), Int16(truncatingIfNeeded: v[7]))
}

@inline(__always) private func halve(_ v: SIMD8<Int16>) -> SIMD8<Int8> {
    SIMD8(Int8(truncatingIfNeeded: v[0]), Int8(truncatingIfNeeded: v[1]), Int8(truncatingIfNeeded: v[2]),
          Int8(truncatingIfNeeded: v[3]), Int8(truncatingIfNeeded: v[4]), Int8(truncatingIfNeeded: v[5]),
          Int8(truncatingIfNeeded: v[6]), Int8(truncatingIfNeeded: v[7]))
}
