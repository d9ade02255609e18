/// Int8 max and average pooling over NHWC (batch 1), TFLite semantics: input and output share scale and zero
/// point; the window is clipped to the image (padding is never counted); average rounds half away from zero
/// (`(sum ± count/2) / count`); then the activation clamp.
public enum QuantizedPool2D {
    /// Plain scalar max pooling reference.
    public static func maxReference(input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>,
                                    window: Window2D, channels: Int, activationRange: ClosedRange<Int32> = -128...127) {
        checkSizes(input: input.count, output: output.count, window: window, channels: channels)
        forEachWindow(window) { oy, ox, rows, columns, iy0, ix0 in
            for c in 0..<channels {
                var m: Int32 = -128
                for ky in rows {
                    for kx in columns { m = max(m, Int32(input[((iy0 + ky) * window.inputWidth + ix0 + kx) * channels + c])) }
                }
                output[(oy * window.outputWidth + ox) * channels + c] = Int8(min(max(m, activationRange.lowerBound), activationRange.upperBound))
            }
        }
    }

    /// Plain scalar average pooling reference.
    public static func averageReference(input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>,
                                        window: Window2D, channels: Int, activationRange: ClosedRange<Int32> = -128...127) {
        checkSizes(input: input.count, output: output.count, window: window, channels: channels)
        forEachWindow(window) { oy, ox, rows, columns, iy0, ix0 in
            let count = Int32(rows.count * columns.count)
            for c in 0..<channels {
                var sum: Int32 = 0
                for ky in rows {
                    for kx in columns { sum += Int32(input[((iy0 + ky) * window.inputWidth + ix0 + kx) * channels + c]) }
                }
                let avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count
                output[(oy * window.outputWidth + ox) * channels + c] = Int8(min(max(avg, activationRange.lowerBound), activationRange.upperBound))
            }
        }
    }

