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

    /// SIMD max pooling, 16 channels per step; bit-exact with `maxReference`.
    public static func maxFast(input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>,
                               window: Window2D, channels: Int, activationRange: ClosedRange<Int32> = -128...127) {
        checkSizes(input: input.count, output: output.count, window: window, channels: channels)
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        let lo = Int8(activationRange.lowerBound), hi = Int8(activationRange.upperBound)
        forEachWindow(window) { oy, ox, rows, columns, iy0, ix0 in
            let out = y + (oy * window.outputWidth + ox) * channels
            var c = 0
            while c + 16 <= channels {
                var m = SIMD16<Int8>(repeating: lo)
                for ky in rows {
                    for kx in columns {
                        let p = x + ((iy0 + ky) * window.inputWidth + ix0 + kx) * channels + c
                        m = lanewiseMax(m, UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int8>.self))
                    }
                }
                UnsafeMutableRawPointer(out + c).storeBytes(of: lanewiseMin(m, SIMD16(repeating: hi)), as: SIMD16<Int8>.self)
                c += 16
            }
            while c < channels {
                var m = lo
                for ky in rows { for kx in columns { m = max(m, x[((iy0 + ky) * window.inputWidth + ix0 + kx) * channels + c]) } }
                out[c] = min(m, hi)
                c += 1
            }
        }
    }

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
