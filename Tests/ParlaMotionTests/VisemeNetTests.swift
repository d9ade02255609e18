import XCTest
import ParlaKernels
import ParlaMedia
import ParlaModel
import ParlaTestSupport
@testable import ParlaMotion

/// Builds version-2 `.vnet` bytes with random weights and activation quantization (the layout
/// Tools/lib/visemenet_quantize.py writes).
enum RandomVisemeNet {
    typealias Layer = (inputs: Int, outputs: Int, kernel: Int, dilation: Int, future: Int)

    static func data(layers: [Layer], seed: UInt64, version: Int = 2, edit: ((inout [UInt8]) -> Void)? = nil) -> Data {
        var rng = SeededGenerator(seed: seed)
        let specs = layers.map { "{\"in\": \($0.inputs), \"out\": \($0.outputs), \"kernel\": \($0.kernel), \"dilation\": \($0.dilation), \"future\": \($0.future)}" }
        let json = Data("{\"name\": \"test\", \"layers\": [\(specs.joined(separator: ", "))]}".utf8)
        var body = [UInt8]()
        func u32(_ v: Int) { for s in [0, 8, 16, 24] { body.append(UInt8((v >> s) & 0xFF)) } }
        func f32(_ v: Float) { u32(Int(v.bitPattern)) }
        func i32(_ v: Int32) { u32(Int(UInt32(bitPattern: v))) }
        body += json
        for (index, layer) in layers.enumerated() {
            for _ in 0..<(layer.inputs * layer.outputs * layer.kernel) { body.append(UInt8(bitPattern: Int8.random(in: -127...127, using: &rng))) }
            let s = 1 / (127 * Float(layer.inputs * layer.kernel).squareRoot())
            for _ in 0..<layer.outputs { f32(s * Float.random(in: 1...3, using: &rng)) }
            for _ in 0..<layer.outputs { f32(Float.random(in: -0.1...0.1, using: &rng)) }
            for _ in 0..<layer.outputs { i32(Int32.random(in: -400...400, using: &rng)) }
            let relu = index < layers.count - 1
            f32(relu ? 6 / 255 : 0.05)
            i32(relu ? -128 : Int32.random(in: -10...10, using: &rng))
        }
        for _ in 0..<layers[0].inputs { f32(Float.random(in: -12 ... -4, using: &rng)) }
        for _ in 0..<layers[0].inputs { f32(Float.random(in: 1...3, using: &rng)) }
        f32(10 / 255)
        i32(Int32.random(in: -5...5, using: &rng))
        edit?(&body)
        var bytes = [UInt8]("VNET".utf8)
        let crc = Int(CRC32.checksum(body))
        for v in [version, json.count, crc] { for s in [0, 8, 16, 24] { bytes.append(UInt8((v >> s) & 0xFF)) } }
        return Data(bytes + body)
    }

    static let small: [Layer] = [(80, 32, 5, 1, 2), (32, 32, 3, 2, 1), (32, 24, 3, 4, 0), (24, 16, 1, 1, 0)]
}

