import Foundation
import ParlaKernels
import ParlaModel
import ParlaTestSupport
import XCTest

/// The ops the selfie-segmentation model brought (hard_swish, average_pool2d, logistic, per-channel mul,
/// resize_bilinear, conv2d_transpose) in a small int8 file: the executor's result equals the kernels' scalar
/// references chained by hand, malformed variants are refused with one line, and random numbers written into the
/// JSON never trap.
final class SegmentationOpsFileTests: XCTestCase {
    private var rng = SeededGenerator(seed: 0x5E6)
    private let pIn = QuantizationParameters(scale: 0.03, zeroPoint: -10)
    private let pSwish = QuantizationParameters(scale: 0.02, zeroPoint: -100)
    private let pGate = QuantizationParameters(scale: 1 / 256, zeroPoint: -128)
    private let pMul = QuantizationParameters(scale: 0.015, zeroPoint: -90)
    private let pOut = QuantizationParameters(scale: 0.05, zeroPoint: 7)
    private let weightScales: [Float] = [0.01, 0.03]

    private func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    }

    /// quantize [1,5,3,4] → hard_swish → average_pool2d (global) → logistic → mul(x, gate) → resize ×2 (half-pixel)
    /// → conv2d_transpose 2×2/2 (4 → 2 channels) → dequantize.
    private func graph(weights: [Int8], bias: [Int32]) -> ModelBytes {
        var m = ModelBytes()
        let x = m.activation("image", [1, 5, 3, 4])
        let q = m.int8Activation("q", [1, 5, 3, 4], scale: pIn.scale, zeroPoint: Int(pIn.zeroPoint))
        let hs = m.int8Activation("hs", [1, 5, 3, 4], scale: pSwish.scale, zeroPoint: Int(pSwish.zeroPoint))
        let avg = m.int8Activation("avg", [1, 1, 1, 4], scale: pSwish.scale, zeroPoint: Int(pSwish.zeroPoint))
        let gate = m.int8Activation("gate", [1, 1, 1, 4], scale: pGate.scale, zeroPoint: Int(pGate.zeroPoint))
        let mul = m.int8Activation("mul", [1, 5, 3, 4], scale: pMul.scale, zeroPoint: Int(pMul.zeroPoint))
        let up = m.int8Activation("up", [1, 10, 6, 4], scale: pMul.scale, zeroPoint: Int(pMul.zeroPoint))
        let w = m.quantizedConstant("w", [2, 2, 2, 4], dtype: "i8", bytes: weights.map { UInt8(bitPattern: $0) },
                                    scales: weightScales, zeroPoints: [0, 0], axis: 0)
        let b = m.quantizedConstant("b", [2], dtype: "i32", bytes: le(bias), scales: [0.00015, 0.00045], zeroPoints: [0, 0], axis: 0)
        let t = m.int8Activation("t", [1, 20, 12, 2], scale: pOut.scale, zeroPoint: Int(pOut.zeroPoint))
        let y = m.activation("out", [1, 20, 12, 2])
        m.op("quantize", [x], [q])
        m.op("hard_swish", [q], [hs])
        m.op("average_pool2d", [hs], [avg], ["filter": [5, 3], "strides": [5, 3], "padding": "valid"])
        m.op("logistic", [avg], [gate])
        m.op("mul", [hs, gate], [mul], ["activation": "none"])
        m.op("resize_bilinear", [mul], [up], ["alignCorners": false, "halfPixelCenters": true])
        m.op("conv2d_transpose", [up, w, b], [t], ["strides": [2, 2], "padding": "same"])
        m.op("dequantize", [t], [y])
        m.inputs = [x]
        m.outputs = [y]
        return m
    }

    private lazy var weights: [Int8] = (0..<32).map { _ in Int8.random(in: -127...127, using: &rng) }
    private lazy var bias: [Int32] = [Int32.random(in: -900...900, using: &rng), Int32.random(in: -900...900, using: &rng)]

    func testInt8GraphMatchesChainedReferences() throws {
        let model = try Model(data: Data(graph(weights: weights, bias: bias).encoded(version: 2)), fileName: "seg.pmdl")
        let x = (0..<60).map { _ in Float.random(in: -4...4, using: &rng) }
        let got = try Executor(model: model).run([Tensor(shape: [1, 5, 3, 4], data: x)])[0].data

        func run(_ count: Int, _ body: (UnsafeMutableBufferPointer<Int8>) -> Void) -> [Int8] {
            var out = [Int8](repeating: 0, count: count)
            out.withUnsafeMutableBufferPointer { body($0) }
            return out
        }
        let q = x.map { QuantizedConversion.quantize($0, pIn) }
        let swishTable = Int8LookupTable.hardSwish(input: pIn, output: pSwish)
        let hs = q.withUnsafeBufferPointer { i in run(60) { swishTable.reference(i, output: $0) } }
        let window = Window2D(inputHeight: 5, inputWidth: 3, kernelHeight: 5, kernelWidth: 3, strideY: 5, strideX: 3, padding: .valid)!
        let avg = hs.withUnsafeBufferPointer { i in run(4) { QuantizedPool2D.averageReference(input: i, output: $0, window: window, channels: 4) } }
        let sigmoid = Int8LookupTable.logistic(input: pSwish, output: pGate)
        let gate = avg.withUnsafeBufferPointer { i in run(4) { sigmoid.reference(i, output: $0) } }
        let mulParameters = QuantizedMul.Parameters(input1: pSwish, input2: pGate, output: pMul)
        let mul = hs.withUnsafeBufferPointer { a in
            gate.withUnsafeBufferPointer { g in run(60) { QuantizedMul.reference(a, g, output: $0, parameters: mulParameters) } }
        }
        let geometry = QuantizedResize.Geometry(inputHeight: 5, inputWidth: 3, outputHeight: 10, outputWidth: 6, channels: 4,
                                                halfPixelCenters: true)!
        let up = mul.withUnsafeBufferPointer { i in run(240) { QuantizedResize.bilinearReference(input: i, output: $0, geometry: geometry) } }
        let tw = TransposedWindow2D(inputHeight: 10, inputWidth: 6, kernelHeight: 2, kernelWidth: 2, strideY: 2, strideX: 2, padding: .same)!
        let requantizer = Requantizer.convolution(inputScale: pMul.scale, weightScales: weightScales, output: pOut,
                                                  activation: .none, preluSlopes: nil)
        let t = up.withUnsafeBufferPointer { i in
            weights.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    run(480) {
                        QuantizedTransposeConv2D.reference(input: i, inputZeroPoint: pMul.zeroPoint, weights: w, bias: b, output: $0,
                                                           window: tw, inputChannels: 4, outputChannels: 2, requantizer: requantizer)
                    }
                }
            }
        }
        let expected = t.map { pOut.scale * Float(Int32($0) - pOut.zeroPoint) }
        XCTAssertEqual(got, expected)
        XCTAssertGreaterThan(Set(t).count, 20, "the chain should not collapse to a few values")
    }

    func testMalformedOpsAreRefused() throws {
        let base = graph(weights: weights, bias: bias)
        func refused(_ change: (inout ModelBytes) -> Void, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
            var m = base
            change(&m)
            XCTAssertThrowsError(try Model(data: Data(m.encoded(version: 2)), fileName: "seg.pmdl"), file: file, line: line) { error in
                XCTAssertTrue("\(error)".hasPrefix("seg.pmdl: "), "\(error)", file: file, line: line)
                XCTAssertTrue("\(error)".contains(expected), "\(error) should mention \(expected)", file: file, line: line)
            }
        }
        refused({ $0.ops[4]["inputs"] = [4, 2] }, "cannot be multiplied")
        refused({ $0.ops[5]["attributes"] = ["alignCorners": true, "halfPixelCenters": true] }, "cannot resize")
        refused({ $0.tensors[6]["shape"] = [1, 10, 6, 3] }, "cannot resize")
        refused({ $0.ops[6]["attributes"] = ["strides": [2, 2], "padding": "explicit"] }, "must be same or valid")
        refused({ $0.ops[6]["attributes"] = ["strides": [2, 2], "padding": "same", "activation": "relu"] }, "no fused activation")
        refused({ $0.ops[6]["attributes"] = ["strides": [3, 2], "padding": "same"] }, "does not match computed shape")
        refused({ $0.tensors[7]["quantizedAxis"] = 3; $0.tensors[7]["scales"] = [0.1, 0.1, 0.1, 0.1]; $0.tensors[7]["zeroPoints"] = [0, 0, 0, 0] },
                "per-channel scales on axis 0")
        refused({ $0.ops[6]["inputs"] = [6, 7] }, "expected 3 inputs")
        refused({ $0.ops[2]["attributes"] = ["filter": [5, 3], "strides": [5, 3], "padding": "valid"]; $0.tensors[3]["scales"] = [0.5] },
                "share scale")
        refused({ $0.ops[1]["type"] = "gelu" }, "no int8 form")
    }

    /// Random numbers written into the graph's JSON (resealed) are refused or run, never trap.
    func testMutatedGraphsNeverTrap() throws {
        let base = graph(weights: weights, bias: bias)
        let json = String(decoding: base.json(), as: UTF8.self)
        let numbers = try NSRegularExpression(pattern: "-?[0-9.]+(e-?[0-9]+)?").matches(in: json, range: NSRange(json.startIndex..., in: json))
        let replacements = ["0", "-1", "1", "2", "3", "4", "5", "6", "10", "12", "20", "127", "-128", "1e40", "9999999999", "0.5"]
        var refusedCount = 0, loaded = 0
        for _ in 0..<400 {
            let match = numbers.randomElement(using: &rng)!
            let range = Range(match.range, in: json)!
            let text = String(json[..<range.lowerBound]) + replacements.randomElement(using: &rng)! + String(json[range.upperBound...])
            do {
                let model = try Model(data: Data(base.encoded(json: Array(text.utf8), version: 2)), fileName: "q.pmdl")
                let executor = try Executor(model: model)
                _ = try executor.run(model.inputShapes.map { Tensor(zeros: $0) })
                loaded += 1
            } catch let error as ModelError {
                XCTAssertFalse(error.description.contains("\n"))
                refusedCount += 1
            }
        }
        XCTAssertGreaterThan(refusedCount, 100)
        XCTAssertGreaterThan(loaded, 5)
    }
}
