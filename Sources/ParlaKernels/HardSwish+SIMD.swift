import CParlaDot

extension HardSwish {
    /// Fast version of `reference`: SIMD8 body, scalar tail; identical results (same operations per lane).
    public static func fast(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count >= output.count, "hard_swish: input smaller than output")
        guard let pi = input.baseAddress, let po = output.baseAddress else { return }
        let n = output.count, vectorEnd = n / 8 * 8
        let three = SIMD8<Float>(repeating: 3), sixth = SIMD8<Float>(repeating: 1 / 6)
        var i = 0
        while i < vectorEnd {
            let x = UnsafeRawPointer(pi + i).loadUnaligned(as: SIMD8<Float>.self)
            let gate = (x + three).clamped(lower: 0, upper: 6)
            UnsafeMutableRawPointer(po + i).storeBytes(of: x * gate * sixth, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            po[i] = apply(pi[i])
            i += 1
        }
    }
}

extension Logistic {
    /// Fast sigmoid: SIMD8 e^-x in float (x = k·ln2 + r, degree-6 polynomial of e^r, 2^k from the exponent bits),
    /// within 2e-7 of `reference`; inputs beyond ±87 saturate to 0 or 1. Scalar tail through the same lanes.
    /// `path` `.avx2FMA` runs CParlaF32's 8-lane kernel (the same steps with FMA).
    public static func fast(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                            path: Float32KernelPath = .best) {
        precondition(input.count >= output.count, "logistic: input smaller than output")
        guard let pi = input.baseAddress, let po = output.baseAddress else { return }
        let n = output.count
        #if arch(x86_64)
        if path == .avx2FMA {
            parla_f32_logistic_avx2(pi, po, n)
            return
        }
        #endif
        var i = 0
        while i < n {
            let lanes = min(8, n - i)
            var x = SIMD8<Float>()
            if lanes == 8 {
                x = UnsafeRawPointer(pi + i).loadUnaligned(as: SIMD8<Float>.self)
            } else {
                for l in 0..<lanes { x[l] = pi[i + l] }
            }
            let y = 1 / (1 + exponential8(-x))
            if lanes == 8 {
                UnsafeMutableRawPointer(po + i).storeBytes(of: y, as: SIMD8<Float>.self)
            } else {
                for l in 0..<lanes { po[i + l] = y[l] }
            }
            i += lanes
        }
    }

    /// e^x for 8 lanes (Cephes expf's reduction and polynomial), x clamped to [-87, 87]. Written with lane-wise
    /// arithmetic, compares and selects only, so it stays in vector registers on baseline x86-64 (SSE2 has no
    /// `roundps`, and the standard library's `rounded`, `clamped` and float → int conversions become calls or
    /// lane-by-lane code there): k = round-to-nearest-even(x·log2 e) by adding and subtracting 1.5·2^23 (|x·log2 e|
    /// < 2^22, so the add rounds to an integer in the low mantissa bits), and 2^k from those bits.
    @inline(__always) static func exponential8(_ value: SIMD8<Float>) -> SIMD8<Float> {
        let low = SIMD8<Float>(repeating: -87), high = SIMD8<Float>(repeating: 87)
        let x = value.replacing(with: low, where: value .< low).replacing(with: high, where: value .> high)
        let magic = SIMD8<Float>(repeating: 12_582_912)  // 1.5·2^23, bit pattern 0x4B40_0000
        let shifted = x * 1.442_695_04 + magic
        let k = shifted - magic
        // ln2 split in a high part with few mantissa bits and the rest, so k·ln2hi is exact.
        let r = x - k * 0.693_359_375 + k * 2.121_944_4e-4
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        let er = p * r * r + r + 1
        // The integer k sits in the low bits of `shifted`: 2^k has exponent bits k + 127.
        let kBits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((kBits &+ 127) &<< 23, to: SIMD8<Float>.self)
        return er * scale
    }
}
