import CParlaDot

extension QuantizedConv2D {
    /// Output channels per register tile.
    static let tileChannels = 8
    /// Output pixels per register tile.
    static let tilePixels = 4

    /// Weights repacked once at model load for `QuantizedConv2D.fast` (and `QuantizedFullyConnected.fast`):
    /// widened to int16 and laid out `[block of 8 output channels][tap pair][8 channels][2 taps]` so that one
    /// 16-lane load feeds 8 output channels × 2 taps; the tap count is padded to a multiple of 4 with zero
    /// weights and the channel count to a multiple of 8. The input zero
    /// point is folded into the bias: `bias[c] - inputZeroPoint·Σ w[c]` (padding then reads `inputZeroPoint`).
    public struct PackedWeights: Sendable {
        /// Output channels (before padding to a multiple of 8).
        public let outputChannels: Int
        /// Input channels.
        public let inputChannels: Int
        /// Kernel rows.
        public let kernelHeight: Int
        /// Kernel columns.
        public let kernelWidth: Int
        /// Input zero point folded into `bias`; the input must use it.
        public let inputZeroPoint: Int32
        /// Taps per output value (`kH·kW·inC`), and that padded to a multiple of 4.
        let taps: Int, paddedTaps: Int
        let blockCount: Int
        let values: [Int16]
        /// The same weights as int8 in the `sdot` layout `[block][tap quad][8 channels][4 taps]` (CParlaDot).
        let bytes: [Int8]
        let bias: [Int32]
        /// `bias` for inputs made unsigned (x + 128, AVX-VNNI `vpdpbusd`): `bias[c] - 128·Σ w[c]`.
        let unsignedInputBias: [Int32]
        /// For the AVX-512 VNNI GEMM (built only where `Int8KernelPath.isAvailable(.avx512VNNI)`, else empty): the
        /// int8 weights in blocks of 16 channels `[block][tap quad][16 channels][4 taps]` (one ZMM per tap quad),
        /// and `unsignedInputBias` padded to a multiple of 16 channels.
        let wideBytes: [Int8], wideBias: [Int32]

        /// Repacks OHWI int8 `weights` and the optional int32 `bias`.
        public init(weights: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>?, outputChannels: Int,
                    kernelHeight: Int, kernelWidth: Int, inputChannels: Int, inputZeroPoint: Int32) {
            precondition(outputChannels > 0 && kernelHeight > 0 && kernelWidth > 0 && inputChannels > 0,
                         "qconv2d pack: sizes must be positive")
            let taps = kernelHeight * kernelWidth * inputChannels
            precondition(weights.count >= outputChannels * taps, "qconv2d pack: weights too small")
            precondition(bias.map { $0.count >= outputChannels } ?? true, "qconv2d pack: bias too small")
            precondition(weights.allSatisfy { $0 != Int8.min }, "qconv2d pack: weights must be in -127...127")
            self.outputChannels = outputChannels
            self.inputChannels = inputChannels
            self.kernelHeight = kernelHeight
            self.kernelWidth = kernelWidth
            self.inputZeroPoint = inputZeroPoint
            self.taps = taps
            paddedTaps = (taps + 3) / 4 * 4
            blockCount = (outputChannels + tileChannels - 1) / tileChannels
            var packed = [Int16](repeating: 0, count: blockCount * paddedTaps * tileChannels)
            var quads = [Int8](repeating: 0, count: blockCount * paddedTaps * tileChannels)
            var folded = [Int32](repeating: 0, count: blockCount * tileChannels)
            var unsignedFolded = folded
            for oc in 0..<outputChannels {
                let (block, lane) = (oc / tileChannels, oc % tileChannels)
                var sum: Int32 = 0
                for tap in 0..<taps {
                    let w = weights[oc * taps + tap]
                    sum += Int32(w)
                    packed[block * paddedTaps * tileChannels + (tap / 2) * 2 * tileChannels + lane * 2 + tap % 2] = Int16(w)
                    quads[block * paddedTaps * tileChannels + (tap / 4) * 4 * tileChannels + lane * 4 + tap % 4] = w
                }
                folded[oc] = (bias?[oc] ?? 0) &- inputZeroPoint &* sum
                unsignedFolded[oc] = folded[oc] &- 128 &* sum
            }
            values = packed
            bytes = quads
            self.bias = folded
            unsignedInputBias = unsignedFolded
            if Int8KernelPath.isAvailable(.avx512VNNI) {
                let wideBlocks = (outputChannels + 15) / 16
                var wide = [Int8](repeating: 0, count: wideBlocks * paddedTaps * 16)
                for oc in 0..<outputChannels {
                    let (block, lane) = (oc / 16, oc % 16)
                    for tap in 0..<taps {
                        wide[block * paddedTaps * 16 + (tap / 4) * 64 + lane * 4 + tap % 4] = weights[oc * taps + tap]
                    }
                }
                wideBytes = wide
                wideBias = unsignedFolded + [Int32](repeating: 0, count: wideBlocks * 16 - unsignedFolded.count)
            } else {
                wideBytes = []
                wideBias = []
            }
        }
    }

