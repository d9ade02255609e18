import ParlaKernels
import ParlaTestSupport
import XCTest

final class ConvolutionTests: XCTestCase {
    private let paddings: [PaddingMode] = [.same, .valid, .explicit(top: 1, bottom: 0, left: 2, right: 1)]

    func testConv2DFastMatchesReference() {
        var rng = SeededGenerator(seed: 0xC0_2D)
        var cases = 0
        for (h, w) in oddSizes {
            for kernel in [(1, 1), (3, 3), (5, 5), (3, 2)] {
                for stride in [1, 2, 3] {
                    for padding in paddings {
                        guard let window = Window2D(inputHeight: h, inputWidth: w, kernelHeight: kernel.0,
                                                    kernelWidth: kernel.1, strideY: stride, strideX: stride,
                                                    padding: padding) else { continue }
                        let ci = oddChannels.randomElement(using: &rng)!
                        let co = oddChannels.randomElement(using: &rng)!
                        let activation = FusedActivation.allCases.randomElement(using: &rng)!
                        let useBias = Bool.random(using: &rng)
                        checkConv(window: window, ci: ci, co: co, activation: activation, bias: useBias, rng: &rng)
                        cases += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(cases, 140)
    }

    /// The exact layer shapes of the face mesh model: the 3×3 stride-2 stem, 1×1 convolutions and the 3×3
    /// stride-3 landmark head; the detector's 1×1 heads (88 and 96 inputs) and a 2×2 head like iris's.
    func testConv2DFastMatchesReferenceOnModelShapes() {
        var rng = SeededGenerator(seed: 7)
        let shapes: [(h: Int, k: Int, s: Int, ci: Int, co: Int, padding: PaddingMode)] = [
            (31, 3, 2, 3, 16, .same), (12, 1, 1, 64, 128, .valid), (3, 3, 3, 32, 37, .valid), (6, 1, 1, 128, 128, .valid),
            (16, 1, 1, 88, 32, .valid), (8, 1, 1, 96, 96, .valid), (2, 2, 1, 128, 15, .valid),
        ]
        for shape in shapes {
            let window = Window2D(inputHeight: shape.h, inputWidth: shape.h, kernelHeight: shape.k, kernelWidth: shape.k,
                                  strideY: shape.s, strideX: shape.s, padding: shape.padding)!
            checkConv(window: window, ci: shape.ci, co: shape.co, activation: .none, bias: true, rng: &rng)
        }
    }

    private func checkConv(window: Window2D, ci: Int, co: Int, activation: FusedActivation, bias useBias: Bool,
                           rng: inout SeededGenerator) {
        let input = randomValues(window.inputHeight * window.inputWidth * ci, &rng)
        let weights = randomValues(Conv2D.weightCount(window: window, inputChannels: ci, outputChannels: co), &rng)
        let bias = randomValues(co, &rng)
        let count = window.outputHeight * window.outputWidth * co
        var reference = outputWithCanary(count)
        var fast = outputWithCanary(count)
        input.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { wt in
                bias.withUnsafeBufferPointer { b in
                    let b = useBias ? b : nil
                    writing(&reference, count: count) {
                        Conv2D.reference(input: x, weights: wt, bias: b, output: $0, window: window,
                                         inputChannels: ci, outputChannels: co, activation: activation)
                    }
                    let packed = Conv2D.PackedWeights(weights: wt, bias: b, outputChannels: co,
                                                      kernelHeight: window.kernelHeight,
                                                      kernelWidth: window.kernelWidth, inputChannels: ci)
                    for path in Float32KernelPath.available {
                        fast = outputWithCanary(count)
                        writing(&fast, count: count) {
                            Conv2D.fast(input: x, packed: packed, output: $0, window: window, activation: activation,
                                        path: path)
                        }
                        assertMatches(fast, reference, count: count,
                                      "conv2d \(path) \(window) ci \(ci) co \(co) \(activation) bias \(useBias)")
                    }
                }
            }
        }
    }

    func testDepthwiseFastMatchesReference() {
        var rng = SeededGenerator(seed: 0xD3)
        var cases = 0
        for (h, w) in oddSizes {
            for kernel in [(3, 3), (5, 5), (1, 1)] {
                for stride in [1, 2] {
                    for padding in paddings {
                        guard let window = Window2D(inputHeight: h, inputWidth: w, kernelHeight: kernel.0,
                                                    kernelWidth: kernel.1, strideY: stride, strideX: stride,
                                                    padding: padding) else { continue }
                        for channels in oddChannels {
                            let activation = FusedActivation.allCases.randomElement(using: &rng)!
                            let useBias = Bool.random(using: &rng)
                            let input = randomValues(h * w * channels, &rng)
                            let weights = randomValues(kernel.0 * kernel.1 * channels, &rng)
                            let bias = randomValues(channels, &rng)
                            let count = window.outputHeight * window.outputWidth * channels
                            var reference = outputWithCanary(count)
                            var fast = outputWithCanary(count)
                            input.withUnsafeBufferPointer { x in
                                weights.withUnsafeBufferPointer { wt in
                                    bias.withUnsafeBufferPointer { b in
                                        let b = useBias ? b : nil
                                        writing(&reference, count: count) {
                                            DepthwiseConv2D.reference(input: x, weights: wt, bias: b, output: $0,
                                                                      window: window, channels: channels,
                                                                      activation: activation)
                                        }
                                        writing(&fast, count: count) {
                                            DepthwiseConv2D.fast(input: x, weights: wt, bias: b, output: $0,
                                                                 window: window, channels: channels,
                                                                 activation: activation)
                                        }
                                    }
                                }
                            }
                            assertMatches(fast, reference, count: count, "depthwise \(window) c \(channels)")
                            cases += 1
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(cases, 300)
    }

    func testMaxPoolFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x9001)
        for (h, w) in oddSizes {
            for (k, stride) in [(2, 2), (3, 2), (3, 1)] {
                for padding in paddings {
                    guard let window = Window2D(inputHeight: h, inputWidth: w, kernelHeight: k, kernelWidth: k,
                                                strideY: stride, strideX: stride, padding: padding) else { continue }
                    for channels in oddChannels {
                        let activation = FusedActivation.allCases.randomElement(using: &rng)!
                        let input = randomValues(h * w * channels, &rng, range: -8...8)
                        let count = window.outputHeight * window.outputWidth * channels
                        var reference = outputWithCanary(count)
                        var fast = outputWithCanary(count)
                        input.withUnsafeBufferPointer { x in
                            writing(&reference, count: count) {
                                MaxPool2D.reference(input: x, output: $0, window: window, channels: channels,
                                                    activation: activation)
                            }
                            writing(&fast, count: count) {
                                MaxPool2D.fast(input: x, output: $0, window: window, channels: channels,
                                               activation: activation)
                            }
                        }
                        assertMatches(fast, reference, count: count, tolerance: 0, "max_pool \(window) c \(channels)")
                    }
                }
            }
        }
    }

    func testWindowFollowsTFLitePaddingRules() {
        // SAME, 128 -> 64 with a 5×5 stride-2 kernel: 3 padding rows, 1 before and 2 after (TFLite).
        let same = Window2D(inputHeight: 128, inputWidth: 128, kernelHeight: 5, kernelWidth: 5,
                            strideY: 2, strideX: 2, padding: .same)!
        XCTAssertEqual([same.padTop, same.padBottom, same.outputHeight], [1, 2, 64])
        let valid = Window2D(inputHeight: 3, inputWidth: 3, kernelHeight: 3, kernelWidth: 3,
                             strideY: 3, strideX: 3, padding: .valid)!
        XCTAssertEqual([valid.outputHeight, valid.outputWidth], [1, 1])
        XCTAssertNil(Window2D(inputHeight: 2, inputWidth: 2, kernelHeight: 3, kernelWidth: 3,
                              strideY: 1, strideX: 1, padding: .valid))
        XCTAssertNil(Window2D(inputHeight: 4, inputWidth: 4, kernelHeight: 3, kernelWidth: 3,
                              strideY: 0, strideX: 1, padding: .same))
    }
}
