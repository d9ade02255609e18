import CParlaDot

extension TransposeConv2D {
    /// Fast version of `reference` in gather form: each output pixel sums the taps that reach it (found once per
    /// output row and column), dot products over the input channels in SIMD8 lanes. Rounding differs from the
    /// scatter order of `reference` (within float tolerance). `path` `.avx2FMA` runs CParlaF32's kernel for
    /// kernel = stride = 2 without padding, one output channel and a multiple of 8 input channels (MediaPipe's
    /// segmentation head); other shapes take the Swift code on every path.
    public static func fast(input: UnsafeBufferPointer<Float>, weights: UnsafeBufferPointer<Float>,
                            bias: UnsafeBufferPointer<Float>?, output: UnsafeMutableBufferPointer<Float>,
                            window g: TransposedWindow2D, inputChannels: Int, outputChannels: Int,
                            path: Float32KernelPath = .best) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count, window: g,
                   inputChannels: inputChannels, outputChannels: outputChannels)
        guard let x = input.baseAddress, let w = weights.baseAddress, let y = output.baseAddress else { return }
        let (ci, co) = (inputChannels, outputChannels)
        if g.kernelHeight == g.strideY && g.kernelWidth == g.strideX && g.padTop == 0 && g.padLeft == 0
            && g.outputHeight == g.inputHeight * g.strideY && g.outputWidth == g.inputWidth * g.strideX {
            #if arch(x86_64)
            if path == .avx2FMA && g.kernelHeight == 2 && g.kernelWidth == 2 && co == 1 && ci % 8 == 0 {
                parla_f32_transpose_conv2x2_c1_avx2(x, w, bias?[0] ?? 0, y, g.inputHeight, g.inputWidth, ci)
                return
            }
            #endif
            disjointTaps(x, w, bias?.baseAddress, y, window: g, inputChannels: ci, outputChannels: co)
            return
        }
        let columnTaps = (0..<g.outputWidth).map {
            g.taps($0, pad: g.padLeft, stride: g.strideX, kernel: g.kernelWidth, inputSize: g.inputWidth)
        }
        for oy in 0..<g.outputHeight {
            let rowTaps = g.taps(oy, pad: g.padTop, stride: g.strideY, kernel: g.kernelHeight, inputSize: g.inputHeight)
            for ox in 0..<g.outputWidth {
                let out = y + (oy * g.outputWidth + ox) * co
                for oc in 0..<co {
                    var sum = SIMD8<Float>()
                    var tail: Float = bias?[oc] ?? 0
                    for (ky, iy) in rowTaps {
                        for (kx, ix) in columnTaps[ox] {
                            let px = x + (iy * g.inputWidth + ix) * ci
                            let pw = w + ((oc * g.kernelHeight + ky) * g.kernelWidth + kx) * ci
                            var c = 0
                            while c + 8 <= ci {
                                sum += UnsafeRawPointer(px + c).loadUnaligned(as: SIMD8<Float>.self)
                                    * UnsafeRawPointer(pw + c).loadUnaligned(as: SIMD8<Float>.self)
                                c += 8
                            }
                            while c < ci {
                                tail += px[c] * pw[c]
                                c += 1
                            }
                        }
                    }
                    out[oc] = tail + sum.sum()
                }
            }
        }
    }

    /// Kernel = stride, no padding (MediaPipe's 2×2/2 segmentation head): every output pixel is one input pixel's
    /// dot product with one tap, so each input pixel's channels are read once for its kernel×kernel×outC outputs.
    /// Those dot products go four at a time: four SIMD8 accumulators reduced together (a transpose-and-add tree, 3
    /// adds for 4 sums instead of one horizontal sum each).
    private static func disjointTaps(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                                     _ y: UnsafeMutablePointer<Float>, window g: TransposedWindow2D, inputChannels ci: Int,
                                     outputChannels co: Int) {
        let vectorEnd = ci / 8 * 8
        // Every (ky, kx, oc) of one input pixel: its weights and its output offset from the pixel's first output.
        let taps = g.kernelHeight * g.kernelWidth * co, groupEnd = taps / 4 * 4
        let weightOffsets = UnsafeMutablePointer<Int>.allocate(capacity: taps)
        let outputOffsets = UnsafeMutablePointer<Int>.allocate(capacity: taps)
        let biases = UnsafeMutablePointer<Float>.allocate(capacity: taps)
        defer { weightOffsets.deallocate(); outputOffsets.deallocate(); biases.deallocate() }
        var t = 0
        for ky in 0..<g.kernelHeight {
            for kx in 0..<g.kernelWidth {
                for oc in 0..<co {
                    weightOffsets[t] = ((oc * g.kernelHeight + ky) * g.kernelWidth + kx) * ci
                    outputOffsets[t] = (ky * g.outputWidth + kx) * co + oc
                    biases[t] = bias?[oc] ?? 0
                    t += 1
                }
            }
        }
        @inline(__always) func dot(_ px: UnsafePointer<Float>, _ pw: UnsafePointer<Float>) -> SIMD8<Float> {
            var sum = SIMD8<Float>()
            var c = 0
            while c < vectorEnd {
                sum += UnsafeRawPointer(px + c).loadUnaligned(as: SIMD8<Float>.self)
                    * UnsafeRawPointer(pw + c).loadUnaligned(as: SIMD8<Float>.self)
                c += 8
            }
            return sum
        }
        @inline(__always) func tail(_ px: UnsafePointer<Float>, _ pw: UnsafePointer<Float>, _ start: Float) -> Float {
            var t = start
            var c = vectorEnd
            while c < ci {
                t += px[c] * pw[c]
                c += 1
            }
            return t
        }
        for iy in 0..<g.inputHeight {
            for ix in 0..<g.inputWidth {
                let px = x + (iy * g.inputWidth + ix) * ci
                let out = y + (iy * g.strideY * g.outputWidth + ix * g.strideX) * co
                var t = 0
                while t < groupEnd {
                    let (w0, w1, w2, w3) = (w + weightOffsets[t], w + weightOffsets[t + 1], w + weightOffsets[t + 2],
                                            w + weightOffsets[t + 3])
                    let (a, b, c, d) = (dot(px, w0), dot(px, w1), dot(px, w2), dot(px, w3))
                    let ab = SIMD8<Float>(lowHalf: a.lowHalf + a.highHalf, highHalf: b.lowHalf + b.highHalf)
                    let cd = SIMD8<Float>(lowHalf: c.lowHalf + c.highHalf, highHalf: d.lowHalf + d.highHalf)
                    let pairs = SIMD8<Float>(lowHalf: ab.evenHalf + ab.oddHalf, highHalf: cd.evenHalf + cd.oddHalf)
                    let sums: SIMD4<Float> = pairs.evenHalf + pairs.oddHalf
                    out[outputOffsets[t]] = tail(px, w0, biases[t]) + sums[0]
                    out[outputOffsets[t + 1]] = tail(px, w1, biases[t + 1]) + sums[1]
                    out[outputOffsets[t + 2]] = tail(px, w2, biases[t + 2]) + sums[2]
                    out[outputOffsets[t + 3]] = tail(px, w3, biases[t + 3]) + sums[3]
                    t += 4
                }
                while t < taps {
                    let pw = w + weightOffsets[t]
                    out[outputOffsets[t]] = tail(px, pw, biases[t]) + dot(px, pw).sum()
                    t += 1
                }
            }
        }
    }
}
