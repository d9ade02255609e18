extension AveragePool2D {
    /// Fast version of `reference`: sums 8 channels per step in SIMD8 lanes (the same additions in the same order
    /// per channel, so results are identical), scalar channel tail.
    public static func fast(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                            window: Window2D, channels: Int, activation: FusedActivation) {
        checkSizes(input: input.count, output: output.count, window: window, channels: channels)
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        let (lower, upper) = (activation.lowerBound, activation.upperBound)
        for oy in 0..<window.outputHeight {
            let rows = window.kernelRows(forOutputRow: oy)
            for ox in 0..<window.outputWidth {
                let columns = window.kernelColumns(forOutputColumn: ox)
                let iy0 = oy * window.strideY - window.padTop, ix0 = ox * window.strideX - window.padLeft
                let count = Float(rows.count * columns.count)
                let out = y + (oy * window.outputWidth + ox) * channels
                var c = 0
                while c + 8 <= channels {
                    var sum = SIMD8<Float>()
                    for ky in rows {
                        let row: UnsafePointer<Float> = x + ((iy0 + ky) * window.inputWidth + ix0) * channels + c
                        for kx in columns {
                            sum += UnsafeRawPointer(row + kx * channels).loadUnaligned(as: SIMD8<Float>.self)
                        }
                    }
                    UnsafeMutableRawPointer(out + c).storeBytes(of: (sum / count).clamped(lower: lower, upper: upper),
                                                                as: SIMD8<Float>.self)
                    c += 8
                }
                while c < channels {
                    var sum: Float = 0
                    for ky in rows {
                        for kx in columns { sum += x[((iy0 + ky) * window.inputWidth + ix0 + kx) * channels + c] }
                    }
                    out[c] = clampScalar(sum / count, lower: lower, upper: upper)
                    c += 1
                }
            }
        }
    }
}
