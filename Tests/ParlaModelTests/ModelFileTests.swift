import Foundation
import ParlaKernels
import ParlaModel
import ParlaTestSupport
import XCTest

final class ModelFileTests: XCTestCase {
    private var rng = SeededGenerator(seed: 0x50D1)
    private lazy var weights = (0..<54).map { _ in Float.random(in: -1...1, using: &rng) }
    private lazy var bias: [Float] = [0.25, -0.5]
    private lazy var slopes: [Float] = [0.1, -0.3]

    private func load(_ bytes: [UInt8], _ file: String = "tiny.pmdl") throws -> Model {
        try Model(data: Data(bytes), fileName: file)
    }

    private func assertRefused(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(bytes), file: file, line: line) { error in
            XCTAssertEqual("\(error)", expected, file: file, line: line)
            XCTAssertEqual((error as? LocalizedError)?.errorDescription, expected, file: file, line: line)
        }
    }

    func testRoundTripRunsTheGraph() throws {
        let model = try load(ModelBytes.tiny(weights: weights, bias: bias, slopes: slopes).encoded())
        XCTAssertEqual(model.name, "tiny")
        XCTAssertEqual(model.metadata["license"], "test")
        XCTAssertEqual(model.inputShapes, [[1, 5, 4, 3]])
        XCTAssertEqual(model.outputShapes, [[1, 40]])
        XCTAssertEqual(model.inputNames, ["image"])
        XCTAssertEqual(model.outputNames, ["flat"])
        XCTAssertEqual(model.operationCount, 3)

        let input = (0..<60).map { _ in Float.random(in: -2...2, using: &rng) }
        let outputs = try Executor(model: model).run([Tensor(shape: [1, 5, 4, 3], data: input)])
        XCTAssertEqual(outputs.map(\.shape), [[1, 40]])

        // Expected: the scalar reference kernels chained by hand.
        var conv = [Float](repeating: 0, count: 40), expected = [Float](repeating: 0, count: 40)
        let window = Window2D(inputHeight: 5, inputWidth: 4, kernelHeight: 3, kernelWidth: 3, strideY: 1, strideX: 1,
                              padding: .same)!
        input.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    conv.withUnsafeMutableBufferPointer {
                        Conv2D.reference(input: x, weights: w, bias: b, output: $0, window: window, inputChannels: 3,
                                         outputChannels: 2, activation: .none)
                    }
                }
            }
        }
        conv.withUnsafeBufferPointer { c in
            slopes.withUnsafeBufferPointer { s in
                expected.withUnsafeMutableBufferPointer { PReLU.reference(input: c, slopes: s, output: $0, channels: 2) }
            }
        }
        for (a, b) in zip(outputs[0].data, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertTrue(outputs[0].data.contains { $0 < 0 }, "the PReLU's negative side is exercised")
    }

    func testConstantsMayFeedAnyOp() throws {
        // conv2d over a constant image, then added to the graph input: every op input may be a constant.
        var m = ModelBytes()
        let image = (0..<60).map { _ in Float.random(in: -1...1, using: &rng) }
        let k = m.constant("image", [1, 5, 4, 3], image)
        let w = m.constant("w", [2, 3, 3, 3], weights)
        let c = m.activation("conv", [1, 5, 4, 2])
        let x = m.activation("x", [1, 5, 4, 2])
        let y = m.activation("y", [1, 5, 4, 2])
        m.op("conv2d", [k, w], [c], ["strides": [1, 1], "padding": "same", "activation": "relu"])
        m.op("add", [c, x], [y])
        m.inputs = [x]
        m.outputs = [y]
        let ones = [Float](repeating: 1, count: 40)
        let output = try Executor(model: load(m.encoded())).run([Tensor(shape: [1, 5, 4, 2], data: ones)])[0].data
        var expected = [Float](repeating: 0, count: 40)
        let window = Window2D(inputHeight: 5, inputWidth: 4, kernelHeight: 3, kernelWidth: 3, strideY: 1, strideX: 1,
                              padding: .same)!
        image.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                expected.withUnsafeMutableBufferPointer {
                    Conv2D.reference(input: x, weights: w, bias: nil, output: $0, window: window, inputChannels: 3,
                                     outputChannels: 2, activation: .relu)
                }
            }
        }
        for (a, b) in zip(output, expected) { XCTAssertEqual(a, b + 1, accuracy: 1e-5) }
    }

    func testReadersIgnoreUnknownFields() throws {
        var m = ModelBytes.tiny(weights: weights, bias: bias, slopes: slopes)
        m.extra = ["futureSection": ["a": 1]]
        m.tensors[0]["futureTensorField"] = "x"
        m.ops[0]["futureOpField"] = [1, 2]
        XCTAssertEqual(try load(m.encoded()).operationCount, 3)
    }

    func testHeaderLayoutIsPinned() throws {
        let header = ModelFileHeader(jsonOffset: 64, jsonLength: 0x0102, dataOffset: 0x0180, dataLength: 0x0A0B0C,
                                     jsonCRC32: 0x1122_3344, dataCRC32: 0x5566_7788)
        let bytes = header.encoded()
        XCTAssertEqual(bytes.count, 64)
        XCTAssertEqual(Array(bytes[0..<8]), Array("PARLAMDL".utf8))
        XCTAssertEqual(Array(bytes[8..<16]), [2, 0, 0, 0, 64, 0, 0, 0])                    // version, header size
        XCTAssertEqual(Array(bytes[16..<24]), [64, 0, 0, 0, 0, 0, 0, 0])                    // JSON offset
        XCTAssertEqual(Array(bytes[24..<32]), [0x02, 0x01, 0, 0, 0, 0, 0, 0])               // JSON length
        XCTAssertEqual(Array(bytes[32..<40]), [0x80, 0x01, 0, 0, 0, 0, 0, 0])               // data offset
        XCTAssertEqual(Array(bytes[40..<48]), [0x0C, 0x0B, 0x0A, 0, 0, 0, 0, 0])            // data length
        XCTAssertEqual(Array(bytes[48..<60]), [0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55, 0, 0, 0, 0])
        let crc = CRC32.checksum(Array(bytes[0..<60]))
        XCTAssertEqual(Array(bytes[60..<64]), [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)])
        XCTAssertEqual(bytes.withUnsafeBytes { ModelFileHeader(bytes: $0) }, ModelFileHeader(
            jsonOffset: 64, jsonLength: 0x0102, dataOffset: 0x0180, dataLength: 0x0A0B0C, jsonCRC32: 0x1122_3344,
            dataCRC32: 0x5566_7788, headerCRC32: crc))
        // CRC-32 check value (zlib, IEEE): crc32("123456789") = 0xCBF43926.
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    }

    func testCorruptedFilesAreRefusedWithOneLine() {
        let good = ModelBytes.tiny(weights: weights, bias: bias, slopes: slopes).encoded()
        let dataOffset = good.withUnsafeBytes { Int(ModelFileHeader(bytes: $0)!.dataOffset) }
        for position in [5 + 64, dataOffset + 17, 20, 61, dataOffset - 1] {   // JSON, data, header, header CRC, padding
            var damaged = good
            damaged[position] ^= 0x10
            assertRefused(damaged, "tiny.pmdl: checksum mismatch (file damaged)")
        }
        assertRefused(Array(good.prefix(good.count - 3)), "tiny.pmdl: truncated: header says \(good.count) bytes, file has \(good.count - 3)")
        assertRefused(Array(good.prefix(10)), "tiny.pmdl: truncated: 10 bytes, the header alone needs 64")
        assertRefused([], "tiny.pmdl: truncated: 0 bytes, the header alone needs 64")
        assertRefused(good + [0], "tiny.pmdl: 1 unexpected bytes after the data section")
        var magic = good
        magic[0] = UInt8(ascii: "X")
        assertRefused(magic, "tiny.pmdl: not a Parla model file (magic is not PARLAMDL)")
        let m = ModelBytes.tiny(weights: weights, bias: bias, slopes: slopes)
        assertRefused(ModelBytes.seal(json: m.json(), data: m.data, version: 3),
                      "tiny.pmdl: format version 3 is not supported (this reader knows 1...2)")
        assertRefused(ModelBytes.seal(json: m.json(), data: m.data, version: 0),
                      "tiny.pmdl: format version 0 is not supported (this reader knows 1...2)")
        assertRefused(m.encoded(json: Array("{\"name\": 3}".utf8)), "tiny.pmdl: malformed graph description: expected String at name")
        assertRefused(m.encoded(json: Array("{nope".utf8)), "tiny.pmdl: malformed graph description: invalid JSON at top level")
    }

    func testBadOffsetsAndShapesAreRefusedBeforeRunning() {
        func variant(_ change: (inout ModelBytes) -> Void) -> [UInt8] {
            var m = ModelBytes.tiny(weights: weights, bias: bias, slopes: slopes)
            change(&m)
            return m.encoded()
        }
        let dataLength = ModelBytes.tiny(weights: weights, bias: bias, slopes: slopes).data.count
        assertRefused(variant { $0.tensors[1]["offset"] = 256 },
                      "tiny.pmdl: tensor 'conv/weights' data range 256..472 exceeds data section of \(dataLength) bytes")
        assertRefused(variant { $0.tensors[1]["offset"] = -64 },
                      "tiny.pmdl: tensor 'conv/weights' data range -64..152 exceeds data section of \(dataLength) bytes")
        assertRefused(variant { $0.tensors[1]["offset"] = 4 }, "tiny.pmdl: tensor 'conv/weights' data offset 4 is not a multiple of 64")
        assertRefused(variant { $0.tensors[1]["length"] = 100 },
                      "tiny.pmdl: tensor 'conv/weights' data length 100 does not match shape [2, 3, 3, 3] (f32: 216 bytes)")
        assertRefused(variant { $0.tensors[1]["shape"] = [2, 3, 3, 4]; $0.tensors[1]["length"] = 216; _ = $0 },
                      "tiny.pmdl: tensor 'conv/weights' data length 216 does not match shape [2, 3, 3, 4] (f32: 288 bytes)")
        assertRefused(variant { $0.tensors[1]["shape"] = [2, 3, 3, 1, 3] },
                      "tiny.pmdl: op 0 conv2d: weight shape [2, 3, 3, 1, 3] does not match input channels 3")
        assertRefused(variant { $0.tensors[1]["shape"] = [3, 3, 2, 3] },
                      "tiny.pmdl: op 0 conv2d: bias shape [2] does not match output channels 3")
        assertRefused(variant { $0.tensors[1]["shape"] = [2, 3, 9, 1] },
                      "tiny.pmdl: op 0 conv2d: weight shape [2, 3, 9, 1] does not match input channels 3")
        assertRefused(variant { $0.tensors[3]["shape"] = [1, 5, 4, 3] },
                      "tiny.pmdl: op 0 conv2d: output shape [1, 5, 4, 3] does not match computed shape [1, 5, 4, 2]")
        assertRefused(variant { $0.tensors[0]["shape"] = [1, 0, 4, 3] },
                      "tiny.pmdl: tensor 'image' shape [1, 0, 4, 3] has a dimension below 1")
        assertRefused(variant { $0.tensors[0]["shape"] = [1, 1 << 40, 4, 3] },
                      "tiny.pmdl: tensor 'image' shape [1, 1099511627776, 4, 3] is too large")
        assertRefused(variant { $0.tensors[0]["dtype"] = "i4" }, "tiny.pmdl: tensor 'image' has dtype 'i4'; this reader knows f32, i8 and i32")
        assertRefused(variant { $0.tensors[0]["dtype"] = "i8" }, "tiny.pmdl: tensor 'image' (i8) needs as many scales as zeroPoints (at least one)")
        assertRefused(variant { $0.ops[1]["inputs"] = [3, 99] }, "tiny.pmdl: op 1 prelu: input 1 refers to tensor 99, but there are 7 tensors")
        assertRefused(variant { $0.ops[0]["inputs"] = [5, 1, 2] }, "tiny.pmdl: op 0 conv2d: input 'prelu' is used before it is computed")
        assertRefused(variant { $0.ops[2]["outputs"] = [3] }, "tiny.pmdl: op 2 reshape: output 'conv' is a constant, a graph input or written twice")
        assertRefused(variant { $0.ops[1]["type"] = "softmax" }, "tiny.pmdl: op 1 softmax: unknown op type 'softmax'")
        assertRefused(variant { $0.ops[0]["attributes"] = ["strides": [1, 1], "padding": "sideways"] },
                      "tiny.pmdl: op 0 conv2d: attribute 'padding' must be same, valid or explicit, not sideways")
        assertRefused(variant { $0.ops[0]["attributes"] = ["strides": [0, 1], "padding": "same"] },
                      "tiny.pmdl: op 0 conv2d: kernel 3x3 stride [0, 1] padding same does not fit input 5x4")
        assertRefused(variant { $0.ops[0]["attributes"] = ["strides": [1, 1], "padding": "same", "activation": "gelu"] },
                      "tiny.pmdl: op 0 conv2d: unknown activation 'gelu' (none, relu, relu6, prelu)")
        assertRefused(variant { $0.tensors[4]["shape"] = [1, 2, 1] },
                      "tiny.pmdl: op 1 prelu: slope shape [1, 2, 1] does not match input channels 2")
        assertRefused(variant { $0.ops[2]["attributes"] = ["shape": [1, 41]] }, "tiny.pmdl: op 2 reshape: cannot reshape [1, 5, 4, 2] to [1, 41]")
        assertRefused(variant { $0.outputs = [1] }, "tiny.pmdl: graph output 'conv/weights' is not computed by any op")
        assertRefused(variant { $0.inputs = [] }, "tiny.pmdl: graph has no inputs")
    }

    func testConvertedFileHeaderAndDamage() throws {
        let url = ParityTests.modelsDirectory.appendingPathComponent("face_landmark.pmdl")
        let bytes = [UInt8](try Data(contentsOf: url))
        let header = try XCTUnwrap(bytes.withUnsafeBytes { ModelFileHeader(bytes: $0) })
        XCTAssertEqual(Array(bytes[0..<8]), ModelFileHeader.magic)
        XCTAssertEqual([header.formatVersion, header.headerSize, header.reserved], [1, 64, 0])
        XCTAssertEqual(header.jsonOffset, 64)
        XCTAssertEqual(header.dataOffset % 64, 0)
        XCTAssertEqual(header.dataOffset + header.dataLength, UInt64(bytes.count))
        XCTAssertEqual(header, header.encoded().withUnsafeBytes { ModelFileHeader(bytes: $0) })
        XCTAssertEqual(header.encoded(), Array(bytes[0..<64]), "the Python writer and Swift agree on the header")

        var damaged = bytes
        damaged[bytes.count / 2] ^= 1
        XCTAssertThrowsError(try Model(data: Data(damaged), fileName: "face_landmark.pmdl")) {
            XCTAssertEqual("\($0)", "face_landmark.pmdl: checksum mismatch (file damaged)")
        }
        XCTAssertThrowsError(try Model(data: Data(bytes.prefix(100_000)), fileName: "face_landmark.pmdl")) {
            XCTAssertEqual("\($0)", "face_landmark.pmdl: truncated: header says \(bytes.count) bytes, file has 100000")
        }
    }

    func testExecutorRefusesWrongInputs() throws {
        let executor = try Executor(model: load(ModelBytes.tiny(weights: weights, bias: bias, slopes: slopes).encoded()))
        XCTAssertThrowsError(try executor.run([])) { XCTAssertEqual("\($0)", "tiny: expected 1 input tensor(s), got 0") }
        XCTAssertThrowsError(try executor.run([Tensor(zeros: [1, 4, 5, 3])])) {
            XCTAssertEqual("\($0)", "tiny: input 0 'image' has shape [1, 4, 5, 3], the model expects [1, 5, 4, 3]")
        }
        XCTAssertEqual(try executor.run([Tensor(zeros: [1, 5, 4, 3])])[0].count, 40)
    }

    func testMissingFileIsOneLine() {
        XCTAssertThrowsError(try Model(contentsOf: URL(fileURLWithPath: "/nonexistent/dir/gone.pmdl"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("gone.pmdl: cannot read file"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }

    /// Random numbers written into the JSON (then resealed, so the checksums pass) must be refused or run,
    /// never trap.
    func testMutatedGraphsNeverTrap() throws {
        let base = ModelBytes.tiny(weights: weights, bias: bias, slopes: slopes)
        let json = String(decoding: base.json(), as: UTF8.self)
        let numbers = try NSRegularExpression(pattern: "-?[0-9]+").matches(in: json, range: NSRange(json.startIndex..., in: json))
        let replacements = ["0", "-1", "1", "2", "3", "5", "7", "64", "9999999999", "-9223372036854775808", "40", "216"]
        var refused = 0, loaded = 0
        for _ in 0..<400 {
            let match = numbers.randomElement(using: &rng)!
            let range = Range(match.range, in: json)!
            let text = String(json[..<range.lowerBound]) + replacements.randomElement(using: &rng)!
                + String(json[range.upperBound...])
            do {
                let model = try load(base.encoded(json: Array(text.utf8)))
                let executor = try Executor(model: model)
                _ = try executor.run(model.inputShapes.map { Tensor(zeros: $0) })
                loaded += 1
            } catch let error as ModelError {
                XCTAssertFalse(error.description.contains("\n"))
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, 100)
        XCTAssertGreaterThan(loaded, 5)
    }

    /// The check that stands between outside bytes and Foundation's JSONDecoder (which traps on invalid UTF-8 in
    /// Swift 6.0): well-formed text passes, each kind of malformed sequence fails.
    func testUTF8ValidationSeparatesTextFromMalformedBytes() throws {
        XCTAssertTrue(isValidUTF8(Array("{\"name\": \"Grâce 😀\"}".utf8)))
        XCTAssertTrue(isValidUTF8([UInt8]()))
        for bad: [UInt8] in [[0x80], [0xFF], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                             [0x41, 0xE2, 0x82], [0xC3]] {
            XCTAssertFalse(isValidUTF8(bad), "\(bad)")
        }
        XCTAssertThrowsError(try JSONDecoder().decodeUntrusted([String].self, from: Data([0x5B, 0x22, 0xFF, 0x22, 0x5D]))) {
            XCTAssertEqual("\($0)", "the text is not valid UTF-8")
        }
        XCTAssertEqual(try JSONDecoder().decodeUntrusted([String].self, from: Data("[\"ok\"]".utf8)), ["ok"])
    }
}
