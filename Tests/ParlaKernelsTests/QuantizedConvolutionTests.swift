@testable import ParlaKernels
import ParlaTestSupport
import XCTest

final class QuantizedConvolutionTests: XCTestCase {
    private let paddings: [PaddingMode] = [.same, .valid, .explicit(top: 1, bottom: 0, left: 2, right: 1)]

    /// The x86-64 GEMMs this CPU runs (AVX2, AVX-VNNI, AVX-512 VNNI), each forced in the tests below.
    private var x86Tiles: [QuantizedConv2D.Tile] {
        [(Int8KernelPath.avx2, QuantizedConv2D.Tile.avx2), (.avxVNNI, .avxVNNI), (.avx512VNNI, .avx512VNNI)]
            .filter { Int8KernelPath.isAvailable($0.0) }.map { $0.1 }
    }

    /// The CPUID checks agree with the kernel's view of the CPU (/proc/cpuinfo flags, Linux x86-64), so the tests
    /// below run every path this machine has.
    func testKernelPathsMatchCPUInfoFlags() throws {
        #if arch(x86_64) && os(Linux)
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = try XCTUnwrap(info.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(line.split(separator: " ").map(String.init))
        XCTAssertEqual(Int8KernelPath.isAvailable(.avx2), flags.contains("avx2"))
        XCTAssertEqual(Int8KernelPath.isAvailable(.avxVNNI), flags.contains("avx2") && flags.contains("avx_vnni"))
        XCTAssertEqual(Int8KernelPath.isAvailable(.avx512VNNI),
                       ["avx2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni"].allSatisfy(flags.contains))
        #else
        throw XCTSkip("reads /proc/cpuinfo of Linux x86-64")
        #endif
    }

    func testConvFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x18_C0)
        var cases = 0
        for (h, w) in oddSizes {
            for kernel in [(1, 1), (3, 3), (5, 5), (3, 2)] {
                for stride in [1, 2] {
                    for padding in paddings {
                        guard let window = Window2D(inputHeight: h, inputWidth: w, kernelHeight: kernel.0,
                                                    kernelWidth: kernel.1, strideY: stride, strideX: stride,
                                                    padding: padding) else { continue }
                        checkConv(window: window, ci: oddChannels.randomElement(using: &rng)!,
                                  co: oddChannels.randomElement(using: &rng)!, rng: &rng)
                        cases += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(cases, 90)
    }

    /// The models' layer shapes, plus a split into row ranges as threads would run them.
    func testConvFastOnModelShapesAndRowSplits() {
        var rng = SeededGenerator(seed: 77)
        let shapes: [(h: Int, k: Int, s: Int, ci: Int, co: Int, padding: PaddingMode)] = [
            (31, 3, 2, 3, 16, .same), (12, 1, 1, 64, 128, .valid), (3, 3, 3, 32, 37, .valid), (13, 1, 1, 16, 32, .valid),
            // 3-channel stems (the AVX-512 im2col's 16-byte segment copies, the input's last rows): 5×5/2 3→24 like
            // the detector's, 3×3/2 like the mesh's and segmenter's, stride 1 and VALID.
            (33, 5, 2, 3, 24, .same), (20, 3, 2, 3, 16, .valid), (17, 5, 1, 3, 8, .same), (10, 3, 1, 3, 16, .valid),
            // Last blocks of at most 8 channels (the AVX-512 GEMM's ymm half block) after 0, 1 and 2 full blocks, with
            // 1-pixel (13², 11², 9²) and 4-pixel (10², 6²) tails: 24→24 and 24→88 like the detector's, 8, 36, 56, 72.
            (13, 1, 1, 24, 24, .valid), (11, 1, 1, 24, 88, .valid), (9, 1, 1, 16, 8, .valid), (10, 3, 1, 5, 36, .same),
            (6, 1, 1, 40, 56, .valid), (10, 1, 1, 64, 72, .valid), (13, 5, 2, 3, 24, .same),
        ]
        for shape in shapes {
            let window = Window2D(inputHeight: shape.h, inputWidth: shape.h, kernelHeight: shape.k, kernelWidth: shape.k,
                                  strideY: shape.s, strideX: shape.s, padding: shape.padding)!
            checkConv(window: window, ci: shape.ci, co: shape.co, rng: &rng, threads: 3)
        }
    }

    /// Requantizers outside what QuantizeMultiplier gives for scales below 1 (so the C kernels' full epilogue runs,
    /// not the `simple` one): multipliers up to Int32.min, left shifts up to 30 (wrapping), right shifts to 31, PReLU,
    /// clamps. Shapes with 1...40 output channels, 1×1 in place and K×K with padding, pixel counts not multiples of 8.
    func testConvFastWithExtremeRequantizers() {
        var rng = SeededGenerator(seed: 0xE87)
        let specials: [Int32] = [.min, .max, 1 << 30, -(1 << 30), 1, -1, 0, 1_717_986_918, -1_717_986_918]
        for (index, shape) in [(7, 1, 1, 5, 17), (9, 3, 2, 3, 40), (6, 1, 1, 32, 33), (5, 5, 2, 3, 16), (11, 3, 1, 7, 1)].enumerated() {
            let (h, k, s, ci, co) = shape
            let window = Window2D(inputHeight: h, inputWidth: h + 2, kernelHeight: k, kernelWidth: k, strideY: s, strideX: s,
                                  padding: index % 2 == 0 ? .same : .valid)!
            func multiplier(_ rng: inout SeededGenerator) -> QuantizedMultiplier {
                let m = Bool.random(using: &rng) ? specials.randomElement(using: &rng)! : Int32.random(in: .min ... .max, using: &rng)
                let shift = Bool.random(using: &rng) ? Int32.random(in: -31...30, using: &rng) : Int32.random(in: -12...3, using: &rng)
                return QuantizedMultiplier(multiplier: m, shift: shift)
            }
            let positive = (0..<co).map { _ in multiplier(&rng) }
            let negative = index == 1 ? nil : (0..<co).map { _ in multiplier(&rng) }
            let range: ClosedRange<Int32> = [-128...127, -5...127, -128...90, -100...100][index % 4]
            let requantizer = Requantizer(positive: positive, negative: negative, outputZeroPoint: Int32.random(in: -128...127, using: &rng),
                                          activationRange: range)
            XCTAssertFalse(requantizer.isSimple)
            checkConv(window: window, ci: ci, co: co, rng: &rng, requantizer: requantizer)
        }
    }

    /// The epilogue on chosen accumulators: a 1×1 convolution of one input channel with weights 1 and input zero
    /// point 0 gives `bias[c] + x`, so biases of 2^(31 − left) (or Int32.min with a right shift) with inputs near 0
    /// hit `x << left = Int32.min` against Int32.min multipliers (the saturating SRDHM), wrapping shifts, ties of the
    /// rounding divide and values at the int8 limits, in every GEMM, for 63, 4 and 1 pixels (full, 4-pixel and 1-pixel tiles) and 40 channels (a
    /// partial block).
    func testConvEpilogueOnExtremeAccumulators() {
        var rng = SeededGenerator(seed: 0x5A7)
        let co = 40
        for (h, w) in [(7, 9), (2, 2), (1, 1)] {
            for round in 0..<4 {
                let window = Window2D(inputHeight: h, inputWidth: w, kernelHeight: 1, kernelWidth: 1, strideY: 1, strideX: 1,
                                      padding: .valid)!
                let input = (0..<h * w).map { _ in Int8.random(in: -2...2, using: &rng) }
                let weights = [Int8](repeating: 1, count: co)
                var positive: [QuantizedMultiplier] = [], negative: [QuantizedMultiplier] = [], bias: [Int32] = []
                for c in 0..<co {
                    if c % 8 == 7 {  // Int32.min² with a right shift after it: Int32.max >> r, not Int32.min >> r
                        positive.append(QuantizedMultiplier(multiplier: .min, shift: -Int32(c % 20 + 1)))
                        negative.append(positive[c])
                        bias.append(.min)
                        continue
                    }
                    let left = Int32((c * 7 + round) % 31)
                    let m: Int32 = c % 3 == 0 ? .min : Int32.random(in: .min ... .max, using: &rng)
                    positive.append(QuantizedMultiplier(multiplier: m, shift: c % 4 == 1 ? -left : left))
                    negative.append(QuantizedMultiplier(multiplier: c % 2 == 0 ? .min : m / 3, shift: c % 5 == 0 ? left : -left))
                    let power = left == 0 ? Int32.min : Int32(1) << (31 - left)
                    bias.append(c % 6 == 5 ? Int32.random(in: .min ... .max, using: &rng) : c % 2 == 0 ? power : power &* -1)
                }
                let ranges: [ClosedRange<Int32>] = [-128...127, -128...127, 0...127, -60...40]
                let requantizer = Requantizer(positive: positive, negative: round % 2 == 0 ? negative : nil,
                                              outputZeroPoint: round == 1 ? 0 : Int32.random(in: -30...30, using: &rng),
                                              activationRange: ranges[round])
                XCTAssertFalse(requantizer.isSimple)
                checkConvExact(window: window, input: input, inZp: 0, weights: weights, bias: bias, ci: 1, co: co,
                               requantizer: requantizer, label: "extreme accumulators \(h)×\(w) round \(round)")
            }
        }
    }

    /// The `simple` epilogue without PReLU (the AVX-512 GEMM's 64-bit form) on chosen accumulators: as above,
    /// acc = bias[c] + x with x in -2...2. Multipliers 2^30 (SRDHM(v, 2^30) = ⌊(v + 1)/2⌋) with biases that put h on
    /// rounding ties of both signs, and random multipliers with random biases; right shifts 0...31 (above 23 the
    /// zero point is not folded into the 64-bit constant), zero points across int8, full and narrow clamps. 40
    /// channels: two zmm blocks and a ymm half block, constants built once per call; 150 channels: more blocks than
    /// the per-call constants hold (built per tile).
    func testConvSimpleEpilogueOnTiesAndLargeShifts() {
        var rng = SeededGenerator(seed: 0x51E)
        for co in [40, 150] {
            for (h, w) in [(7, 9), (2, 2), (1, 1)] {
                for round in 0..<4 {
                    let window = Window2D(inputHeight: h, inputWidth: w, kernelHeight: 1, kernelWidth: 1, strideY: 1, strideX: 1,
                                          padding: .valid)!
                    let input = (0..<h * w).map { _ in Int8.random(in: -2...2, using: &rng) }
                    let weights = [Int8](repeating: 1, count: co)
                    var positive: [QuantizedMultiplier] = [], bias: [Int32] = []
                    for c in 0..<co {
                        let right = Int32((c * 5 + round * 3) % 32)
                        if c % 2 == 0 {
                            positive.append(QuantizedMultiplier(multiplier: 1 << 30, shift: -right))
                            // h = ±(k·2^r + 2^(r−1)), a tie of the rounding divide; v = 2h gives SRDHM = h.
                            let k = Int64.random(in: 0...(Int64(1) << max(0, 28 - Int(right))), using: &rng)
                            let tie: Int64 = right == 0 ? k : k << Int64(right) + (Int64(1) << Int64(right - 1))
                            let sign: Int64 = c % 4 == 0 ? -1 : 1
                            bias.append(Int32(clamping: 2 * sign * tie))
                        } else {
                            let m = Int32.random(in: (1 << 30)...Int32.max, using: &rng)
                            positive.append(QuantizedMultiplier(multiplier: c % 7 == 3 ? -m : m, shift: -right))
                            bias.append(c % 5 == 1 ? Int32.random(in: -3...3, using: &rng) : Int32.random(in: .min ... .max, using: &rng))
                        }
                    }
                    let ranges: [ClosedRange<Int32>] = [-128...127, -128...127, 0...127, -60...40]
                    let zeroPoint: Int32 = [-128, 127, 0, Int32.random(in: -128...127, using: &rng)][round]
                    let requantizer = Requantizer(positive: positive, outputZeroPoint: zeroPoint, activationRange: ranges[round])
                    XCTAssertTrue(requantizer.isSimple)
                    checkConvExact(window: window, input: input, inZp: 0, weights: weights, bias: bias, ci: 1, co: co,
                                   requantizer: requantizer, label: "simple epilogue \(h)×\(w)→\(co) round \(round)")
                }
            }
        }
    }

    /// Every GEMM against the reference on the given tensors.
    private func checkConvExact(window: Window2D, input: [Int8], inZp: Int32, weights: [Int8], bias: [Int32], ci: Int, co: Int,
                                requantizer: Requantizer, label: String) {
        let count = window.outputHeight * window.outputWidth * co
        input.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { wt in
                bias.withUnsafeBufferPointer { b in
                    let reference = int8Output(count) {
                        QuantizedConv2D.reference(input: x, inputZeroPoint: inZp, weights: wt, bias: b, output: $0,
                                                  window: window, inputChannels: ci, outputChannels: co, requantizer: requantizer)
                    }
                    let packed = QuantizedConv2D.PackedWeights(weights: wt, bias: b, outputChannels: co,
                                                               kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth,
                                                               inputChannels: ci, inputZeroPoint: inZp)
                    var scratch = [Int16](repeating: 0x7777, count: QuantizedConv2D.scratchCount(packed: packed))
                    for tile in [QuantizedConv2D.Tile.swiftSIMD, .cDot] + x86Tiles {
                        let fast = int8Output(count) { out in
                            scratch.withUnsafeMutableBufferPointer { s in
                                QuantizedConv2D.fast(input: x, packed: packed, output: out, window: window, requantizer: requantizer,
                                                     scratch: s, rows: nil, tile: tile)
                            }
                        }
                        assertBitExact(fast, reference, count: count, label + " (\(tile))")
                    }
                }
            }
        }
    }

    private func checkConv(window: Window2D, ci: Int, co: Int, rng: inout SeededGenerator, threads: Int = 1,
                           requantizer fixedRequantizer: Requantizer? = nil) {
        let inZp = Int32.random(in: -128...127, using: &rng)
        let input = randomInt8(window.inputHeight * window.inputWidth * ci, &rng)
        let weights = randomInt8(co * window.kernelHeight * window.kernelWidth * ci, &rng, range: -127...127)
        let bias = (0..<co).map { _ in Int32.random(in: -5000...5000, using: &rng) }
        let useBias = Bool.random(using: &rng)
        let taps = Double(window.kernelHeight * window.kernelWidth * ci)
        let requantizer = fixedRequantizer ?? randomRequantizer(channels: co, typicalAccumulator: 70 * 73 * taps.squareRoot(),
                                                                prelu: Bool.random(using: &rng),
                                                                activation: FusedActivation.allCases.randomElement(using: &rng)!,
                                                                rng: &rng)
        let count = window.outputHeight * window.outputWidth * co
        let label = "conv \(window.inputHeight)×\(window.inputWidth)×\(ci)→\(co) k\(window.kernelHeight)×\(window.kernelWidth) s\(window.strideY) pads \(window.padTop),\(window.padLeft),\(window.padBottom),\(window.padRight) zp \(inZp)"
        input.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { wt in
                bias.withUnsafeBufferPointer { b in
                    let b = useBias ? b : nil
                    let reference = int8Output(count) {
                        QuantizedConv2D.reference(input: x, inputZeroPoint: inZp, weights: wt, bias: b, output: $0,
                                                  window: window, inputChannels: ci, outputChannels: co, requantizer: requantizer)
                    }
                    let packed = QuantizedConv2D.PackedWeights(weights: wt, bias: b, outputChannels: co,
                                                               kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth,
                                                               inputChannels: ci, inputZeroPoint: inZp)
                    var scratch = [Int16](repeating: 0x7777, count: QuantizedConv2D.scratchCount(packed: packed) * threads)
                    let per = QuantizedConv2D.scratchCount(packed: packed)
                    let fast = int8Output(count) { out in
                        scratch.withUnsafeMutableBufferPointer { s in
                            ParallelFor.run(window.outputHeight, threads: threads) { k, rows in
                                QuantizedConv2D.fast(input: x, packed: packed, output: out, window: window, requantizer: requantizer,
                                                     scratch: UnsafeMutableBufferPointer(rebasing: s[k * per..<(k + 1) * per]),
                                                     rows: rows)
                            }
                        }
                    }
                    assertBitExact(fast, reference, count: count, label + " (\(Int8KernelPath.best))")
                    // Every GEMM this CPU runs, forced: the Swift SIMD tile, and the AVX2 / AVX-VNNI / AVX-512 VNNI GEMMs
                    // where the CPU has them.
                    for tile in [QuantizedConv2D.Tile.swiftSIMD] + x86Tiles {
                        let forced = int8Output(count) { out in
                            scratch.withUnsafeMutableBufferPointer { s in
                                QuantizedConv2D.fast(input: x, packed: packed, output: out, window: window, requantizer: requantizer,
                                                     scratch: UnsafeMutableBufferPointer(rebasing: s[0..<per]), rows: nil, tile: tile)
                            }
                        }
                        assertBitExact(forced, reference, count: count, label + " (\(tile))")
                    }
                    // The CParlaDot tile (sdot on dotprod CPUs, its portable C version elsewhere).
                    let dot = int8Output(count) { out in
                        scratch.withUnsafeMutableBufferPointer { s in
                            QuantizedConv2D.fast(input: x, packed: packed, output: out, window: window, requantizer: requantizer,
                                                 scratch: UnsafeMutableBufferPointer(rebasing: s[0..<per]), rows: nil, tile: .cDot)
                        }
                    }
                    assertBitExact(dot, reference, count: count, label + " (C dot tile, sdot \(QuantizedConv2D.hasDotProduct))")
                    if fixedRequantizer == nil {  // the extreme ones wrap and saturate on purpose
                        checkAgainstReal(reference, input: x, inZp: inZp, weights: wt, bias: b, window: window, ci: ci, co: co,
                                         requantizer: requantizer, label: label)
                    }
                }
            }
        }
    }

    /// The reference itself against an independent Double computation: each output within 1 step of
    /// `clamp(outZp + round(acc · realScale))`.
    private func checkAgainstReal(_ output: [Int8], input: UnsafeBufferPointer<Int8>, inZp: Int32,
                                  weights: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>?, window: Window2D,
                                  ci: Int, co: Int, requantizer: Requantizer, label: String) {
        let (kh, kw) = (window.kernelHeight, window.kernelWidth)
        for oy in 0..<window.outputHeight {
            for ox in 0..<window.outputWidth {
                for oc in 0..<co {
                    var acc = Double(bias?[oc] ?? 0)
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let iy = oy * window.strideY + ky - window.padTop, ix = ox * window.strideX + kx - window.padLeft
                            for ic in 0..<ci {
                                let x = (0..<window.inputHeight).contains(iy) && (0..<window.inputWidth).contains(ix)
                                    ? Double(input[(iy * window.inputWidth + ix) * ci + ic]) : Double(inZp)
                                acc += (x - Double(inZp)) * Double(weights[((oc * kh + ky) * kw + kx) * ci + ic])
                            }
                        }
                    }
                    let scale = acc >= 0 ? requantizer.positive[oc].realValue : requantizer.negative[oc].realValue
                    let real = min(max(Double(requantizer.outputZeroPoint) + acc * scale, Double(requantizer.activationMin)),
                                   Double(requantizer.activationMax))
                    let got = Double(output[(oy * window.outputWidth + ox) * co + oc])
                    if abs(got - real) > 1.0 {
                        XCTFail("\(label): reference \(got) vs real \(real) at \(oy),\(ox),\(oc)")
                        return
                    }
                }
            }
        }
    }

    func testDepthwiseFastMatchesReference() {
        var rng = SeededGenerator(seed: 0xD3)
        var cases = 0
        for (h, w) in oddSizes {
            for kernel in [3, 5] {
                for stride in [1, 2] {
                    for padding in paddings {
                        guard let window = Window2D(inputHeight: h, inputWidth: w, kernelHeight: kernel, kernelWidth: kernel,
                                                    strideY: stride, strideX: stride, padding: padding) else { continue }
                        for channels in [oddChannels.randomElement(using: &rng)!, 37] {
                            checkDepthwise(window: window, channels: channels, rng: &rng)
                            cases += 1
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(cases, 50)
        let window = Window2D(inputHeight: 24, inputWidth: 24, kernelHeight: 3, kernelWidth: 3, strideY: 1, strideX: 1,
                              padding: .same)!
        checkDepthwise(window: window, channels: 64, rng: &rng, threads: 2)
    }

    /// The AVX-512 VNNI row kernel's shapes (3×3 and 5×5 stride 1, 5×5 stride 2): output rows are runs of 64-byte
    /// chunks starting at channel (64·i) mod C, so channel counts with 1...16 phases (odd ones included), rows split
    /// between threads (its ring of window rows starts mid-image), each padding; stride 2 splits the rows into even
    /// and odd pixels with vpermt2q for 8, 16, 32, 64 channels and pixel by pixel otherwise.
    func testDepthwiseRowKernelShapes() {
        var rng = SeededGenerator(seed: 0xD5)
        for (kernel, stride) in [(3, 1), (5, 1), (5, 2)] {
            for channels in [1, 3, 5, 7, 8, 11, 12, 13, 15, 16, 20, 24, 28, 32, 36, 40, 48, 64, 80, 96, 128] {
                let (h, w) = (Int.random(in: 1...9, using: &rng), Int.random(in: 1...13, using: &rng))
                for padding in paddings {
                    guard let window = Window2D(inputHeight: h + kernel - 1, inputWidth: w + kernel - 1, kernelHeight: kernel,
                                                kernelWidth: kernel, strideY: stride, strideX: stride, padding: padding)
                    else { continue }
                    checkDepthwise(window: window, channels: channels, rng: &rng, threads: 1 + channels % 3)
                }
            }
        }
    }

    /// Requantizers with arbitrary fixed-point multipliers (any sign, shifts -31...30, Int32.min, so not `isSimple`):
    /// the depthwise kernels' general epilogue (the AVX2 one on its permuted table) equals the reference.
    func testDepthwiseWithArbitraryMultipliers() {
        var rng = SeededGenerator(seed: 0xD4)
        for (kernel, stride, channels) in [(3, 1, 37), (3, 2, 16), (5, 1, 21)] {
            func random() -> QuantizedMultiplier {
                QuantizedMultiplier(multiplier: Int.random(in: 0..<8, using: &rng) == 0 ? .min : Int32.random(in: .min ... .max, using: &rng),
                                    shift: Int32.random(in: -31...30, using: &rng))
            }
            let positive = (0..<channels).map { _ in random() }, negative = (0..<channels).map { _ in random() }
            let requantizer = Requantizer(positive: positive, negative: negative, outputZeroPoint: Int32.random(in: -128...127, using: &rng))
            let window = Window2D(inputHeight: 11, inputWidth: 13, kernelHeight: kernel, kernelWidth: kernel, strideY: stride,
                                  strideX: stride, padding: .same)!
            checkDepthwise(window: window, channels: channels, rng: &rng, requantizer: requantizer)
        }
    }

    private func checkDepthwise(window: Window2D, channels c: Int, rng: inout SeededGenerator, threads: Int = 1,
                                requantizer fixed: Requantizer? = nil) {
        let inZp = Int32.random(in: -128...127, using: &rng)
        let input = randomInt8(window.inputHeight * window.inputWidth * c, &rng)
        let weights = randomInt8(window.kernelHeight * window.kernelWidth * c, &rng, range: -127...127)
        let bias = (0..<c).map { _ in Int32.random(in: -5000...5000, using: &rng) }
        let useBias = Bool.random(using: &rng)
        let requantizer = fixed ?? randomRequantizer(channels: c, typicalAccumulator: 70 * 73 * Double(window.kernelHeight),
                                                     prelu: Bool.random(using: &rng),
                                                     activation: FusedActivation.allCases.randomElement(using: &rng)!, rng: &rng)
        let count = window.outputHeight * window.outputWidth * c
        let label = "depthwise \(window.inputHeight)×\(window.inputWidth)×\(c) k\(window.kernelHeight) s\(window.strideY) pads \(window.padTop),\(window.padLeft) zp \(inZp)"
        input.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { wt in
                bias.withUnsafeBufferPointer { b in
                    let b = useBias ? b : nil
                    let reference = int8Output(count) {
                        QuantizedDepthwiseConv2D.reference(input: x, inputZeroPoint: inZp, weights: wt, bias: b, output: $0,
                                                           window: window, channels: c, requantizer: requantizer)
                    }
                    let packed = QuantizedDepthwiseConv2D.PackedWeights(weights: wt, bias: b, channels: c,
                                                                        kernelHeight: window.kernelHeight,
                                                                        kernelWidth: window.kernelWidth)
                    for path in Int8KernelPath.available {
                        let fast = int8Output(count) { out in
                            ParallelFor.run(window.outputHeight, threads: threads) { _, rows in
                                QuantizedDepthwiseConv2D.fast(input: x, inputZeroPoint: inZp, packed: packed, output: out,
                                                              window: window, requantizer: requantizer, rows: rows, path: path)
                            }
                        }
                        assertBitExact(fast, reference, count: count, label + " (\(path))")
                    }
                }
            }
        }
    }

    func testFullyConnectedFastMatchesReference() {
        var rng = SeededGenerator(seed: 0xFC)
        for (batch, n, m) in [(1, 1, 1), (1, 37, 13), (3, 128, 16), (2, 1152, 39), (5, 7, 8), (1, 64, 1404), (9, 70, 33), (17, 3, 48)] {
            let inZp = Int32.random(in: -128...127, using: &rng)
            let input = randomInt8(batch * n, &rng)
            let weights = randomInt8(n * m, &rng, range: -127...127)
            let bias = (0..<m).map { _ in Int32.random(in: -5000...5000, using: &rng) }
            let requantizer = randomRequantizer(channels: m, typicalAccumulator: 70 * 73 * Double(n).squareRoot(),
                                                prelu: false, activation: .none, rng: &rng)
            input.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { wt in
                    bias.withUnsafeBufferPointer { b in
                        let reference = int8Output(batch * m) {
                            QuantizedFullyConnected.reference(input: x, inputZeroPoint: inZp, weights: wt, bias: b, output: $0,
                                                              batch: batch, inputCount: n, outputCount: m, requantizer: requantizer)
                        }
                        let packed = QuantizedFullyConnected.pack(weights: wt, bias: b, inputCount: n, outputCount: m,
                                                                  inputZeroPoint: inZp)
                        var scratch = [Int16](repeating: 0, count: QuantizedFullyConnected.scratchCount(packed: packed))
                        let fast = int8Output(batch * m) { out in
                            scratch.withUnsafeMutableBufferPointer {
                                QuantizedFullyConnected.fast(input: x, packed: packed, output: out, batch: batch,
                                                             requantizer: requantizer, scratch: $0)
                            }
                        }
                        assertBitExact(fast, reference, count: batch * m, "fc \(batch)×\(n)→\(m) (\(Int8KernelPath.best))")
                        for tile in [QuantizedConv2D.Tile.swiftSIMD, .cDot] + x86Tiles {
                            let forced = int8Output(batch * m) { out in
                                scratch.withUnsafeMutableBufferPointer {
                                    QuantizedFullyConnected.fast(input: x, packed: packed, output: out, batch: batch,
                                                                 requantizer: requantizer, scratch: $0, tile: tile)
                                }
                            }
                            assertBitExact(forced, reference, count: batch * m, "fc \(batch)×\(n)→\(m) (\(tile))")
                        }
                    }
                }
            }
        }
    }

    /// The dilated 1-D convolution (VisemeNet's layer) on odd shapes: every GEMM this CPU runs against the reference,
    /// the reference against Double. Dilation 1 or one tap takes the in-place path, other dilations the gathered rows.
    func testConv1DFastMatchesReference() {
        var rng = SeededGenerator(seed: 0xC1D)
        let shapes: [(frames: Int, n: Int, m: Int, k: Int, d: Int)] = [
            (1, 1, 1, 1, 1), (13, 7, 19, 3, 2), (9, 80, 128, 5, 1), (2, 128, 128, 3, 8), (22, 13, 33, 4, 3), (3, 5, 16, 1, 1),
            (6, 11, 17, 2, 1), (5, 128, 16, 1, 1), (7, 3, 9, 3, 4), (31, 37, 24, 2, 5), (4, 130, 12, 3, 1),
        ]
        for s in shapes {
            let inZp = Int32.random(in: -128...127, using: &rng)
            let rows = s.frames + (s.k - 1) * s.d
            let input = randomInt8(rows * s.n, &rng)
            let weights = randomInt8(s.m * s.k * s.n, &rng, range: -127...127)
            let bias = (0..<s.m).map { _ in Int32.random(in: -5000...5000, using: &rng) }
            let useBias = Bool.random(using: &rng)
            let requantizer = randomRequantizer(channels: s.m, typicalAccumulator: 70 * 73 * Double(s.k * s.n).squareRoot(),
                                                prelu: false, activation: [.none, .relu].randomElement(using: &rng)!, rng: &rng)
            let count = s.frames * s.m
            let label = "conv1d \(s.frames) frames \(s.n)→\(s.m) k\(s.k) d\(s.d) zp \(inZp)"
            input.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { wt in
                    bias.withUnsafeBufferPointer { b in
                        let b = useBias ? b : nil
                        let reference = int8Output(count) {
                            QuantizedConv1D.reference(input: x, inputZeroPoint: inZp, weights: wt, bias: b, output: $0,
                                                      frames: s.frames, inputs: s.n, outputs: s.m, kernel: s.k, dilation: s.d,
                                                      requantizer: requantizer)
                        }
                        let packed = QuantizedConv1D.pack(weights: wt, bias: b, inputs: s.n, outputs: s.m, kernel: s.k,
                                                          inputZeroPoint: inZp)
                        var scratch = [Int16](repeating: 0x7777, count: QuantizedConv1D.scratchCount(packed: packed))
                        let fast = int8Output(count) { out in
                            scratch.withUnsafeMutableBufferPointer {
                                QuantizedConv1D.fast(input: x, packed: packed, dilation: s.d, output: out, frames: s.frames,
                                                     requantizer: requantizer, scratch: $0)
                            }
                        }
                        assertBitExact(fast, reference, count: count, label + " (\(Int8KernelPath.best))")
                        for tile in [QuantizedConv2D.Tile.swiftSIMD, .cDot] + x86Tiles {
                            let forced = int8Output(count) { out in
                                scratch.withUnsafeMutableBufferPointer {
                                    QuantizedConv1D.fast(input: x, packed: packed, dilation: s.d, output: out, frames: s.frames,
                                                         requantizer: requantizer, scratch: $0, tile: tile)
                                }
                            }
                            assertBitExact(forced, reference, count: count, label + " (\(tile))")
                        }
                        // The reference against Double: within one step of clamp(outZp + acc · realScale).
                        for t in 0..<s.frames {
                            for o in 0..<s.m {
                                var acc = Double(b?[o] ?? 0)
                                for tap in 0..<s.k {
                                    for i in 0..<s.n {
                                        acc += (Double(x[(t + tap * s.d) * s.n + i]) - Double(inZp)) * Double(wt[(o * s.k + tap) * s.n + i])
                                    }
                                }
                                let real = min(max(Double(requantizer.outputZeroPoint) + acc * requantizer.positive[o].realValue,
                                                   Double(requantizer.activationMin)), Double(requantizer.activationMax))
                                XCTAssertLessThanOrEqual(abs(Double(reference[t * s.m + o]) - real), 1, "\(label) at \(t),\(o)")
                            }
                        }
                    }
                }
            }
        }
    }
}
