extension QuantizedDepthwiseConv2D {
    /// Depthwise weights repacked once at model load for `fast`: widened to int16, `[tap][channel]` with the
    /// channel count padded to a multiple of 16 (zero weights), and the bias padded the same way.
    public struct PackedWeights: Sendable {
        /// Channels (before padding).
        public let channels: Int
        /// Kernel rows.
        public let kernelHeight: Int
        /// Kernel columns.
        public let kernelWidth: Int
        let paddedChannels: Int
        let values: [Int16]
        let bias: [Int32]

        /// Repacks 1HWC int8 `weights` and the optional int32 `bias`.
        public init(weights: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>?, channels: Int,
                    kernelHeight: Int, kernelWidth: Int) {
            precondition(channels > 0 && kernelHeight > 0 && kernelWidth > 0, "qdepthwise pack: sizes must be positive")
            precondition(weights.count >= kernelHeight * kernelWidth * channels, "qdepthwise pack: weights too small")
            precondition(bias.map { $0.count >= channels } ?? true, "qdepthwise pack: bias too small")
            self.channels = channels
            self.kernelHeight = kernelHeight
            self.kernelWidth = kernelWidth
            paddedChannels = (channels + 15) / 16 * 16
            var packed = [Int16](repeating: 0, count: kernelHeight * kernelWidth * paddedChannels)
            for tap in 0..<kernelHeight * kernelWidth {
                for c in 0..<channels { packed[tap * paddedChannels + c] = Int16(weights[tap * channels + c]) }
            }
            values = packed
            self.bias = (0..<paddedChannels).map { $0 < channels ? (bias?[$0] ?? 0) : 0 }
        }
    }

    /// Fast depthwise convolution: 16 channels per step with int32 accumulators, `(x - zeroPoint)` widened to
    /// int16 and multiplied by int16 weights (`smlal` on aarch64); border pixels clip the kernel like `reference`;
    /// the last `channels % 16` channels go 4 at a time, then one by one. Bit-exact with `reference`.
    /// - Parameter rows: the output rows to compute (default all).
    public static func fast(
        input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32, packed: PackedWeights,
        output: UnsafeMutableBufferPointer<Int8>, window: Window2D, requantizer: Requantizer, rows: Range<Int>? = nil
    ) {
        precondition(window.kernelHeight == packed.kernelHeight && window.kernelWidth == packed.kernelWidth,
                     "qdepthwise: packed kernel size differs from the window")
        checkSizes(input: input.count, weights: packed.values.count, bias: nil, output: output.count, window: window,
                   channels: packed.channels, requantizer: requantizer)
        let rows = rows ?? 0..<window.outputHeight
        precondition(rows.lowerBound >= 0 && rows.upperBound <= window.outputHeight, "qdepthwise: rows out of range")
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        packed.values.withUnsafeBufferPointer { wb in
            packed.bias.withUnsafeBufferPointer { bb in
                requantizer.withTables { pm, ps, nm, ns in
                    convolve(input: x, zeroPoint: inputZeroPoint, weights: wb.baseAddress!, bias: bb.baseAddress!,
                             output: y, window: window, packed: packed, requantizer: requantizer, rows: rows,
                             tables: (pm, ps, nm, ns))
                }
            }
        }
    }

    private static func convolve(
        input: UnsafePointer<Int8>, zeroPoint: Int32, weights: UnsafePointer<Int16>, bias: UnsafePointer<Int32>,
        output: UnsafeMutablePointer<Int8>, window: Window2D, packed: PackedWeights, requantizer: Requantizer,
        rows: Range<Int>,
        tables: (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>)
    ) {
        let c = packed.channels, cp = packed.paddedChannels, kw = window.kernelWidth, inW = window.inputWidth
        let (pm, ps, nm, ns) = tables
        let zp16 = SIMD16<Int16>(repeating: Int16(zeroPoint))
        let zp4 = SIMD4<Int32>(repeating: zeroPoint)
        let full = c / 16 * 16
        for oy in rows {
            let kRows = window.kernelRows(forOutputRow: oy)
            let iy0 = oy * window.strideY - window.padTop
            for ox in 0..<window.outputWidth {
                let kColumns = window.kernelColumns(forOutputColumn: ox)
                let ix0 = ox * window.strideX - window.padLeft
                let out = output + (oy * window.outputWidth + ox) * c
                var ch = 0
                while ch < full {
                    var acc = UnsafeRawPointer(bias + ch).loadUnaligned(as: SIMD16<Int32>.self)
                    for ky in kRows {
                        let rowIn = input + ((iy0 + ky) * inW + ix0) * c + ch
                        let rowW = weights + ky * kw * cp + ch
                        for kx in kColumns {
                            let xv = SIMD16<Int16>(truncatingIfNeeded:
                                UnsafeRawPointer(rowIn + kx * c).loadUnaligned(as: SIMD16<Int8>.self)) &- zp16
                            let wv = UnsafeRawPointer(rowW + kx * cp).loadUnaligned(as: SIMD16<Int16>.self)
                            acc &+= SIMD16<Int32>(truncatingIfNeeded: xv) &* SIMD16<Int32>(truncatingIfNeeded: wv)
                        }
                    }
                    let q0 = requantizer.apply(acc.lowHalf.lowHalf, channel: ch, pm: pm, ps: ps, nm: nm, ns: ns)
                    let q1 = requantizer.apply(acc.lowHalf.highHalf, channel: ch + 4, pm: pm, ps: ps, nm: nm, ns: ns)
                    let q2 = requantizer.apply(acc.highHalf.lowHalf, channel: ch + 8, pm: pm, ps: ps, nm: nm, ns: ns)
                    let q3 = requantizer.apply(acc.highHalf.highHalf, channel: ch + 12, pm: pm, ps: ps, nm: nm, ns: ns)
                    let q = SIMD16<Int8>(truncatingIfNeeded: SIMD16(lowHalf: SIMD8(lowHalf: q0, highHalf: q1),
                                                                   highHalf: SIMD8(lowHalf: q2, highHalf: q3)))
                    UnsafeMutableRawPointer(out + ch).storeBytes(of: q, as: SIMD16<Int8>.self)
                    ch += 16
                }
                // Tail: 4 (or fewer) channels per step, inputs gathered lane by lane (never read past the pixel).
                while ch < c {
                    let lanes = min(4, c - ch)
                    var acc = UnsafeRawPointer(bias + ch).loadUnaligned(as: SIMD4<Int32>.self)
                    for ky in kRows {
                        let rowIn = input + ((iy0 + ky) * inW + ix0) * c + ch
                        let rowW = weights + ky * kw * cp + ch
                        for kx in kColumns {
                            var xv = zp4
                            for l in 0..<lanes { xv[l] = Int32(rowIn[kx * c + l]) }
                            let wv = SIMD4<Int32>(truncatingIfNeeded: UnsafeRawPointer(rowW + kx * cp).loadUnaligned(as: SIMD4<Int16>.self))
                            acc &+= (xv &- zp4) &* wv
                        }
                    }
                    storeInt8(requantizer.apply(acc, channel: ch, pm: pm, ps: ps, nm: nm, ns: ns), to: out + ch, lanes: lanes)
                    ch += lanes
                }
            }
        }
    }
}