    /// SIMD max pooling, 16 channels per step (8 when there are fewer than 16), the last step overlapping the one
    /// before it when the channels are not a multiple of the step (BlazeFace's 24, 28, 42... channels) instead of a
    /// scalar tail; bit-exact with `maxReference`.
    public static func maxFast(input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>,
                               window: Window2D, channels: Int, activationRange: ClosedRange<Int32> = -128...127) {
        checkSizes(input: input.count, output: output.count, window: window, channels: channels)
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        let lo = Int8(activationRange.lowerBound), hi = Int8(activationRange.upperBound)
        let inW = window.inputWidth
        let twoByTwo = window.kernelHeight == 2 && window.kernelWidth == 2 && window.strideY == 2 && window.strideX == 2
        forEachWindow(window) { oy, ox, rows, columns, iy0, ix0 in
            let out = y + (oy * window.outputWidth + ox) * channels
            if twoByTwo && channels >= 16 && rows.count == 2 && columns.count == 2 {
                // BlazeFace's 2×2/2 pooling, the window inside the image: four loads per 16 channels.
                let p0 = x + (iy0 * inW + ix0) * channels, p1 = p0 + inW * channels
                var c = 0
                while true {
                    let cc = min(c, channels - 16)
                    let m = max4Clamped(load16(p0 + cc), load16(p0 + channels + cc), load16(p1 + cc),
                                        load16(p1 + channels + cc), lo: lo, hi: hi)
                    UnsafeMutableRawPointer(out + cc).storeBytes(of: m, as: SIMD16<Int8>.self)
                    if cc == channels - 16 { break }
                    c += 16
                }
            } else if channels >= 16 {
                var c = 0
                while true {
                    let cc = min(c, channels - 16)
                    var m = SIMD16<Int8>(repeating: lo)
                    for ky in rows {
                        for kx in columns {
                            let p = x + ((iy0 + ky) * inW + ix0 + kx) * channels + cc
                            m = lanewiseMax(m, UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int8>.self))
                        }
                    }
                    UnsafeMutableRawPointer(out + cc).storeBytes(of: lanewiseMin(m, SIMD16(repeating: hi)),
                                                                 as: SIMD16<Int8>.self)
                    if cc == channels - 16 { break }
                    c += 16
                }
            } else if channels >= 8 {
                for step in 0..<2 {
                    let cc = step == 0 ? 0 : channels - 8
                    var m = SIMD8<Int8>(repeating: lo)
                    for ky in rows {
                        for kx in columns {
                            let p = x + ((iy0 + ky) * inW + ix0 + kx) * channels + cc
                            m = lanewiseMax(m, UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Int8>.self))
                        }
                    }
                    UnsafeMutableRawPointer(out + cc).storeBytes(of: lanewiseMin(m, SIMD8(repeating: hi)),
                                                                 as: SIMD8<Int8>.self)
                }
            } else {
                for c in 0..<channels {
                    var m = lo
                    for ky in rows { for kx in columns { m = max(m, x[((iy0 + ky) * inW + ix0 + kx) * channels + c]) } }
                    out[c] = min(m, hi)
                }
            }
        }
    }

    @inline(__always)
    private static func load16(_ p: UnsafePointer<Int8>) -> SIMD16<Int8> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int8>.self)
    }

    /// The lane-wise maximum of four vectors, clamped to `lo...hi`.
    @inline(__always)
    private static func max4Clamped(_ a: SIMD16<Int8>, _ b: SIMD16<Int8>, _ c: SIMD16<Int8>, _ d: SIMD16<Int8>,
                                    lo: Int8, hi: Int8) -> SIMD16<Int8> {
        #if arch(x86_64)
        // Baseline x86-64 (SSE2) has no signed byte max (pmaxsb is SSE4.1; LLVM emits compare and blend, 4
        // instructions); with the sign bit flipped, unsigned order is signed order, so pmaxub/pminub do it in one.
        let flip = SIMD16<UInt8>(repeating: 0x80)
        let m: SIMD16<UInt8> = unsignedMax(unsignedMax(unsigned(a) ^ flip, unsigned(b) ^ flip),
                                           unsignedMax(unsigned(c) ^ flip, unsigned(d) ^ flip))
        let lower = SIMD16<UInt8>(repeating: UInt8(bitPattern: lo) ^ 0x80)
        let upper = SIMD16<UInt8>(repeating: UInt8(bitPattern: hi) ^ 0x80)
        return unsafeBitCast(unsignedMin(unsignedMax(m, lower), upper) ^ flip, to: SIMD16<Int8>.self)
        #else
        let m = lanewiseMax(lanewiseMax(a, b), lanewiseMax(c, d))
        return lanewiseMin(lanewiseMax(m, SIMD16(repeating: lo)), SIMD16(repeating: hi))
        #endif
    }

    #if arch(x86_64)
    @inline(__always)
    private static func unsigned(_ v: SIMD16<Int8>) -> SIMD16<UInt8> { unsafeBitCast(v, to: SIMD16<UInt8>.self) }

    @inline(__always)
    private static func unsignedMax(_ a: SIMD16<UInt8>, _ b: SIMD16<UInt8>) -> SIMD16<UInt8> {
        var r = a
        for l in 0..<16 { r[l] = max(a[l], b[l]) }
        return r
    }

    @inline(__always)
    private static func unsignedMin(_ a: SIMD16<UInt8>, _ b: SIMD16<UInt8>) -> SIMD16<UInt8> {
        var r = a
        for l in 0..<16 { r[l] = min(a[l], b[l]) }
        return r
    }
    #endif

    /// SIMD average pooling, 8 channels per step with int32 sums; bit-exact with `averageReference`.
    public static func averageFast(input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>,
                                   window: Window2D, channels: Int, activationRange: ClosedRange<Int32> = -128...127) {
        checkSizes(input: input.count, output: output.count, window: window, channels: channels)
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        forEachWindow(window) { oy, ox, rows, columns, iy0, ix0 in
            let out = y + (oy * window.outputWidth + ox) * channels
            let count = Int32(rows.count * columns.count)
            var c = 0
            while c < channels {
                let lanes = min(8, channels - c)
                var sum = SIMD8<Int32>()
                for ky in rows {
                    for kx in columns {
                        let p = x + ((iy0 + ky) * window.inputWidth + ix0 + kx) * channels + c
                        if lanes == 8 {
                            sum &+= widen(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Int8>.self))
                        } else {
                            for l in 0..<lanes { sum[l] &+= Int32(p[l]) }
                        }
                    }
                }
                // Rounded division lane by lane (no vector integer division on either ISA).
                for l in 0..<lanes {
                    let v = sum[l]
                    let avg = v > 0 ? (v + count / 2) / count : (v - count / 2) / count
                    out[c + l] = Int8(min(max(avg, activationRange.lowerBound), activationRange.upperBound))
                }
                c += lanes
            }
        }
    }

    /// Calls `body(oy, ox, kernelRows, kernelColumns, iy0, ix0)` for every output pixel, with the clipped kernel.
    @inline(__always)
    static func forEachWindow(_ window: Window2D, _ body: (Int, Int, Range<Int>, Range<Int>, Int, Int) -> Void) {
        for oy in 0..<window.outputHeight {
            let rows = window.kernelRows(forOutputRow: oy)
            for ox in 0..<window.outputWidth {
                body(oy, ox, rows, window.kernelColumns(forOutputColumn: ox), oy * window.strideY - window.padTop,
                     ox * window.strideX - window.padLeft)
            }
        }
    }

    static func checkSizes(input: Int, output: Int, window: Window2D, channels: Int) {
        precondition(channels > 0, "qpool: channels must be positive")
        precondition(input >= window.inputHeight * window.inputWidth * channels, "qpool: input too small")
        precondition(output >= window.outputHeight * window.outputWidth * channels, "qpool: output too small")
    }
}
