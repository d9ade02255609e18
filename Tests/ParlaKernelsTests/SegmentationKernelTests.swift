import Foundation
import ParlaKernels
import ParlaTestSupport
import XCTest

/// The fp32 kernels the selfie-segmentation model added (HARD_SWISH, LOGISTIC, broadcast MUL, average pooling,
/// bilinear resize, transposed convolution): fast versions against their scalar references on odd shapes.
final class SegmentationKernelTests: XCTestCase {
    private let counts = [1, 7, 8, 9, 63, 9 * 7 * 13, 18 * 17 * 15]

    func testHardSwishAndLogisticFastMatchReference() {
        var rng = SeededGenerator(seed: 0x5A15)
        for count in counts {
            let x = randomValues(count, &rng, range: -9...9)
            var reference = outputWithCanary(count), fast = outputWithCanary(count)
            x.withUnsafeBufferPointer { px in
                writing(&reference, count: count) { HardSwish.reference(input: px, output: $0) }
                writing(&fast, count: count) { HardSwish.fast(input: px, output: $0) }
            }
            assertMatches(fast, reference, count: count, tolerance: 0, "hard_swish \(count)")
            let wide = randomValues(count, &rng, range: -100...100)
            for path in Float32KernelPath.available {
                wide.withUnsafeBufferPointer { px in
                    writing(&reference, count: count) { Logistic.reference(input: px, output: $0) }
                    writing(&fast, count: count) { Logistic.fast(input: px, output: $0, path: path) }
                }
                assertMatches(fast, reference, count: count, tolerance: 3e-7, "logistic \(count) \(path)")
            }
        }
        let inputs: [Float] = [-4, -3, 0, 1, 3, 5]
        let expected: [Float] = [0, 0, 0, 4.0 / 6.0, 3, 5]
        for (x, y) in zip(inputs, expected) { XCTAssertEqual(HardSwish.apply(x), y, accuracy: 1e-6, "hard_swish(\(x))") }
    }

    /// The libm-free e^x behind the int8 LOGISTIC table is within 1e-10 relative (its shortened ln2 costs
    /// k·7.4e-13; the tables step by 1/256), and its range reduction is exact.
    func testDeterministicExponential() {
        var rng = SeededGenerator(seed: 0xE4)
        for _ in 0..<2000 {
            let x = Double.random(in: -40...40, using: &rng)
            XCTAssertEqual(Logistic.exponential(x), Foundation.exp(x), accuracy: Foundation.exp(x) * 1e-10, "e^\(x)")
        }
        // At most 39 significant bits after the leading one: k·ln2 is exact for |k| < 2^13 (|k| ≤ 58 here).
        XCTAssertLessThanOrEqual(Logistic.reductionLn2.significandWidth, 39)
        XCTAssertEqual(Logistic.reductionLn2, Foundation.log(2.0), accuracy: 1e-12)
        XCTAssertEqual(Logistic.exponential(0), 1)
        XCTAssertEqual(Logistic.exponential(-1000), Foundation.exp(-40), accuracy: Foundation.exp(-40) * 1e-10)  // clamped
    }

