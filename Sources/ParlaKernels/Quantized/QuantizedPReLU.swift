import CParlaDot

/// Standalone int8 PReLU with per-channel slopes (last dimension), using `Requantizer.prelu`:
/// `v = x - inZp; q = clamp(outZp + (v >= 0 ? MBQM(v, inScale/outScale) : MBQM(v, slope[c]·inScale/outScale)))`.
/// After a convolution prefer fusing the slopes into the conv's requantizer (`Requantizer.convolution(preluSlopes:)`).
public enum QuantizedPReLU {
    /// Plain scalar reference over `output.count` values laid out `[..., channels]`.
    public static func reference(input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32,
                                 output: UnsafeMutableBufferPointer<Int8>, requantizer: Requantizer) {
        let c = requantizer.channels
        precondition(output.count % c == 0 && input.count >= output.count, "qprelu: sizes do not match channels")
        for i in 0..<output.count {
            output[i] = requantizer.apply(Int32(input[i]) - inputZeroPoint, channel: i % c)
        }
    }

    /// SIMD version, 4 channels per step per pixel; bit-exact with `reference`.
    /// - Parameter path: the implementation (`Int8KernelPath.best` unless a test picks one).
    public static func fast(input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32,
                            output: UnsafeMutableBufferPointer<Int8>, requantizer: Requantizer,
                            path: Int8KernelPath = .best) {
        let c = requantizer.channels
        precondition(output.count % c == 0 && input.count >= output.count, "qprelu: sizes do not match channels")
        precondition(Int8KernelPath.isAvailable(path), "qprelu: this CPU cannot run \(path)")
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        #if arch(x86_64)
        if path.usesAVX2 {
            requantizer.withCRequantizer { rq in
                if path == .avx512VNNI {
                    parla_qs8_prelu_avx512(x, inputZeroPoint, y, output.count, c, rq)
                } else {
                    parla_qs8_prelu_avx2(x, inputZeroPoint, y, output.count, c, rq)
                }
            }
            return
        }
        #endif
        let zp = SIMD4<Int32>(repeating: inputZeroPoint)
        requantizer.withTables { pm, ps, nm, ns in
            for pixel in 0..<output.count / c {
                let src = x + pixel * c, dst = y + pixel * c
                var ch = 0
                while ch + 4 <= c {
                    let v = widen(UnsafeRawPointer(src + ch).loadUnaligned(as: SIMD4<Int8>.self)) &- zp
                    storeInt8(requantizer.apply(v, channel: ch, pm: pm, ps: ps, nm: nm, ns: ns), to: dst + ch, lanes: 4)
                    ch += 4
                }
                while ch < c { dst[ch] = requantizer.apply(Int32(src[ch]) - inputZeroPoint, channel: ch); ch += 1 }
            }
        }
    }
}
