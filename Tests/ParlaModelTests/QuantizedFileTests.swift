import Foundation
import ParlaKernels
import ParlaModel
import ParlaTestSupport
import XCTest

/// Version-2 (int8) files: a small int8 graph runs exactly like the kernels' scalar references chained by hand,
/// and damaged or malformed int8 files (truncated at every section boundary, flipped bytes, mutated JSON with
/// resealed checksums, huge shapes, out-of-range parameters) are refused with one line, never a trap.
final class QuantizedFileTests: XCTestCase {
    private var rng = SeededGenerator(seed: 0x1A8)

    private let input = QuantizationParameters(scale: 0.02, zeroPoint: -3)
    private let convOut = QuantizationParameters(scale: 0.05, zeroPoint: 5)
    private let addOut = QuantizationParameters(scale: 0.1, zeroPoint: -128)
    private let weightScales: [Float] = [0.01, 0.02]
    private let slopes: [Float] = [0.25, -0.5]

    private func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    }

    /// quantize → int8 conv 3×3 (+PReLU) → int8 add (+ReLU) → pad channels → int8 max pool → dequantize.
    private func graph(weights: [Int8], bias: [Int32]) -> ModelBytes {
        var m = ModelBytes()
        let x = m.activation("image", [1, 5, 4, 3])
        let q = m.int8Activation("image/q", [1, 5, 4, 3], scale: input.scale, zeroPoint: Int(input.zeroPoint))
        let w = m.quantizedConstant("w", [2, 3, 3, 3], dtype: "i8", bytes: weights.map { UInt8(bitPattern: $0) },
                                    scales: weightScales, zeroPoints: [0, 0], axis: 0)
        let b = m.quantizedConstant("b", [2], dtype: "i32", bytes: le(bias), scales: [0.0002, 0.0004], zeroPoints: [0, 0], axis: 0)
        let s = m.constant("slopes", [2], slopes)
        let c = m.int8Activation("conv", [1, 5, 4, 2], scale: convOut.scale, zeroPoint: Int(convOut.zeroPoint))
        let a = m.int8Activation("add", [1, 5, 4, 2], scale: addOut.scale, zeroPoint: Int(addOut.zeroPoint))
        let p = m.int8Activation("pad", [1, 5, 4, 4], scale: addOut.scale, zeroPoint: Int(addOut.zeroPoint))
        let mp = m.int8Activation("pool", [1, 3, 2, 4], scale: addOut.scale, zeroPoint: Int(addOut.zeroPoint))
        let y = m.activation("out", [1, 3, 2, 4])
        m.op("quantize", [x], [q])
        m.op("conv2d", [q, w, b, s], [c], ["strides": [1, 1], "padding": "same", "activation": "prelu"])
        m.op("add", [c, c], [a], ["activation": "relu"])
        m.op("pad", [a], [p], ["paddings": [0, 0, 0, 0, 0, 0, 1, 1]])
        m.op("max_pool2d", [p], [mp], ["filter": [2, 2], "strides": [2, 2], "padding": "same"])
        m.op("dequantize", [mp], [y])
        m.inputs = [x]
        m.outputs = [y]
        return m
    }

    private lazy var weights: [Int8] = (0..<54).map { _ in Int8.random(in: -127...127, using: &rng) }
    private lazy var bias: [Int32] = [Int32.random(in: -500...500, using: &rng), Int32.random(in: -500...500, using: &rng)]

    func testInt8GraphMatchesChainedReferences() throws {
        let model = try Model(data: Data(graph(weights: weights, bias: bias).encoded(version: 2)), fileName: "q.pmdl")
        XCTAssertTrue(model.isQuantized)
        XCTAssertEqual(model.formatVersion, 2)
        let x = (0..<60).map { _ in Float.random(in: -2...2, using: &rng) }
        let got = try Executor(model: model).run([Tensor(shape: [1, 5, 4, 3], data: x)])[0].data

        var q = [Int8](repeating: 0, count: 60)
        x.withUnsafeBufferPointer { xb in q.withUnsafeMutableBufferPointer { QuantizedConversion.quantizeReference(xb, output: $0, parameters: input) } }
        let window = try XCTUnwrap(Window2D(inputHeight: 5, inputWidth: 4, kernelHeight: 3, kernelWidth: 3, strideY: 1,
                                            strideX: 1, padding: .same))
        var c = [Int8](repeating: 0, count: 40)
        let requantizer = Requantizer.convolution(inputScale: input.scale, weightScales: weightScales, output: convOut,
                                                  preluSlopes: slopes)
        q.withUnsafeBufferPointer { qb in weights.withUnsafeBufferPointer { wb in bias.withUnsafeBufferPointer { bb in
            c.withUnsafeMutableBufferPointer {
                QuantizedConv2D.reference(input: qb, inputZeroPoint: input.zeroPoint, weights: wb, bias: bb, output: $0,
                                          window: window, inputChannels: 3, outputChannels: 2, requantizer: requantizer)
            }
        } } }
        var a = [Int8](repeating: 0, count: 40)
        let add = QuantizedAdd.Parameters(input1: convOut, input2: convOut, output: addOut, activation: .relu)
        c.withUnsafeBufferPointer { cb in a.withUnsafeMutableBufferPointer { QuantizedAdd.reference(cb, cb, output: $0, parameters: add) } }
        var p = [Int8](repeating: Int8(addOut.zeroPoint), count: 80)
        for pixel in 0..<20 { for ch in 0..<2 { p[pixel * 4 + 1 + ch] = a[pixel * 2 + ch] } }
        let pool = try XCTUnwrap(Window2D(inputHeight: 5, inputWidth: 4, kernelHeight: 2, kernelWidth: 2, strideY: 2,
                                          strideX: 2, padding: .same))
        var m = [Int8](repeating: 0, count: 24)
        p.withUnsafeBufferPointer { pb in m.withUnsafeMutableBufferPointer {
            QuantizedPool2D.maxReference(input: pb, output: $0, window: pool, channels: 4)
        } }
        var expected = [Float](repeating: 0, count: 24)
        m.withUnsafeBufferPointer { mb in expected.withUnsafeMutableBufferPointer {
            QuantizedConversion.dequantizeReference(mb, output: $0, parameters: addOut)
        } }
        XCTAssertEqual(got, expected)
        XCTAssertTrue(Set(c).count > 3, "the conv output is not degenerate")
        // Threads split rows; the result is the same.
        XCTAssertEqual(try Executor(model: model, threads: 3).run([Tensor(shape: [1, 5, 4, 3], data: x)])[0].data, expected)
    }

    private func refused(_ bytes: [UInt8], _ expected: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let model = try Model(data: Data(bytes), fileName: "q.pmdl")
            XCTFail("accepted: \(model.name)", file: file, line: line)
        } catch {
            XCTAssertFalse("\(error)".contains("\n"), file: file, line: line)
            XCTAssertTrue("\(error)".hasPrefix("q.pmdl: "), "\(error)", file: file, line: line)
            if let expected { XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line) }
        }
    }

    /// quantize → int8 add with a fused per-channel PReLU (3 channels, odd) → dequantize, against
    /// `QuantizedAdd.reference`; wrong slope counts and dtypes are refused.
    func testAddWithFusedPReLUMatchesReference() throws {
        let addSlopes: [Float] = [0.25, -0.5, 1.5]
        let sumOut = QuantizationParameters(scale: 0.06, zeroPoint: 10)
        func addGraph(slopes: [Float], slopeName: String = "slopes") -> ModelBytes {
            var m = ModelBytes()
            let x = m.activation("image", [1, 7, 5, 3])
            let q = m.int8Activation("image/q", [1, 7, 5, 3], scale: input.scale, zeroPoint: Int(input.zeroPoint))
            let s = m.constant(slopeName, [slopes.count], slopes)
            let a = m.int8Activation("add", [1, 7, 5, 3], scale: sumOut.scale, zeroPoint: Int(sumOut.zeroPoint))
            let y = m.activation("out", [1, 7, 5, 3])
            m.op("quantize", [x], [q])
            m.op("add", [q, q, s], [a], ["activation": "prelu"])
            m.op("dequantize", [a], [y])
            m.inputs = [x]
            m.outputs = [y]
            return m
        }
        let model = try Model(data: Data(addGraph(slopes: addSlopes).encoded(version: 2)), fileName: "q.pmdl")
        let x = (0..<105).map { _ in Float.random(in: -3...3, using: &rng) }
        let got = try Executor(model: model).run([Tensor(shape: [1, 7, 5, 3], data: x)])[0].data
        var q = [Int8](repeating: 0, count: 105)
        x.withUnsafeBufferPointer { xb in q.withUnsafeMutableBufferPointer { QuantizedConversion.quantizeReference(xb, output: $0, parameters: input) } }
        var a = [Int8](repeating: 0, count: 105)
        let add = QuantizedAdd.Parameters(input1: input, input2: input, output: sumOut, preluSlopes: addSlopes)
        q.withUnsafeBufferPointer { qb in a.withUnsafeMutableBufferPointer { QuantizedAdd.reference(qb, qb, output: $0, parameters: add) } }
        var expected = [Float](repeating: 0, count: 105)
        a.withUnsafeBufferPointer { ab in expected.withUnsafeMutableBufferPointer {
            QuantizedConversion.dequantizeReference(ab, output: $0, parameters: sumOut)
        } }
        XCTAssertEqual(got, expected)
        XCTAssertTrue(got.contains { $0 < 0 } && got.contains { $0 > 0 }, "both PReLU branches are used")
        refused(addGraph(slopes: [0.25, -0.5]).encoded(version: 2), "must hold 3 values")
        refused(addGraph(slopes: [0.25, .infinity, 1]).encoded(version: 2), "finite")
        var noSlopes = addGraph(slopes: addSlopes)
        noSlopes.ops[1]["inputs"] = [1, 1]
        refused(noSlopes.encoded(version: 2), "prelu slopes")
    }

    func testBadQuantizationIsRefused() throws {
        let base = graph(weights: weights, bias: bias)
        func variant(_ change: (inout ModelBytes) -> Void) -> [UInt8] {
            var m = base
            change(&m)
            return m.encoded(version: 2)
        }
        refused(variant { $0.tensors[1]["scales"] = [0.0] }, "scale outside")
        refused(variant { $0.tensors[1]["zeroPoints"] = [300] }, "zero point outside")
        refused(variant { $0.tensors[1]["scales"] = [0.1, 0.2]; $0.tensors[1]["zeroPoints"] = [0, 0] }, "no quantizedAxis")
        refused(variant { $0.tensors[2]["quantizedAxis"] = 3 }, "quantizedAxis")
        refused(variant { $0.tensors[2]["zeroPoints"] = [0, 1] }, "zero points 0")
        refused(variant { $0.tensors[1].removeValue(forKey: "scales") }, "scales")
        refused(variant { $0.tensors[0]["scales"] = [1.0]; $0.tensors[0]["zeroPoints"] = [0] }, "f32 but has quantization")
        refused(variant { $0.tensors[1]["dtype"] = "u4" }, "dtype 'u4'")
        refused(variant { $0.tensors[2]["length"] = 53 }, "data length")
        refused(variant { $0.ops[2]["attributes"] = ["activation": "prelu"] }, "prelu")
        refused(variant { $0.ops[1]["inputs"] = [1, 2, 3] }, "expected 4 inputs")
        refused(variant { $0.tensors[1]["shape"] = [1, 1 << 40, 1 << 40, 3] }, "too large")
        refused(variant { $0.tensors[7]["scales"] = [0.5] }, "share scale")
        var bad = weights
        bad[7] = -128
        refused(graph(weights: bad, bias: bias).encoded(version: 2), "-127...127")
        var nanSlopes = base
        nanSlopes.data.replaceSubrange(128..<132, with: le([Float.nan.bitPattern]))
        refused(nanSlopes.encoded(version: 2), "slopes")
        refused(base.encoded(version: 3), "format version 3")
    }

    /// The real int8 detector cut at every section boundary (and around it), and with bytes flipped anywhere.
    func testTruncatedAndFlippedRealFileIsRefused() throws {
        let url = ParityTests.modelsDirectory.appendingPathComponent("face_detection_short_range.int8.pmdl")
        let bytes = [UInt8](try Data(contentsOf: url))
        let header = try XCTUnwrap(bytes.withUnsafeBytes { ModelFileHeader(bytes: $0) })
        XCTAssertEqual(header.formatVersion, 2)
        _ = try Model(data: Data(bytes), fileName: "q.pmdl")
        let json = try JSONSerialization.jsonObject(with: Data(bytes[64..<(64 + Int(header.jsonLength))])) as! [String: Any]
        var cuts: Set<Int> = [0, 7, 8, 63, 64, 65, 64 + Int(header.jsonLength), Int(header.dataOffset), bytes.count - 1]
        for tensor in json["tensors"] as! [[String: Any]] {
            guard let offset = tensor["offset"] as? Int, let length = tensor["length"] as? Int else { continue }
            let start = Int(header.dataOffset) + offset
            cuts.formUnion([start, start + 1, start + length - 1].filter { $0 < bytes.count })
        }
        for cut in cuts.sorted() { refused(Array(bytes.prefix(cut))) }
        for _ in 0..<60 {
            var damaged = bytes
            damaged[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            refused(damaged)
        }
    }

    /// Random numbers written into the int8 graph's JSON (resealed) are refused or run, never trap.
    func testMutatedInt8GraphsNeverTrap() throws {
        let base = graph(weights: weights, bias: bias)
        let json = String(decoding: base.json(), as: UTF8.self)
        let numbers = try NSRegularExpression(pattern: "-?[0-9.]+(e-?[0-9]+)?").matches(in: json, range: NSRange(json.startIndex..., in: json))
        let replacements = ["0", "-1", "1", "2", "3", "4", "5", "64", "127", "-128", "128", "1e40", "9999999999", "0.5", "1e-40"]
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
