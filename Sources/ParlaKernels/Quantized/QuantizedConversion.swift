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

    /// Fast quantize, bit-exact with `quantizeReference`: a branch-free loop the compiler vectorizes. The rounding
    /// needs no `roundf` call and no float→int conversion: for |c| ≤ 512, `c + 1.5·2^23` is rounded by the float
    /// add to the nearest integer (ties to even) and that integer sits in the low mantissa bits; the ties that went
    /// toward zero (`c - r == ±0.5` on the side of `c`) get one more step away from zero. NaN is mapped to 0 first.
    public static func quantizeFast(_ input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Int8>,
                                    parameters p: QuantizationParameters) {
        precondition(input.count >= output.count, "quantize: input too small")
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        let scale = p.scale, zp = p.zeroPoint
        for i in 0..<output.count {
            let q = x[i] / scale
            let c: Float = q.isNaN ? 0 : Swift.min(Swift.max(q, -512), 512)
            let magic: Float = 12_582_912  // 1.5·2^23, bit pattern 0x4B40_0000
            let s = c + magic
            let r = s - magic
            var v = Int32(bitPattern: s.bitPattern) &- 0x4B40_0000
            v &+= (c > 0 && c - r == 0.5) ? 1 : 0
            v &-= (c < 0 && c - r == -0.5) ? 1 : 0
            y[i] = Int8(truncatingIfNeeded: Swift.min(Swift.max(v &+ zp, -128), 127))
        }
    }

    /// SIMD dequantize, 8 values per step; bit-exact with `dequantizeReference`.
    public static func dequantizeFast(_ input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Float>,
                                      parameters p: QuantizationParameters) {
        precondition(input.count >= output.count, "dequantize: input too small")
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        let n = output.count
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
