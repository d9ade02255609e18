import CParlaDot

extension QuantizedDepthwiseConv2D {
    /// Depthwise weights repacked once at model load for `fast`: widened to int16, `[tap][channel]` with the
    /// channel count padded to a multiple of 16 (zero weights), and the bias padded the same way. Inside each
    /// whole block of 16 channels the even channels come first, then the odd ones (the order `fast` splits an
    /// int8 load into); a last partial block keeps the natural order.
    public struct PackedWeights: Sendable {
        /// Channels (before padding).
        public let channels: Int
        /// Kernel rows.
        public let kernelHeight: Int
        /// Kernel columns.
        public let kernelWidth: Int
        let paddedChannels: Int
        let values: [Int16]
        /// The int16 weights for the AVX2 kernel: per block of 16 channels and pair of taps, the interleaved
        /// vpmaddwd layout of `parla_qs8_depthwise.weights`.
        let tapPairs: [Int16]
        /// Σ over taps of each channel's weights (padded), for folding the input zero point into the bias.
        let weightSums: [Int32]
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
            let full = channels / 16 * 16
            let taps = kernelHeight * kernelWidth, pairs = (taps + 1) / 2
            var interleaved = [Int16](repeating: 0, count: paddedChannels / 16 * pairs * 32)
            var sums = [Int32](repeating: 0, count: paddedChannels)
            for tap in 0..<taps {
                for c in 0..<channels {
                    let w = weights[tap * channels + c]
                    let slot = c < full ? c / 16 * 16 + (c % 2) * 8 + (c % 16) / 2 : c
                    packed[tap * paddedChannels + slot] = Int16(w)
                    sums[c] += Int32(w)
                    // Lane of channel c (within its block: half h = k/8, i = k%8) and tap parity in lo or hi.
                    let k = c % 16, (h, i) = (k / 8, k % 8)
                    let lane = h * 8 + (i % 4) * 2 + tap % 2
                    interleaved[((c / 16) * pairs + tap / 2) * 32 + (i < 4 ? 0 : 16) + lane] = Int16(w)
                }
            }
            values = packed
            tapPairs = interleaved
            weightSums = sums
            self.bias = (0..<paddedChannels).map { $0 < channels ? (bias?[$0] ?? 0) : 0 }
        }
    }

    /// Fast depthwise convolution: 16 channels per step. One 16-byte load is split into even and odd channels
    /// as int16 (shift pairs), `(x - zeroPoint)·w` is formed in int16 (|·| ≤ 255·127 fits), and the int16
    /// products are sign-extended pairwise into four int32 accumulators; border pixels clip the kernel like `reference`;
    /// the last `channels % 16` channels go 4 at a time, then one by one. Bit-exact with `reference`.
    /// - Parameter rows: the output rows to compute (default all).
    /// - Parameter path: the implementation (`Int8KernelPath.best` unless a test picks one).
    public static func fast(
        input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32, packed: PackedWeights,
        output: UnsafeMutableBufferPointer<Int8>, window: Window2D, requantizer: Requantizer, rows: Range<Int>? = nil,
        path: Int8KernelPath = .best
    ) {
        precondition(window.kernelHeight == packed.kernelHeight && window.kernelWidth == packed.kernelWidth,
                     "qdepthwise: packed kernel size differs from the window")
        checkSizes(input: input.count, weights: packed.values.count, bias: nil, output: output.count, window: window,
                   channels: packed.channels, requantizer: requantizer)
        let rows = rows ?? 0..<window.outputHeight
        precondition(rows.lowerBound >= 0 && rows.upperBound <= window.outputHeight, "qdepthwise: rows out of range")
        precondition(Int8KernelPath.isAvailable(path), "qdepthwise: this CPU cannot run \(path)")
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        #if arch(x86_64)
        if path.usesAVX2 {
            packed.tapPairs.withUnsafeBufferPointer { w in
                packed.bias.withUnsafeBufferPointer { b in
                  packed.weightSums.withUnsafeBufferPointer { sums in
                    requantizer.withCRequantizer { rq in
                        var d = parla_qs8_depthwise(
                            input: x, output: y, weights: w.baseAddress!, bias: b.baseAddress!,
                            weight_sums: sums.baseAddress!, channels: packed.channels,
                            padded_channels: packed.paddedChannels, input_height: window.inputHeight,
                            input_width: window.inputWidth, output_width: window.outputWidth,
                            kernel_height: window.kernelHeight, kernel_width: window.kernelWidth,
                            stride_y: window.strideY, stride_x: window.strideX, pad_top: window.padTop,
                            pad_left: window.padLeft, input_zero_point: inputZeroPoint)
                        if path == .avx512VNNI {
                            parla_qs8_depthwise_avx512(&d, rq, rows.lowerBound, rows.upperBound)
                        } else {
                            parla_qs8_depthwise_avx2(&d, rq, rows.lowerBound, rows.upperBound)
                        }
                    }
                  }
                }
            }
            return
        }
        #endif
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
        let zp8 = SIMD8<Int16>(repeating: Int16(zeroPoint))
        let zp4 = SIMD4<Int32>(repeating: zeroPoint)
        let full = c / 16 * 16
        let wStep = 2 * cp // bytes from one tap's int16 weights to the next's
        for oy in rows {
            let kRows = window.kernelRows(forOutputRow: oy)
            let iy0 = oy * window.strideY - window.padTop
            for ox in 0..<window.outputWidth {
                let kColumns = window.kernelColumns(forOutputColumn: ox)
                let ix0 = ox * window.strideX - window.padLeft
                let out = output + (oy * window.outputWidth + ox) * c
                var ch = 0
                while ch < full {
                    // e0: channels 4j, e1: 4j+2, o0: 4j+1, o1: 4j+3 (j = lane).
                    var e0 = SIMD4<Int32>(), e1 = SIMD4<Int32>(), o0 = SIMD4<Int32>(), o1 = SIMD4<Int32>()
                    for ky in kRows {
                        // Pointers stepped per tap: offsets like `kx * c` are overflow-checked multiplies in Swift,
                        // which took 12 of the loop's 32 aarch64 instructions (docs/arm64.md).
                        var xp = UnsafeRawPointer(input + ((iy0 + ky) * inW + ix0 + kColumns.lowerBound) * c + ch)
                        var wp = UnsafeRawPointer(weights + (ky * kw + kColumns.lowerBound) * cp + ch)
                        var taps = kColumns.count
                        while taps > 0 {
                            let (xe, xo) = splitPairs(xp.loadUnaligned(as: SIMD8<Int16>.self))
                            let we = wp.loadUnaligned(as: SIMD8<Int16>.self)
                            let wo = wp.loadUnaligned(fromByteOffset: 16, as: SIMD8<Int16>.self)
                            let (pe0, pe1) = splitPairs(unsafeBitCast((xe &- zp8) &* we, to: SIMD4<Int32>.self))
                            let (po0, po1) = splitPairs(unsafeBitCast((xo &- zp8) &* wo, to: SIMD4<Int32>.self))
                            e0 &+= pe0; e1 &+= pe1; o0 &+= po0; o1 &+= po1
                            xp += c; wp += wStep; taps &-= 1
                        }
                    }
                    @inline(__always) func finish(_ v: SIMD4<Int32>, _ k: Int) {
                        let b = UnsafeRawPointer(bias + k).loadUnaligned(as: SIMD4<Int32>.self)
                        storeInt8(requantizer.apply(v &+ b, channel: k, pm: pm, ps: ps, nm: nm, ns: ns), to: out + k, lanes: 4)
                    }
                    finish(SIMD4(e0[0], o0[0], e1[0], o1[0]), ch)
                    finish(SIMD4(e0[1], o0[1], e1[1], o1[1]), ch + 4)
                    finish(SIMD4(e0[2], o0[2], e1[2], o1[2]), ch + 8)
                    finish(SIMD4(e0[3], o0[3], e1[3], o1[3]), ch + 12)
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
                            let wv = widen(UnsafeRawPointer(rowW + kx * cp).loadUnaligned(as: SIMD4<Int16>.self))
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