    /// Int16 scratch values `fast` needs per call (per thread when rows are split).
    public static func scratchCount(packed: PackedWeights) -> Int { scratchCount(taps: packed.taps) }

    /// Int16 scratch values `fast` needs for `taps` taps per output (kH·kW·inC), the most any GEMM takes: the
    /// AVX-512 VNNI one's 8 int8 rows gathered by the caller plus 8 unsigned copies, at least 2 KiB (the C im2col
    /// writes up to 64 windows ahead), and 64 bytes of store slack (the AVX2 GEMM takes 4 int8 rows and 4 int16
    /// rows, the Swift tiles 4 rows), rows padded to 4 taps.
    public static func scratchCount(taps: Int) -> Int { max(8 * ((taps + 3) / 4 * 4), 1024) + 32 }

    /// Fast convolution: per group of 4 output pixels the input windows are widened to int16 (im2col of 4 rows,
    /// padding = input zero point), then a 4-pixel × 8-channel register tile of int32 accumulators runs over every
    /// block of 8 output channels. Bit-exact with `reference` for every shape.
    /// - Parameters:
    ///   - rows: the output rows to compute (default all), so threads can split the image.
    ///   - scratch: at least `scratchCount(packed:)` values, not shared with a concurrent call.
    public static func fast(
        input: UnsafeBufferPointer<Int8>, packed: PackedWeights, output: UnsafeMutableBufferPointer<Int8>,
        window: Window2D, requantizer: Requantizer, scratch: UnsafeMutableBufferPointer<Int16>, rows: Range<Int>? = nil
    ) {
        fast(input: input, packed: packed, output: output, window: window, requantizer: requantizer, scratch: scratch,
             rows: rows, tile: .automatic)
    }

    /// Which register tile runs the GEMM.
    enum Tile {
        /// `Int8KernelPath.best`: the AVX-512 VNNI, AVX-VNNI or AVX2 GEMM on x86-64 CPUs that have them, the C
        /// `sdot` tile on CPUs with dot-product instructions, else the Swift SIMD tile.
        case automatic
        /// CParlaQS8's AVX2 GEMM with its epilogue (only where `Int8KernelPath.isAvailable(.avx2)`).
        case avx2
        /// CParlaQS8's AVX-VNNI GEMM (only where `Int8KernelPath.isAvailable(.avxVNNI)`).
        case avxVNNI
        /// CParlaQS8's AVX-512 VNNI GEMM, convolutions with their im2col in C (only where
        /// `Int8KernelPath.isAvailable(.avx512VNNI)`).
        case avx512VNNI
        /// The Swift SIMD tile (int16 products).
        case swiftSIMD
        /// The CParlaDot tile: `sdot` when the CPU has it, else its portable C version (tests force this).
        case cDot
    }

    /// True when the CPU has the Armv8.2 dot-product instructions (checked once).
    static let hasDotProduct = parla_cpu_has_dotprod() != 0

