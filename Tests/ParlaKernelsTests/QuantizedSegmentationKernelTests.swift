import Foundation
@testable import ParlaKernels
import ParlaTestSupport
import XCTest

/// The int8 kernels the selfie-segmentation model added: MUL (per-channel broadcast), transposed convolution and
/// the LOGISTIC table, bit-exact fast vs reference on odd shapes, and close to the real function.
final class QuantizedSegmentationKernelTests: XCTestCase {
    private func randomParameters(_ rng: inout SeededGenerator) -> QuantizationParameters {
        QuantizationParameters(scale: Float.random(in: 0.005...0.5, using: &rng), zeroPoint: Int32.random(in: -128...127, using: &rng))
    }

    func testMulFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x3D1)
        for channels in [1, 3, 4, 5, 13, 16, 24, 37, 96] {
            for (broadcast, pixels) in [(false, 211), (true, 211), (true, 997)] {  // 997: the AVX2 tables
                let p1 = randomParameters(&rng), p2 = QuantizationParameters(scale: 1 / 256, zeroPoint: -128)
                let po = randomParameters(&rng)
                let activation: FusedActivation = broadcast ? .none : .relu
                let parameters = QuantizedMul.Parameters(input1: p1, input2: p2, output: po, activation: activation)
                let count = channels * pixels
                let a = randomInt8(count, &rng), b = randomInt8(broadcast ? channels : count, &rng)
                a.withUnsafeBufferPointer { x in
                    b.withUnsafeBufferPointer { y in
                        let reference = int8Output(count) { QuantizedMul.reference(x, y, output: $0, parameters: parameters) }
                        for path in Int8KernelPath.available {
                            let fast = int8Output(count) { QuantizedMul.fast(x, y, output: $0, parameters: parameters, path: path) }
                            assertBitExact(fast, reference, count: count, "mul \(path) c\(channels) broadcast \(broadcast) pixels \(pixels)")
                        }
                        let range = po.activationRange(activation)
                        // MBQM rounds twice (at 2^31, then at 2^right): up to half a step plus half of 2^-right.
                        let right = max(-parameters.multiplier.shift, 0)
                        let bound = 0.5 + 0.5 / Float(1 << right) + 1e-3
                        for i in 0..<count {
                            let real = p1.scale * Float(Int32(a[i]) - p1.zeroPoint) * p2.scale * Float(Int32(b[i % b.count]) - p2.zeroPoint)
                            let ideal = min(max(Float(po.zeroPoint) + real / po.scale, Float(range.lowerBound)), Float(range.upperBound))
                            if abs(Float(reference[i]) - ideal) > bound {
                                XCTFail("mul: \(a[i]) x \(b[i % b.count]) gave \(reference[i]), real \(ideal)"); return
                            }
                        }
                    }
                }
            }
        }
    }

    /// MUL with a real multiplier of 1 or more (a left shift before the multiply: the general 4-lane Swift path)
    /// and with extreme zero points (products of ±255·255), on every path; full-size and per-channel `b` longer than
    /// the AVX2 kernel's 1024-value gate blocks, and per-channel `b` over 513 and 600 pixels (the AVX2 kernel's
    /// per-channel tables).
    func testMulLeftShiftAndExtremeProducts() {
        var rng = SeededGenerator(seed: 0x3D2)
        let cases: [(QuantizationParameters, QuantizationParameters, QuantizationParameters)] = [
            (.init(scale: 0.5, zeroPoint: 127), .init(scale: 0.25, zeroPoint: -128), .init(scale: 0.01, zeroPoint: 0)),
            (.init(scale: 0.02, zeroPoint: -128), .init(scale: 0.03, zeroPoint: 127), .init(scale: 0.0007, zeroPoint: 3)),
            (.init(scale: 0.003, zeroPoint: 127), .init(scale: 0.004, zeroPoint: 127), .init(scale: 2.5, zeroPoint: -7)),
        ]
        for (p1, p2, po) in cases {
            let parameters = QuantizedMul.Parameters(input1: p1, input2: p2, output: po)
            for (count, bCount) in [(24 * 37, 24), (1001, 1001), (7 * 5, 5), (2501, 2501), (3 * 1100, 1100), (24 * 600, 24), (3 * 513, 3)] {
                var a = randomInt8(count, &rng), b = randomInt8(bCount, &rng)
                a[0] = -128; a[1] = 127; b[0] = -128; b[1 % bCount] = 127
                a.withUnsafeBufferPointer { x in
                    b.withUnsafeBufferPointer { y in
                        let reference = int8Output(count) { QuantizedMul.reference(x, y, output: $0, parameters: parameters) }
                        for path in Int8KernelPath.available {
                            let fast = int8Output(count) { QuantizedMul.fast(x, y, output: $0, parameters: parameters, path: path) }
                            assertBitExact(fast, reference, count: count, "mul \(path) shift \(parameters.multiplier.shift) \(count)/\(bCount)")
                        }
                    }
                }
            }
        }
    }

    /// The 32-bit-product SRDHM of the Swift MUL path equals the 64-bit one for every product 255·255 can reach and
    /// multipliers at the ends of their range, random ones and ones with every low-bit pattern.
    func testProductHighMulMatchesSRDHM() {
        var rng = SeededGenerator(seed: 0x3D3)
        var multipliers: [Int32] = [0, 1, 255, 256, 65535, 65536, 1 << 30, (1 << 30) + 0xFFFF, Int32.max, Int32.max - 0xFF00,
                                    -1, Int32.min, Int32.min + 1, -(1 << 30)]
        multipliers += (0..<40).map { _ in Int32.random(in: (1 << 30)...Int32.max, using: &rng) }
        multipliers += (0..<8).map { _ in Int32.random(in: Int32.min...Int32.max, using: &rng) }
        for m in multipliers {
            let split = QuantizedMul.splitMultiplier(m)
            for x in Int32(-65025)...65025 {
                let expected = FixedPoint.saturatingRoundingDoublingHighMul(x, m)
                if QuantizedMul.productHighMul(x, split) != expected {
                    XCTFail("productHighMul(\(x), \(m)) = \(QuantizedMul.productHighMul(x, split)), SRDHM \(expected)"); return
                }
            }
            let lanes = SIMD8<Int32>(-65025, -65024, -255, -1, 0, 1, 65024, 65025)
            let vector = QuantizedMul.productHighMul(lanes, split)
            for l in 0..<8 { XCTAssertEqual(vector[l], FixedPoint.saturatingRoundingDoublingHighMul(lanes[l], m)) }
        }
    }

    func testTransposeConvFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x7C8)
        for (h, w) in oddSizes {
            for (k, s) in [(2, 2), (3, 2), (4, 2), (3, 1)] {
                for padding in [PaddingMode.same, .valid] {
                    let ci = [1, 5, 8, 16, 19].randomElement(using: &rng)!, co = [1, 3, 8].randomElement(using: &rng)!
                    let g = TransposedWindow2D(inputHeight: h, inputWidth: w, kernelHeight: k, kernelWidth: k, strideY: s,
                                               strideX: s, padding: padding)!
                    let x = randomInt8(h * w * ci, &rng), weights = randomInt8(co * k * k * ci, &rng, range: -127...127)
                    let bias = (0..<co).map { _ in Int32.random(in: -5000...5000, using: &rng) }
                    let zeroPoint = Int32.random(in: -128...127, using: &rng)
                    let requantizer = randomRequantizer(channels: co, typicalAccumulator: Double(128 * 64 * ci), prelu: false,
                                                        activation: .none, rng: &rng)
                    let count = g.outputHeight * g.outputWidth * co
                    x.withUnsafeBufferPointer { px in
                        weights.withUnsafeBufferPointer { pw in
                            bias.withUnsafeBufferPointer { pb in
                                let reference = int8Output(count) {
                                    QuantizedTransposeConv2D.reference(input: px, inputZeroPoint: zeroPoint, weights: pw, bias: pb,
                                                                       output: $0, window: g, inputChannels: ci, outputChannels: co,
                                                                       requantizer: requantizer)
                                }
                                let fast = int8Output(count) {
                                    QuantizedTransposeConv2D.fast(input: px, inputZeroPoint: zeroPoint, weights: pw, bias: pb,
                                                                  output: $0, window: g, inputChannels: ci, outputChannels: co,
                                                                  requantizer: requantizer)
                                }
                                assertBitExact(fast, reference, count: count,
                                               "int8 transpose conv \(h)x\(w)x\(ci)->\(co) k\(k) s\(s) \(padding)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// The LOGISTIC table is within half a step of the real sigmoid (plus float rounding) for TFLite's fixed
    /// output quantization (1/256, -128), and applying it fast equals the reference.
    func testLogisticTable() {
        var rng = SeededGenerator(seed: 0x516)
        let pOut = QuantizationParameters(scale: 1 / 256, zeroPoint: -128)
        for _ in 0..<5 {
            let pIn = randomParameters(&rng)
            let table = Int8LookupTable.logistic(input: pIn, output: pOut)
            for q in Int8.min...Int8.max {
                let x = Double(pIn.scale) * Double(Int32(q) - pIn.zeroPoint)
                let ideal = min(max(256 / (1 + Foundation.exp(-x)) - 128, -128), 127)
                XCTAssertLessThanOrEqual(abs(Double(table.table[Int(q) + 128]) - ideal), 0.5001, "logistic \(q)")
            }
            let input = randomInt8(1003, &rng)
            input.withUnsafeBufferPointer { x in
                let reference = int8Output(1003) { table.reference(x, output: $0) }
                for path in Int8KernelPath.available {
                    let fast = int8Output(1003) { table.fast(x, output: $0, path: path) }
                    assertBitExact(fast, reference, count: 1003, "logistic table \(path)")
                }
            }
        }
    }
}
