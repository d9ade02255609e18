import CParlaDot

extension Conv2D {
    /// Conv2D weights repacked for `Conv2D.fast`: blocks of 8 output channels, each laid out as
    /// `[kH][kW][inC][8]`, zero-padded to a multiple of 8 channels; the bias padded the same way.
    public struct PackedWeights: Sendable {
        /// Output channels (before padding to a multiple of 8).
        public let outputChannels: Int
        /// Input channels.
        public let inputChannels: Int
        /// Kernel rows.
        public let kernelHeight: Int
        /// Kernel columns.
        public let kernelWidth: Int
        let blockCount: Int
        let values: [Float]
        let bias: [Float]

        /// Repacks OHWI `weights` (`outputChannels × kernelHeight × kernelWidth × inputChannels`) and `bias`.
        public init(weights: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?, outputChannels: Int,
                    kernelHeight: Int, kernelWidth: Int, inputChannels: Int) {
            precondition(outputChannels > 0 && kernelHeight > 0 && kernelWidth > 0 && inputChannels > 0)
            precondition(weights.count >= outputChannels * kernelHeight * kernelWidth * inputChannels)
            precondition(bias.map { $0.count >= outputChannels } ?? true)
            self.outputChannels = outputChannels
            self.inputChannels = inputChannels
            self.kernelHeight = kernelHeight
            self.kernelWidth = kernelWidth
            blockCount = (outputChannels + 7) / 8
            let taps = kernelHeight * kernelWidth * inputChannels
            var packed = [Float](repeating: 0, count: blockCount * taps * 8)
            var paddedBias = [Float](repeating: 0, count: blockCount * 8)
            for oc in 0..<outputChannels {
                let (block, lane) = (oc / 8, oc % 8)
                for tap in 0..<taps {
                    packed[(block * taps + tap) * 8 + lane] = weights[oc * taps + tap]
                }
                paddedBias[oc] = bias?[oc] ?? 0
            }
            values = packed
            self.bias = paddedBias
        }
    }

    /// Fast convolution with SIMD8 accumulators over 8 output channels × 4 output pixels of a row; border
    /// pixels (whose window leaves the image) take a one-pixel path with clipped kernel ranges. Handles every
    /// shape `reference` does and matches it up to float rounding order. `path` `.avx2FMA` runs CParlaF32's
    /// AVX2 + FMA kernel instead (the same tiling with 16 channels per tile).
    public static func fast(
        input: UnsafeBufferPointer<Float>, packed: PackedWeights, output: UnsafeMutableBufferPointer<Float>,
        window: Window2D, activation: FusedActivation, path: Float32KernelPath = .best
    ) {
        precondition(window.kernelHeight == packed.kernelHeight && window.kernelWidth == packed.kernelWidth,
                     "conv2d: packed kernel size differs from the window")
        checkSizes(input: input.count, weights: weightCount(window: window, inputChannels: packed.inputChannels,
                                                            outputChannels: packed.outputChannels),
                   bias: nil, output: output.count, window: window,
                   inputChannels: packed.inputChannels, outputChannels: packed.outputChannels)
        guard let inputBase = input.baseAddress, let outputBase = output.baseAddress else { return }
        packed.values.withUnsafeBufferPointer { weightBuffer in
            packed.bias.withUnsafeBufferPointer { biasBuffer in
                #if arch(x86_64)
                if path == .avx2FMA {
                    precondition(Float32KernelPath.isAvailable(.avx2FMA), "conv2d: this CPU has no AVX2 + FMA")
                    var parameters = parla_f32_conv(
                        input: inputBase, output: outputBase, weights: weightBuffer.baseAddress!,
                        bias: biasBuffer.baseAddress!, input_height: window.inputHeight, input_width: window.inputWidth,
                        input_channels: packed.inputChannels, output_height: window.outputHeight,
                        output_width: window.outputWidth, output_channels: packed.outputChannels,
                        blocks: packed.blockCount, kernel_height: window.kernelHeight, kernel_width: window.kernelWidth,
                        stride_y: window.strideY, stride_x: window.strideX, pad_top: window.padTop,
                        pad_left: window.padLeft, lower: activation.lowerBound, upper: activation.upperBound)
                    parla_f32_conv_avx2(&parameters)
                    return
                }
                #endif
                convolve(input: inputBase, weights: weightBuffer.baseAddress!, bias: biasBuffer.baseAddress!,
                         output: outputBase, window: window, packed: packed, activation: activation)
            }
        }
    }