    /// The tile `.automatic` stands for on this CPU (other tiles stand for themselves), checked for availability.
    static func resolve(_ tile: Tile) -> Tile {
        precondition(tile != .avx2 || Int8KernelPath.isAvailable(.avx2), "qconv2d: this CPU has no AVX2")
        precondition(tile != .avxVNNI || Int8KernelPath.isAvailable(.avxVNNI), "qconv2d: this CPU has no AVX-VNNI")
        precondition(tile != .avx512VNNI || Int8KernelPath.isAvailable(.avx512VNNI), "qconv2d: this CPU has no AVX-512 VNNI")
        guard tile == .automatic else { return tile }
        switch Int8KernelPath.best {
        case .avx512VNNI: return .avx512VNNI
        case .avxVNNI: return .avxVNNI
        case .avx2: return .avx2
        case .swiftSIMD: return hasDotProduct ? .cDot : .swiftSIMD
        }
    }

    static func fast(
        input: UnsafeBufferPointer<Int8>, packed: PackedWeights, output: UnsafeMutableBufferPointer<Int8>,
        window: Window2D, requantizer: Requantizer, scratch: UnsafeMutableBufferPointer<Int16>, rows: Range<Int>?,
        tile: Tile
    ) {
        precondition(window.kernelHeight == packed.kernelHeight && window.kernelWidth == packed.kernelWidth,
                     "qconv2d: packed kernel size differs from the window")
        checkSizes(input: input.count, weights: packed.outputChannels * packed.taps, bias: nil, output: output.count,
                   window: window, inputChannels: packed.inputChannels, outputChannels: packed.outputChannels,
                   requantizer: requantizer)
        let rows = rows ?? 0..<window.outputHeight
        precondition(rows.lowerBound >= 0 && rows.upperBound <= window.outputHeight, "qconv2d: rows out of range")
        precondition(scratch.count >= scratchCount(packed: packed), "qconv2d: scratch too small")
        guard let inputBase = input.baseAddress, let outputBase = output.baseAddress, !rows.isEmpty else { return }
        let tile = resolve(tile)
        #if arch(x86_64)
        if tile == .avx512VNNI {
            packed.wideBytes.withUnsafeBufferPointer { weights in packed.wideBias.withUnsafeBufferPointer { bias in
                var conv = parla_qs8_conv(
                    input: inputBase, output: outputBase, weights: weights.baseAddress!, bias: bias.baseAddress!,
                    input_height: window.inputHeight, input_width: window.inputWidth, input_channels: packed.inputChannels,
                    output_width: window.outputWidth, output_channels: packed.outputChannels,
                    kernel_height: window.kernelHeight, kernel_width: window.kernelWidth, stride_y: window.strideY,
                    stride_x: window.strideX, pad_top: window.padTop, pad_left: window.padLeft,
                    input_zero_point: packed.inputZeroPoint)
                requantizer.withCRequantizer { rq in
                    scratch.withMemoryRebound(to: UInt8.self) { bytes in
                        parla_qs8_conv_avx512vnni(&conv, rq, rows.lowerBound, rows.upperBound, bytes.baseAddress!, bytes.count)
                    }
                }
            }}
            return
        }
        #endif
        let pixels = rows.lowerBound * window.outputWidth..<rows.upperBound * window.outputWidth
        let ow = window.outputWidth
        let ci = packed.inputChannels
        let inPlace = window.kernelHeight == 1 && window.kernelWidth == 1 && window.strideX == 1 && window.strideY == 1
            && window.padTop == 0 && window.padLeft == 0 && window.outputWidth == window.inputWidth
            && window.outputHeight == window.inputHeight
        gemm(packed: packed, requantizer: requantizer, pixels: pixels, output: outputBase, scratch: scratch.baseAddress!,
             tile: tile, fill16: { pixel, row in
                 fillWindow(input: inputBase, window: window, ci: packed.inputChannels, zeroPoint: Int16(packed.inputZeroPoint),
                            oy: pixel / ow, ox: pixel % ow, taps: packed.taps, paddedTaps: packed.paddedTaps, into: row)
             }, fill8: { pixel, row in
                 fillWindow(input: inputBase, window: window, ci: packed.inputChannels, zeroPoint: Int8(packed.inputZeroPoint),
                            oy: pixel / ow, ox: pixel % ow, taps: packed.taps, paddedTaps: packed.paddedTaps, into: row)
             }, direct: inPlace ? (UnsafePointer(inputBase), ci) : nil)
    }