final class VisemeNetTests: XCTestCase {
    func testConvolutionSIMDMatchesTheScalarReferenceOnOddSizes() {
        var rng = SeededGenerator(seed: 7)
        for (n, m, k, d, f, count) in [(7, 19, 3, 2, 1, 13), (80, 128, 5, 1, 2, 9), (5, 16, 1, 1, 0, 3), (13, 33, 4, 3, 3, 22), (1, 1, 1, 1, 0, 1), (11, 17, 2, 1, 0, 6), (9, 48, 3, 2, 1, 2)] {
            let weights = (0..<(n * m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let bias = (0..<m).map { _ in Float.random(in: -1...1, using: &rng) }
            let conv = CausalConv1D(inputs: n, outputs: m, kernel: k, dilation: d, future: f, weights: weights, bias: bias, relu: true)!
            let rows = count + conv.past + conv.ahead
            let input = (0..<(rows * n)).map { _ in Float.random(in: -2...2, using: &rng) }
            var fast = [Float](repeating: .nan, count: count * m), slow = fast
            input.withUnsafeBufferPointer { x in
                fast.withUnsafeMutableBufferPointer { conv.apply(input: x.baseAddress!, count: count, output: $0.baseAddress!) }
                slow.withUnsafeMutableBufferPointer { conv.applyReference(input: x.baseAddress!, count: count, output: $0.baseAddress!) }
            }
            XCTAssertEqual(fast, slow, "\(n)×\(m) k\(k) d\(d)")
            // Against a direct definition in Double.
            for t in 0..<count {
                for o in 0..<m {
                    var acc = Double(bias[o])
                    for tap in 0..<k {
                        for i in 0..<n { acc += Double(input[(t + tap * d) * n + i]) * Double(weights[(tap * n + i) * m + o]) }
                    }
                    XCTAssertEqual(Double(fast[t * m + o]), max(acc, 0), accuracy: 1e-4)
                }
            }
        }
    }

    func testStreamingInferenceEqualsBatchForAnyChunking() throws {
        let net = try VisemeNet(data: RandomVisemeNet.data(layers: RandomVisemeNet.small, seed: 3))
        XCTAssertEqual(net.lookAheadFrames, 4)
        var rng = SeededGenerator(seed: 11)
        let frames = 157
        let logMel = (0..<(frames * 80)).map { _ in Float.random(in: -14 ... -2, using: &rng) }
        for precision in VisemeNet.Precision.allCases {
            let batch = net.posteriors(logMel: logMel, precision: precision)
            XCTAssertEqual(batch.frameCount, frames)
            for k in 0..<frames {
                let row = batch.values[(k * 16)..<((k + 1) * 16)]
                XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5)
            }
            for chunk in [1, 2, 5, 17, 200] {
                var stream = net.makeStream(precision: precision)
                var out = [Float]()
                var k = 0
                while k < frames {
                    let end = min(frames, k + chunk)
                    stream.push(logMel: Array(logMel[(k * 80)..<(end * 80)]), into: &out)
                    XCTAssertEqual(out.count / 16, max(0, end - net.lookAheadFrames), "\(precision) chunk \(chunk): output must lag by the look-ahead")
                    k = end
                }
                stream.finish(into: &out)
                XCTAssertEqual(out, batch.values, "\(precision) chunk \(chunk)")
            }
        }
    }

    /// The int8 layer (ParlaKernels' GEMM) against its scalar reference, and against the fp32 layer it quantizes.
    func testInt8LayerMatchesItsReferenceAndTheFloatLayer() {
        var rng = SeededGenerator(seed: 0x1D8)
        for (n, m, k, d, f, count) in [(7, 19, 3, 2, 1, 13), (80, 128, 5, 1, 2, 9), (5, 16, 1, 1, 0, 3), (13, 33, 4, 3, 3, 22),
                                       (1, 1, 1, 1, 0, 1), (128, 128, 3, 8, 0, 2), (9, 48, 3, 2, 1, 2)] {
            let weights = (0..<(n * m * k)).map { _ in Int8.random(in: -127...127, using: &rng) }
            let scales = (0..<m).map { _ in Float.random(in: 0.5...1.5, using: &rng) / (127 * Float(n * k).squareRoot()) }
            let input = QuantizationParameters(scale: 4 / 255, zeroPoint: Int32.random(in: -20...20, using: &rng))
            let output = QuantizationParameters(scale: 3 / 255, zeroPoint: -128)
            let floatBias = (0..<m).map { _ in Float.random(in: -0.2...0.2, using: &rng) }
            let bias = (0..<m).map { Int32((Double(floatBias[$0]) / (Double(input.scale) * Double(scales[$0]))).rounded()) }
            let q = QuantizedCausalConv1D(inputs: n, outputs: m, kernel: k, dilation: d, future: f, weights: weights,
                                          weightScales: scales, bias: bias, input: input, output: output, relu: true)!
            var w = [Float](repeating: 0, count: n * m * k)
            for o in 0..<m { for tap in 0..<k { for i in 0..<n { w[(tap * n + i) * m + o] = Float(weights[(o * k + tap) * n + i]) * scales[o] } } }
            let conv = CausalConv1D(inputs: n, outputs: m, kernel: k, dilation: d, future: f, weights: w, bias: floatBias, relu: true)!
            let rows = count + q.past + q.ahead
            let x = (0..<(rows * n)).map { _ in Int8.random(in: -128...127, using: &rng) }
            let real = x.map { input.scale * Float(Int32($0) - input.zeroPoint) }
            var fast = [Int8](repeating: 0x55, count: count * m), slow = fast
            var scratch = [Int16](repeating: 0, count: q.scratchCount)
            var reals = [Float](repeating: 0, count: count * m)
            x.withUnsafeBufferPointer { xb in
                fast.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { q.apply(input: xb.baseAddress!, count: count, output: o.baseAddress!, scratch: $0) }
                }
                slow.withUnsafeMutableBufferPointer { q.applyReference(input: xb.baseAddress!, count: count, output: $0.baseAddress!) }
            }
            real.withUnsafeBufferPointer { r in
                reals.withUnsafeMutableBufferPointer { conv.apply(input: r.baseAddress!, count: count, output: $0.baseAddress!) }
            }
            XCTAssertEqual(fast, slow, "\(n)×\(m) k\(k) d\(d) (\(Int8KernelPath.best))")
            // Within the int8 output step (plus the bias rounding) of the float layer, up to the clamp at 127.
            for i in 0..<(count * m) {
                let expected = min(reals[i], output.scale * Float(127 - output.zeroPoint))
                let got = output.scale * Float(Int32(fast[i]) - output.zeroPoint)
                XCTAssertEqual(got, expected, accuracy: 1.01 * output.scale, "\(n)×\(m) k\(k) d\(d) value \(i)")
            }
        }
    }