    @inline(__always)
    private static func store(_ v: SIMD8<Float>, to out: UnsafeMutablePointer<Float>, lanes: Int,
                              lower: Float, upper: Float) {
        let clamped = v.clamped(lower: lower, upper: upper)
        if lanes == 8 {
            UnsafeMutableRawPointer(out).storeBytes(of: clamped, as: SIMD8<Float>.self)
        } else {
            for lane in 0..<lanes { out[lane] = clamped[lane] }
        }
    }

    @inline(__always)
    private static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    private static func convolve(
        input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, window: Window2D, packed: PackedWeights, activation: FusedActivation
    ) {
        let ci = packed.inputChannels, co = packed.outputChannels, kw = window.kernelWidth
        let blockStride = window.kernelHeight * kw * ci * 8
        let (lower, upper) = (activation.lowerBound, activation.upperBound)
        let (sx, pl, inW) = (window.strideX, window.padLeft, window.inputWidth)
        let pixelStep = sx * ci
        for oy in 0..<window.outputHeight {
            let rows = window.kernelRows(forOutputRow: oy)
            let iy0 = oy * window.strideY - window.padTop
            let outRow = output + oy * window.outputWidth * co
            var ox = 0
            while ox < window.outputWidth {
                let firstColumn = ox * sx - pl
                if ox + 4 <= window.outputWidth && firstColumn >= 0 && firstColumn + 3 * sx + kw <= inW {
                    // Four interior pixels of this row: every kernel column is inside the image.
                    for block in 0..<packed.blockCount {
                        let b = load8(bias + block * 8)
                        var (a0, a1, a2, a3) = (b, b, b, b)
                        for ky in rows {
                            var w = weights + block * blockStride + ky * kw * ci * 8
                            var p0 = input + ((iy0 + ky) * inW + firstColumn) * ci
                            for _ in 0..<kw {
                                let p1 = p0 + pixelStep, p2 = p1 + pixelStep, p3 = p2 + pixelStep
                                for ic in 0..<ci {
                                    let wv = load8(w)
                                    a0 += wv * p0[ic]
                                    a1 += wv * p1[ic]
                                    a2 += wv * p2[ic]
                                    a3 += wv * p3[ic]
                                    w += 8
                                }
                                p0 += ci
                            }
                        }
                        let lanes = min(8, co - block * 8)
                        let out = outRow + ox * co + block * 8
                        store(a0, to: out, lanes: lanes, lower: lower, upper: upper)
                        store(a1, to: out + co, lanes: lanes, lower: lower, upper: upper)
                        store(a2, to: out + 2 * co, lanes: lanes, lower: lower, upper: upper)
                        store(a3, to: out + 3 * co, lanes: lanes, lower: lower, upper: upper)
                    }
                    ox += 4
                } else {
                    // One pixel with the kernel clipped to the image.
                    let columns = window.kernelColumns(forOutputColumn: ox)
                    for block in 0..<packed.blockCount {
                        var a = load8(bias + block * 8)
                        for ky in rows {
                            let rowWeights = weights + block * blockStride + ky * kw * ci * 8
                            let rowInput = input + ((iy0 + ky) * inW + firstColumn) * ci
                            for kx in columns {
                                let w = rowWeights + kx * ci * 8
                                let p = rowInput + kx * ci
                                for ic in 0..<ci { a += load8(w + ic * 8) * p[ic] }
                            }
                        }
                        store(a, to: outRow + ox * co + block * 8, lanes: min(8, co - block * 8),
                              lower: lower, upper: upper)
                    }
                    ox += 1
                }
            }
        }
    }
}