    /// Runs the GEMM with the chosen tile: int16 rows for the Swift tile, int8 rows (in the same scratch) for C.
    /// `direct`, when given, says pixel p's `taps` inputs lie in place at `base + p·stride` (1×1 stride-1 unpadded convolutions,
    /// fully connected rows): the AVX2/AVX-VNNI paths then copy nothing.
    @inline(__always)
    static func gemm(packed: PackedWeights, requantizer: Requantizer, pixels: Range<Int>, output: UnsafeMutablePointer<Int8>,
                     scratch: UnsafeMutablePointer<Int16>, tile: Tile, fill16: (Int, UnsafeMutablePointer<Int16>) -> Void,
                     fill8: (Int, UnsafeMutablePointer<Int8>) -> Void,
                     direct: (base: UnsafePointer<Int8>, stride: Int)? = nil) {
        let kp = packed.paddedTaps
        let tile = resolve(tile)
        #if arch(x86_64)
        if tile == .avx512VNNI {
            // 8 int8 rows gathered by `fill8` (unless `direct`), then the GEMM's unsigned copies in the same scratch.
            let pixelsPerTile = 2 * tilePixels, co = packed.outputChannels
            packed.wideBytes.withUnsafeBufferPointer { weights in packed.wideBias.withUnsafeBufferPointer { bias in
            scratch.withMemoryRebound(to: Int8.self, capacity: 16 * kp + 64) { int8Rows in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Int8>?.self, capacity: pixelsPerTile) { rowPointers in
                let rows = rowPointers.baseAddress!
                let unsignedRows = UnsafeMutableRawPointer(int8Rows + pixelsPerTile * kp).assumingMemoryBound(to: UInt8.self)
                requantizer.withCRequantizer { rq in
                    var p = pixels.lowerBound
                    while p < pixels.upperBound {
                        let count = min(pixelsPerTile, pixels.upperBound - p)
                        for i in 0..<count {
                            if let direct {
                                rows[i] = direct.base + (p + i) * direct.stride
                            } else {
                                fill8(p + i, int8Rows + i * kp)
                                rows[i] = UnsafePointer(int8Rows + i * kp)
                            }
                        }
                        parla_qs8_gemm8_avx512vnni(rows, packed.taps, unsignedRows, weights.baseAddress!, bias.baseAddress!,
                                                   rq, output + p * co, co, count)
                        p += count
                    }
                }
            }
            }}}
            return
        }
        let vnni = tile == .avxVNNI
        if vnni || tile == .avx2 {
            // im2col rows as int8 in the first 2·kp int16 of scratch (unless `direct` points into the input),
            // the AVX2 GEMM's int16 copies after them.
            let wide = scratch + tilePixels * kp / 2
            let (co, k, blocks) = (packed.outputChannels, packed.taps, packed.blockCount)
            packed.bytes.withUnsafeBufferPointer { bytes in packed.unsignedInputBias.withUnsafeBufferPointer { unsignedBias in
            packed.values.withUnsafeBufferPointer { values in packed.bias.withUnsafeBufferPointer { bias in
            let (bytes, unsignedBias) = (bytes.baseAddress!, unsignedBias.baseAddress!)
            let (values, bias) = (values.baseAddress!, bias.baseAddress!)
            scratch.withMemoryRebound(to: Int8.self, capacity: tilePixels * kp) { int8Rows in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Int8>?.self, capacity: tilePixels) { rowPointers in
                let rows = rowPointers.baseAddress!
                requantizer.withCRequantizer { rq in
                    var p = pixels.lowerBound
                    while p < pixels.upperBound {
                        let count = min(tilePixels, pixels.upperBound - p)
                        for i in 0..<tilePixels {
                            let pixel = p + min(i, count - 1)
                            if let direct {
                                rows[i] = direct.base + pixel * direct.stride
                            } else {
                                fill8(pixel, int8Rows + i * kp)
                                rows[i] = UnsafePointer(int8Rows + i * kp)
                            }
                        }
                        if vnni {
                            parla_qs8_gemm4_avxvnni(rows, k, bytes, blocks, unsignedBias, rq, output + p * co, co, count)
                        } else {
                            parla_qs8_gemm4_avx2(rows, k, wide, values, blocks, bias, rq, output + p * co, co, count)
                        }
                        p += count
                    }
                }
            }
            }}}}}
            return
        }
        #endif
        if tile == .cDot {
            let dot = hasDotProduct ? parla_qs8_tile4x8c4_dotprod : parla_qs8_tile4x8c4_portable
            packed.bytes.withUnsafeBufferPointer { weightBuffer in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: tilePixels * tileChannels) { accBuffer in
                    let weights = weightBuffer.baseAddress!, acc = accBuffer.baseAddress!
                    let raw = UnsafeRawPointer(acc)
                    scratch.withMemoryRebound(to: Int8.self, capacity: 2 * tilePixels * kp) { rows in
                        run(packed: packed, requantizer: requantizer, pixels: pixels, output: output, scratch: rows,
                            fill: fill8) { rows, block in
                            dot(rows, kp, weights + block * kp * tileChannels, kp / 4, acc)
                            return (raw.loadUnaligned(as: SIMD8<Int32>.self),
                                    raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int32>.self),
                                    raw.loadUnaligned(fromByteOffset: 64, as: SIMD8<Int32>.self),
                                    raw.loadUnaligned(fromByteOffset: 96, as: SIMD8<Int32>.self))
                        }
                    }
                }
            }
        } else {
            packed.values.withUnsafeBufferPointer { weightBuffer in
                let weights = weightBuffer.baseAddress!
                run(packed: packed, requantizer: requantizer, pixels: pixels, output: output, scratch: scratch, fill: fill16) {
                    rows, block in tile4x8(rows: rows, pairs: kp / 2, weights: weights + block * kp * tileChannels)
                }
            }
        }
    }

    /// Writes one output pixel's input window, widened to int16, as `paddedTaps` values in OHWI tap order.
    @inline(__always)
    static func fillWindow<T: FixedWidthInteger>(input: UnsafePointer<Int8>, window: Window2D, ci: Int, zeroPoint: T,
                                                 oy: Int, ox: Int, taps: Int, paddedTaps: Int, into row: UnsafeMutablePointer<T>) {
        let iy0 = oy * window.strideY - window.padTop, ix0 = ox * window.strideX - window.padLeft
        let (kh, kw, w) = (window.kernelHeight, window.kernelWidth, window.inputWidth)
        var d = row
        for ky in 0..<kh {
            let iy = iy0 + ky
            if iy < 0 || iy >= window.inputHeight {
                d.update(repeating: zeroPoint, count: kw * ci); d += kw * ci; continue
            }
            let columns = window.kernelColumns(forOutputColumn: ox)
            if columns.count == kw {
                let s = input + (iy * w + ix0) * ci
                for i in 0..<kw * ci { d[i] = T(truncatingIfNeeded: s[i]) }
                d += kw * ci
            } else {
                for kx in 0..<kw {
                    if columns.contains(kx) {
                        let s = input + (iy * w + ix0 + kx) * ci
                        for i in 0..<ci { d[i] = T(truncatingIfNeeded: s[i]) }
                    } else {
                        d.update(repeating: zeroPoint, count: ci)
                    }
                    d += ci
                }
            }
        }
        for t in taps..<paddedTaps { row[t] = 0 }
    }

    /// The GEMM driver shared by conv and fully connected: `fill(pixel, row)` writes pixel `pixel`'s
    /// `paddedTaps` inputs into `row`; `tile(rows, block)` computes one block's 4×8 sums; groups of 4 pixels (the last group repeats its last pixel) run the
    /// register tile over every output channel block and store `outputChannels` int8 values per pixel.
    @inline(__always)
    static func run<R>(packed: PackedWeights, requantizer: Requantizer, pixels: Range<Int>,
                       output: UnsafeMutablePointer<Int8>, scratch: UnsafeMutablePointer<R>,
                       fill: (Int, UnsafeMutablePointer<R>) -> Void,
                       tile: (UnsafePointer<R>, Int) -> (SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>)) {
        let kp = packed.paddedTaps, co = packed.outputChannels
        do {
            packed.bias.withUnsafeBufferPointer { biasBuffer in
                requantizer.withTables { pm, ps, nm, ns in
                    let bias = biasBuffer.baseAddress!
                    var p = pixels.lowerBound
                    while p < pixels.upperBound {
                        let count = min(tilePixels, pixels.upperBound - p)
                        for i in 0..<tilePixels { fill(p + min(i, count - 1), scratch + i * kp) }
                        for block in 0..<packed.blockCount {
                            let a = tile(scratch, block)
                            let b = UnsafeRawPointer(bias + block * tileChannels).loadUnaligned(as: SIMD8<Int32>.self)
                            let c0 = block * tileChannels, lanes = min(tileChannels, co - c0)
                            for i in 0..<count {
                                let v = (i == 0 ? a.0 : i == 1 ? a.1 : i == 2 ? a.2 : a.3) &+ b
                                let out = output + (p + i) * co + c0
                                let lo = requantizer.apply(v.lowHalf, channel: c0, pm: pm, ps: ps, nm: nm, ns: ns)
                                let hi = requantizer.apply(v.highHalf, channel: c0 + 4, pm: pm, ps: ps, nm: nm, ns: ns)
                                if lanes == tileChannels {
                                    let n = narrow(SIMD8(lowHalf: lo, highHalf: hi))
                                    UnsafeMutableRawPointer(out).storeBytes(of: n, as: SIMD8<Int8>.self)
                                } else {
                                    storeInt8(lo, to: out, lanes: min(4, lanes))
                                    if lanes > 4 { storeInt8(hi, to: out + 4, lanes: lanes - 4) }
                                }
                            }
                        }
                        p += count
                    }
                }
            }
        }
    }

    /// The register tile: 4 pixels × 8 output channels of int32 sums over `pairs` tap pairs (`pairs` even).
    /// `rows` holds 4 rows of `2·pairs` int16 inputs; `weights` is one packed block. Each step multiplies 8 int16
    /// lanes (8 channels × 2 taps) per pixel, adds two steps' products in int16 (|w·x| ≤ 127·128, so two fit),
    /// then sign-extends the two int16 halves of each int32 lane and adds both into the int32 accumulators.
    @inline(__always)
    static func tile4x8(rows: UnsafePointer<Int16>, pairs: Int, weights: UnsafePointer<Int16>) -> (SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>) {
        var a0 = SIMD8<Int32>(), a1 = SIMD8<Int32>(), a2 = SIMD8<Int32>(), a3 = SIMD8<Int32>()
        let stride = 2 * pairs
        let r0 = UnsafeRawPointer(rows), r1 = UnsafeRawPointer(rows + stride)
        let r2 = UnsafeRawPointer(rows + 2 * stride), r3 = UnsafeRawPointer(rows + 3 * stride)
        var w = UnsafeRawPointer(weights)
        var o = 0
        for _ in 0..<pairs / 2 {
            let w0 = w.loadUnaligned(as: SIMD16<Int16>.self)
            let w1 = w.loadUnaligned(fromByteOffset: 32, as: SIMD16<Int16>.self)
            a0 &+= quadDot(w0, w1, r0.loadUnaligned(fromByteOffset: o, as: SIMD2<Int32>.self))
            a1 &+= quadDot(w0, w1, r1.loadUnaligned(fromByteOffset: o, as: SIMD2<Int32>.self))
            a2 &+= quadDot(w0, w1, r2.loadUnaligned(fromByteOffset: o, as: SIMD2<Int32>.self))
            a3 &+= quadDot(w0, w1, r3.loadUnaligned(fromByteOffset: o, as: SIMD2<Int32>.self))
            w += 64
            o += 8
        }
        return (a0, a1, a2, a3)
    }

    /// 8 sums over 4 taps: `Σ_j w[j][2c]·x[2j] + w[j][2c+1]·x[2j+1]` for the int16 inputs packed in `x`.
    @inline(__always)
    static func quadDot(_ w0: SIMD16<Int16>, _ w1: SIMD16<Int16>, _ x: SIMD2<Int32>) -> SIMD8<Int32> {
        let x0 = unsafeBitCast(SIMD8<Int32>(repeating: x[0]), to: SIMD16<Int16>.self)
        let x1 = unsafeBitCast(SIMD8<Int32>(repeating: x[1]), to: SIMD16<Int16>.self)
        let p = unsafeBitCast(w0 &* x0 &+ w1 &* x1, to: SIMD8<Int32>.self)
        return ((p &<< 16) &>> 16) &+ (p &>> 16)
    }
}