    func testLookAheadIsExactlyWhatTheLayersDeclare() throws {
        // Changing input frame j changes outputs only from frame j − lookAhead on.
        let net = try VisemeNet(data: RandomVisemeNet.data(layers: RandomVisemeNet.small, seed: 5))
        var rng = SeededGenerator(seed: 2)
        let frames = 60
        var logMel = (0..<(frames * 80)).map { _ in Float.random(in: -14 ... -2, using: &rng) }
        let before = net.posteriors(logMel: logMel).values
        for b in 0..<80 { logMel[40 * 80 + b] += 3 }
        let after = net.posteriors(logMel: logMel).values
        let firstChanged = (0..<frames).first { k in before[(k * 16)..<((k + 1) * 16)] != after[(k * 16)..<((k + 1) * 16)] }
        XCTAssertEqual(firstChanged, 40 - net.lookAheadFrames)
    }

    func testFrontEndStreamingEqualsBatch() {
        var rng = SeededGenerator(seed: 9)
        let samples = (0..<9_137).map { _ in Float.random(in: -0.5...0.5, using: &rng) }
        let fe = VisemeFrontEnd()
        let batch = fe.analyse(samples)
        XCTAssertEqual(batch.count, (samples.count + fe.padding - 400) / 160 + 1)
        for chunk in [1, 160, 333, 5000] {
            var stream = fe.makeStream()
            var frames = VisemeFrontEnd.Frames()
            var i = 0
            while i < samples.count {
                stream.append(Array(samples[i..<min(samples.count, i + chunk)]), to: &frames)
                i += chunk
            }
            XCTAssertEqual(frames, batch, "chunk \(chunk)")
        }
    }

    func testBadModelFilesAreRejectedWithOneLine() throws {
        let good = RandomVisemeNet.data(layers: RandomVisemeNet.small, seed: 1)
        XCTAssertNoThrow(try VisemeNet(data: good))
        var flipped = good
        flipped[flipped.count - 300] ^= 0x10
        // Offsets into the body (after the JSON): layer 0's first weight, first weight scale, output scale.
        let json = Int(good[8]) | Int(good[9]) << 8
        let weightsBytes = 80 * 32 * 5
        let cases: [(String, Data)] = [
            ("empty", Data()),
            ("magic", Data("XNET".utf8) + good.dropFirst(4)),
            ("version 1", RandomVisemeNet.data(layers: RandomVisemeNet.small, seed: 1, version: 1)),
            ("truncated", good.prefix(good.count - 7)),
            ("trailing", good + Data([0])),
            ("tampered", flipped),
            ("classes", RandomVisemeNet.data(layers: [(80, 12, 1, 1, 0)], seed: 1)),
            ("chain", RandomVisemeNet.data(layers: [(80, 16, 1, 1, 0), (12, 16, 1, 1, 0)], seed: 1)),
            // Valid checksums over contents the parser or the kernels cannot take.
            ("metadata not UTF-8", RandomVisemeNet.data(layers: RandomVisemeNet.small, seed: 1) { $0[2] = 0xFF }),
            ("weight -128", RandomVisemeNet.data(layers: RandomVisemeNet.small, seed: 1) { $0[json] = 0x80 }),
            ("zero weight scale", RandomVisemeNet.data(layers: RandomVisemeNet.small, seed: 1) {
                for i in 0..<4 { $0[json + weightsBytes + i] = 0 } }),
            ("output zero point", RandomVisemeNet.data(layers: RandomVisemeNet.small, seed: 1) {
                let at = json + weightsBytes + 3 * 4 * 32 + 4
                $0[at] = 0xFF; $0[at + 1] = 0; $0[at + 2] = 0; $0[at + 3] = 0 }),
        ]
        for (name, data) in cases {
            XCTAssertThrowsError(try VisemeNet(data: data), name) { error in
                let text = String(describing: error)
                XCTAssertTrue(text.hasPrefix("VisemeNet model: "), "\(name): \(text)")
                XCTAssertFalse(text.contains("\n"))
                if name.contains("UTF-8") { XCTAssertTrue(text.contains("not UTF-8"), text) }
            }
        }
    }
}