    func testMulFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x3417)
        for (h, w) in oddSizes {
            for channels in oddChannels {
                let count = h * w * channels
                let a = randomValues(count, &rng, range: -4...4)
                for broadcast in [false, true] {
                    let b = randomValues(broadcast ? channels : count, &rng, range: -2...2)
                    for activation in FusedActivation.allCases {
                        var reference = outputWithCanary(count), fast = outputWithCanary(count)
                        a.withUnsafeBufferPointer { pa in
                            b.withUnsafeBufferPointer { pb in
                                writing(&reference, count: count) { Mul.reference(a: pa, b: pb, output: $0, activation: activation) }
                                writing(&fast, count: count) { Mul.fast(a: pa, b: pb, output: $0, activation: activation) }
                            }
                        }
                        assertMatches(fast, reference, count: count, tolerance: 0,
                                      "mul \(h)x\(w)x\(channels) broadcast \(broadcast) \(activation)")
                        let i = count - 1
                        XCTAssertEqual(reference[i], activation.apply(a[i] * b[broadcast ? i % channels : i]))
                    }
                }
            }
        }
    }

    func testAveragePoolFastMatchesReference() {
        var rng = SeededGenerator(seed: 0xA7E)
        for (h, w) in oddSizes {
            for (kh, kw, s) in [(2, 2, 2), (3, 3, 2), (3, 3, 1), (h, w, 1)] {
                for padding in [PaddingMode.same, .valid] {
                    guard let window = Window2D(inputHeight: h, inputWidth: w, kernelHeight: kh, kernelWidth: kw,
                                                strideY: s, strideX: s, padding: padding) else { continue }
                    let c = (oddChannels + [37]).randomElement(using: &rng)!
                    let x = randomValues(h * w * c, &rng, range: -5...5)
                    let count = window.outputHeight * window.outputWidth * c
                    let activation = FusedActivation.allCases.randomElement(using: &rng)!
                    var reference = outputWithCanary(count), fast = outputWithCanary(count)
                    x.withUnsafeBufferPointer { px in
                        writing(&reference, count: count) {
                            AveragePool2D.reference(input: px, output: $0, window: window, channels: c, activation: activation)
                        }
                        writing(&fast, count: count) {
                            AveragePool2D.fast(input: px, output: $0, window: window, channels: c, activation: activation)
                        }
                    }
                    assertMatches(fast, reference, count: count, tolerance: 0, "avg pool \(h)x\(w)x\(c) k\(kh)x\(kw) s\(s)")
                    if kh == h && kw == w && padding == .valid && activation == .none {
                        // Global pool: the channel mean.
                        let mean = stride(from: 0, to: x.count, by: c).map { x[$0] }.reduce(0, +) / Float(h * w)
                        XCTAssertEqual(reference[0], mean, accuracy: 1e-4)
                    }
                }
            }
        }
    }

    func testResizeBilinearFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x2E51)
        let sizes: [(Int, Int, Int, Int)] = [(8, 8, 16, 16), (9, 7, 25, 33), (16, 16, 8, 8), (1, 1, 3, 5), (4, 5, 4, 5)]
        for (ih, iw, oh, ow) in sizes {
            for (align, half) in [(false, false), (true, false), (false, true)] {
                let c = (oddChannels + [37]).randomElement(using: &rng)!
                let g = QuantizedResize.Geometry(inputHeight: ih, inputWidth: iw, outputHeight: oh, outputWidth: ow,
                                                 channels: c, alignCorners: align, halfPixelCenters: half)!
                let x = randomValues(ih * iw * c, &rng)
                let count = oh * ow * c
                var reference = outputWithCanary(count), fast = outputWithCanary(count)
                x.withUnsafeBufferPointer { px in
                    writing(&reference, count: count) { ResizeBilinear.reference(input: px, output: $0, geometry: g) }
                    writing(&fast, count: count) { ResizeBilinear.fast(input: px, output: $0, geometry: g) }
                }
                assertMatches(fast, reference, count: count, tolerance: 0, "resize \(ih)x\(iw)->\(oh)x\(ow)x\(c) \(align) \(half)")
            }
        }
        // Half-pixel 2x upsampling of [0, 4]: 0, 1, 3, 4 (TFLite's values).
        let g = QuantizedResize.Geometry(inputHeight: 1, inputWidth: 2, outputHeight: 1, outputWidth: 4, channels: 1,
                                         halfPixelCenters: true)!
        var out = outputWithCanary(4)
        [Float(0), 4].withUnsafeBufferPointer { px in writing(&out, count: 4) { ResizeBilinear.reference(input: px, output: $0, geometry: g) } }
        XCTAssertEqual(Array(out[0..<4]), [0, 1, 3, 4])
    }

    func testTransposeConvFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x7C0)
        for (h, w) in oddSizes {
            for (k, s) in [(2, 2), (3, 2), (4, 2), (3, 1), (1, 3), (1, 1)] {
                for padding in [PaddingMode.same, .valid] {
                    let ci = [1, 5, 8, 16, 19].randomElement(using: &rng)!, co = [1, 3, 8].randomElement(using: &rng)!
                    let g = TransposedWindow2D(inputHeight: h, inputWidth: w, kernelHeight: k, kernelWidth: k, strideY: s,
                                               strideX: s, padding: padding)!
                    let x = randomValues(h * w * ci, &rng), weights = randomValues(co * k * k * ci, &rng)
                    let bias = Bool.random(using: &rng) ? randomValues(co, &rng) : nil
                    let count = g.outputHeight * g.outputWidth * co
                    var reference = outputWithCanary(count), fast = outputWithCanary(count)
                    x.withUnsafeBufferPointer { px in
                        weights.withUnsafeBufferPointer { pw in
                            (bias ?? []).withUnsafeBufferPointer { pb in
                                let b = bias == nil ? nil : pb
                                writing(&reference, count: count) {
                                    TransposeConv2D.reference(input: px, weights: pw, bias: b, output: $0, window: g,
                                                              inputChannels: ci, outputChannels: co)
                                }
                                writing(&fast, count: count) {
                                    TransposeConv2D.fast(input: px, weights: pw, bias: b, output: $0, window: g,
                                                         inputChannels: ci, outputChannels: co)
                                }
                            }
                        }
                    }
                    assertMatches(fast, reference, count: count, tolerance: 1e-5,
                                  "transpose conv \(h)x\(w)x\(ci)->\(co) k\(k) s\(s) \(padding)")
                }
            }
        }
        // Kernel 2, stride 2, one output channel, input channels a multiple of 8: CParlaF32's kernel on .avx2FMA
        // (4 pixels per step, a pixel tail, weights on the heap beyond 256 channels), on every path.
        let headSizes: [(height: Int, width: Int)] = [(3, 4), (2, 8), (5, 13)]
        for (h, w) in oddSizes + headSizes {
            for ci in [8, 16, 24, 264] {
                let g = TransposedWindow2D(inputHeight: h, inputWidth: w, kernelHeight: 2, kernelWidth: 2, strideY: 2,
                                           strideX: 2, padding: .same)!
                let x = randomValues(h * w * ci, &rng), weights = randomValues(4 * ci, &rng)
                let bias = Bool.random(using: &rng) ? randomValues(1, &rng) : nil
                let count = g.outputHeight * g.outputWidth
                var reference = outputWithCanary(count)
                x.withUnsafeBufferPointer { px in
                    weights.withUnsafeBufferPointer { pw in
                        (bias ?? []).withUnsafeBufferPointer { pb in
                            let b = bias == nil ? nil : pb
                            writing(&reference, count: count) {
                                TransposeConv2D.reference(input: px, weights: pw, bias: b, output: $0, window: g,
                                                          inputChannels: ci, outputChannels: 1)
                            }
                            for path in Float32KernelPath.available {
                                var fast = outputWithCanary(count)
                                writing(&fast, count: count) {
                                    TransposeConv2D.fast(input: px, weights: pw, bias: b, output: $0, window: g,
                                                         inputChannels: ci, outputChannels: 1, path: path)
                                }
                                assertMatches(fast, reference, count: count, tolerance: 1e-5,
                                              "transpose conv 2x2/2 \(h)x\(w)x\(ci)->1 \(path)")
                            }
                        }
                    }
                }
            }
        }
        // Kernel 2, stride 2: every output pixel is one input pixel times one tap (MediaPipe's segmentation head).
        let g = TransposedWindow2D(inputHeight: 1, inputWidth: 1, kernelHeight: 2, kernelWidth: 2, strideY: 2, strideX: 2,
                                   padding: .same)!
        XCTAssertEqual([g.outputHeight, g.outputWidth, g.padTop, g.padLeft], [2, 2, 0, 0])
        var out = outputWithCanary(4)
        [Float(2)].withUnsafeBufferPointer { px in
            [Float(1), 2, 3, 4].withUnsafeBufferPointer { pw in
                [Float(0.5)].withUnsafeBufferPointer { pb in
                    writing(&out, count: 4) {
                        TransposeConv2D.reference(input: px, weights: pw, bias: pb, output: $0, window: g, inputChannels: 1,
                                                  outputChannels: 1)
                    }
                }
            }
        }
        XCTAssertEqual(Array(out[0..<4]), [2.5, 4.5, 6.5, 8.5])
    }
}