extension QuantizedFullyConnected {
    /// Packs `[outputCount, inputCount]` weights for `fast` (a 1×1 convolution's packing).
    public static func pack(weights: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>?, inputCount: Int,
                            outputCount: Int, inputZeroPoint: Int32) -> QuantizedConv2D.PackedWeights {
        QuantizedConv2D.PackedWeights(weights: weights, bias: bias, outputChannels: outputCount, kernelHeight: 1,
                                      kernelWidth: 1, inputChannels: inputCount, inputZeroPoint: inputZeroPoint)
    }

    /// Int16 scratch values `fast` needs.
    public static func scratchCount(packed: QuantizedConv2D.PackedWeights) -> Int {
        QuantizedConv2D.scratchCount(packed: packed)
    }

    /// Fast fully connected layer on the conv GEMM tile; bit-exact with `reference`.
    public static func fast(input: UnsafeBufferPointer<Int8>, packed: QuantizedConv2D.PackedWeights,
                            output: UnsafeMutableBufferPointer<Int8>, batch: Int, requantizer: Requantizer,
                            scratch: UnsafeMutableBufferPointer<Int16>) {
        fast(input: input, packed: packed, output: output, batch: batch, requantizer: requantizer, scratch: scratch,
             tile: .automatic)
    }

    static func fast(input: UnsafeBufferPointer<Int8>, packed: QuantizedConv2D.PackedWeights,
                     output: UnsafeMutableBufferPointer<Int8>, batch: Int, requantizer: Requantizer,
                     scratch: UnsafeMutableBufferPointer<Int16>, tile: QuantizedConv2D.Tile) {
        precondition(packed.kernelHeight == 1 && packed.kernelWidth == 1, "qfc: weights not packed for fully connected")
        let (n, m) = (packed.inputChannels, packed.outputChannels)
        checkSizes(input: input.count, weights: n * m, bias: nil, output: output.count, batch: batch,
                   inputCount: n, outputCount: m, requantizer: requantizer)
        precondition(scratch.count >= scratchCount(packed: packed), "qfc: scratch too small")
        guard let inputBase = input.baseAddress, let outputBase = output.baseAddress else { return }
        QuantizedConv2D.gemm(packed: packed, requantizer: requantizer, pixels: 0..<batch, output: outputBase,
                             scratch: scratch.baseAddress!, tile: tile, fill16: { b, row in
            let s = inputBase + b * n
            for i in 0..<n { row[i] = Int16(s[i]) }
            for t in n..<packed.paddedTaps { row[t] = 0 }
        }, fill8: { b, row in
            (row).update(from: inputBase + b * n, count: n)
            for t in n..<packed.paddedTaps { row[t] = 0 }
        }, direct: (UnsafePointer(inputBase), n))
    }
}
