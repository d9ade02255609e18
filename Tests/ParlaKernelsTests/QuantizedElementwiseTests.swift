@testable import ParlaKernels
import ParlaTestSupport
import XCTest

final class QuantizedElementwiseTests: XCTestCase {
    private func randomParameters(_ rng: inout SeededGenerator) -> QuantizationParameters {
        QuantizationParameters(scale: Float.random(in: 0.005...0.5, using: &rng), zeroPoint: Int32.random(in: -128...127, using: &rng))
    }

    /// Every ADD kernel this CPU runs: each path, and on AVX-512 VBMI CPUs also the AVX-512 path without the VBMI
    /// byte-permute kernel (the kernels that CPUs without VBMI run).
    private var addVariants: [(name: String, path: Int8KernelPath, byteTable: Bool)] {
        var variants: [(name: String, path: Int8KernelPath, byteTable: Bool)] = []
        for path in Int8KernelPath.available { variants.append((name: "\(path)", path: path, byteTable: true)) }
        if Int8KernelPath.hasAVX512VBMI { variants.append((name: "avx512VNNI without VBMI", path: Int8KernelPath.avx512VNNI, byteTable: false)) }
        return variants
    }

    /// ADD over every int8 pair: fast equals reference, and the reference is within 1 step of the real sum.
    func testAddExhaustive() {
        var rng = SeededGenerator(seed: 0xADD)
        for round in 0..<10 {
            // Rounds 5 to 9: input scales 1/16 and 1/32 and output scale 1/8 make the sum (a + zp1)·2^19 +
            // (b + zp2)·2^18 and the output's rounding divide meet ties of both signs; rounds 8 and 9 with the
            // output zero point -128, where int8's own range clamps negative sums like a ReLU.
            let dyadic = round >= 5
            let p1 = dyadic ? QuantizationParameters(scale: 0.0625, zeroPoint: 5) : randomParameters(&rng)
            let p2: QuantizationParameters = dyadic ? QuantizationParameters(scale: 0.03125, zeroPoint: Int32(round) - 20) : randomParameters(&rng)
            // Round 4: an output scale so small that the output multiplier has a positive (left) shift.
            let po: QuantizationParameters
            if round == 4 {
                po = QuantizationParameters(scale: 1e-9, zeroPoint: 3)
            } else if dyadic {
                po = QuantizationParameters(scale: 0.125, zeroPoint: round >= 8 ? -128 : -3)
            } else {
                po = randomParameters(&rng)
            }
            // ReLU and ReLU6: the VBMI kernel gives negative sums the rounding of non-negative ones (clamped anyway).
            let activation: FusedActivation
            switch round {
            case 3, 6, 9: activation = .relu6
            case 1, 7: activation = .relu
            default: activation = .none
            }
            let parameters = QuantizedAdd.Parameters(input1: p1, input2: p2, output: po, activation: activation)
            // Only round 4's left shift keeps the VBMI kernel out (the tests would pass without it otherwise).
            XCTAssertEqual(parameters.vbmiPlanes.isEmpty, !Int8KernelPath.hasAVX512VBMI || round == 4, "add round \(round)")
            let a = (0..<65_536).map { Int8(truncatingIfNeeded: $0) }, b = (0..<65_536).map { Int8(truncatingIfNeeded: $0 >> 8) }
            a.withUnsafeBufferPointer { x in
                b.withUnsafeBufferPointer { y in
                    let reference = int8Output(65_535) { QuantizedAdd.reference(x, y, output: $0, parameters: parameters) }
                    for (name, path, byteTable) in addVariants {
                        let fast = int8Output(65_535) {
                            QuantizedAdd.fast(x, y, output: $0, parameters: parameters, path: path, byteTable: byteTable)
                        }
                        assertBitExact(fast, reference, count: 65_535, "add round \(round) (\(name))")
                        // The vector arithmetic that builds the lookup table, on each path.
                        let arithmetic = int8Output(65_535) {
                            QuantizedAdd.arithmetic(x, y, output: $0, parameters: parameters, path: path)
                        }
                        assertBitExact(arithmetic, reference, count: 65_535, "add arithmetic round \(round) (\(name))")
                    }
                    let range = po.activationRange(activation)
                    for i in 0..<65_535 where round != 4 {  // round 4's left shift wraps (TFLite semantics)
                        let real = p1.scale * Float(Int32(a[i]) - p1.zeroPoint) + p2.scale * Float(Int32(b[i]) - p2.zeroPoint)
                        let ideal = min(max(Float(po.zeroPoint) + real / po.scale, Float(range.lowerBound)), Float(range.upperBound))
                        if abs(Float(reference[i]) - ideal) > 1.01 {
                            XCTFail("add: \(a[i]) + \(b[i]) gave \(reference[i]), real \(ideal)"); return
                        }
                    }
                }
            }
        }
    }

    /// ADD with a fused PReLU: fast (4 channels per vector step, scalar channel tail) equals reference; the
    /// reference is within 1 step of prelu(a + b).
    func testAddWithFusedPReLU() {
        var rng = SeededGenerator(seed: 0xADD9)
        // 100 and 200: more channels than the VBMI kernel's 64 values per step.
        for channels in [1, 3, 5, 13, 16, 37, 64, 100, 200] {
            let p1 = randomParameters(&rng), po = randomParameters(&rng)
            // 16 channels: equal input scales (both input multipliers exactly 1/2).
            let p2 = channels == 16 ? QuantizationParameters(scale: p1.scale, zeroPoint: 7) : randomParameters(&rng)
            let slopes = (0..<channels).map { _ in Float.random(in: -0.3...1.2, using: &rng) }
            let parameters = QuantizedAdd.Parameters(input1: p1, input2: p2, output: po, preluSlopes: slopes)
            XCTAssertEqual(parameters.vbmiPlanes.isEmpty, !Int8KernelPath.hasAVX512VBMI, "add+prelu c\(channels)")
            let count = channels * 997
            let a = randomInt8(count, &rng), b = randomInt8(count, &rng)
            a.withUnsafeBufferPointer { x in
                b.withUnsafeBufferPointer { y in
                    let reference = int8Output(count) { QuantizedAdd.reference(x, y, output: $0, parameters: parameters) }
                    for (name, path, byteTable) in addVariants {
                        let fast = int8Output(count) {
                            QuantizedAdd.fast(x, y, output: $0, parameters: parameters, path: path, byteTable: byteTable)
                        }
                        assertBitExact(fast, reference, count: count, "add+prelu c\(channels) (\(name))")
                    }
                    for i in 0..<count {
                        let sum = p1.scale * Float(Int32(a[i]) - p1.zeroPoint) + p2.scale * Float(Int32(b[i]) - p2.zeroPoint)
                        let real = sum >= 0 ? sum : sum * slopes[i % channels]
                        let ideal = min(max(Float(po.zeroPoint) + real / po.scale, -128), 127)
                        if abs(Float(reference[i]) - ideal) > 1.01 {
                            XCTFail("add+prelu: \(a[i]) + \(b[i]) c\(i % channels) gave \(reference[i]), real \(ideal)"); return
                        }
                    }
                }
            }
        }
    }

    /// ADD with a fused PReLU over every int8 pair (each pair once, cycling to a whole number of pixels): every path
    /// equals the reference. Slopes of both signs, zero, and so small that the negative branch's right shift is 31
    /// or beyond (the AVX-512 loop takes shifts up to 31 and leaves the rest to the AVX2 arithmetic); equal and
    /// unequal input scales; a ReLU6 range (the byte clamp after vpmovsdb), channel counts with a partial last group
    /// of 8, and output scales whose small right shifts make the rounding meet ties of both signs.
    func testAddWithFusedPReLUExhaustive() {
        var rng = SeededGenerator(seed: 0xADDE)
        // Magnitudes 10^-1...10^-12 put some channel's negative right shift at 30, 31 and beyond for any scales here.
        let tinySlopes: [Float] = (1...12).map { (k: Int) -> Float in
            let sign: Float = k % 2 == 0 ? 1 : -1
            return sign * powf(10, -Float(k))
        }
        let slopeSet: [Float] = [-0.3, 0, 0.25, 1.2] + tinySlopes
        var folded: Set<Int32> = []  // the VBMI kernel's choice: output offset folded into the rounding or not
        for (round, channels) in [16, 5, 13, 8, 1, 37, 16, 13].enumerated() {
            // Rounds 6 and 7: input scales 1/16 and output scale 1/8 make every multiplier a power of two times a short
            // fraction (sum S·2^19, output S/2, negative branch S·slope/2 for the dyadic slopes), so the rounding
            // divide meets ties (half-way remainders) of both signs among in-range outputs.
            let dyadic = round >= 6
            let p1 = dyadic ? QuantizationParameters(scale: 0.0625, zeroPoint: 5) : randomParameters(&rng)
            let p2 = round == 0 || round == 3 || dyadic ? QuantizationParameters(scale: p1.scale, zeroPoint: -11) : randomParameters(&rng)
            let po = dyadic ? QuantizationParameters(scale: 0.125, zeroPoint: Int32(round) - 9) : randomParameters(&rng)
            let dyadicSlopes: [Float] = [0.75, 0.5, -0.75, 0.375, 0.625, 1, 0.25, -0.5, 0.875, 0.125, -0.375, 0.1875, 0.0625, 0, -1, 0.5625]
            let slopes = (0..<channels).map { c in
                dyadic ? dyadicSlopes[c] : c < slopeSet.count && round % 2 == 0 ? slopeSet[c] : Float.random(in: -0.4...1.3, using: &rng)
            }
            let activation: FusedActivation = round == 2 || round == 5 || round == 7 ? .relu6 : .none
            let parameters = QuantizedAdd.Parameters(input1: p1, input2: p2, output: po, activation: activation, preluSlopes: slopes)
            if let flag = parameters.vbmiRows.first { folded.insert(flag) }
            let count = (65_536 + channels - 1) / channels * channels
            let a = (0..<count).map { Int8(truncatingIfNeeded: $0) }, b = (0..<count).map { Int8(truncatingIfNeeded: $0 >> 8) }
            a.withUnsafeBufferPointer { x in
                b.withUnsafeBufferPointer { y in
                    let reference = int8Output(count) { QuantizedAdd.reference(x, y, output: $0, parameters: parameters) }
                    for (name, path, byteTable) in addVariants {
                        let fast = int8Output(count) {
                            QuantizedAdd.fast(x, y, output: $0, parameters: parameters, path: path, byteTable: byteTable)
                        }
                        assertBitExact(fast, reference, count: count, "add+prelu exhaustive c\(channels) (\(name))")
                    }
                }
            }
        }
        if Int8KernelPath.hasAVX512VBMI { XCTAssertEqual(folded, [0, 1], "both forms of the VBMI kernel's rounding constants") }
    }

    /// A standalone PReLU whose channels carry arbitrary fixed-point multipliers (any sign, every shift -31...30,
    /// left shifts that wrap) over every int8 input: each kernel path's table-driven epilogue equals the scalar one.
    func testPReLUWithArbitraryMultipliers() {
        var rng = SeededGenerator(seed: 0x9F)
        for channels in [5, 8, 19, 64] {
            func random() -> QuantizedMultiplier {
                QuantizedMultiplier(multiplier: Int.random(in: 0..<8, using: &rng) == 0 ? .min : Int32.random(in: .min ... .max, using: &rng),
                                    shift: Int32.random(in: -31...30, using: &rng))
            }
            let positive = (0..<channels).map { _ in random() }, negative = (0..<channels).map { _ in random() }
            let requantizer = Requantizer(positive: positive, negative: negative, outputZeroPoint: Int32.random(in: -128...127, using: &rng))
            let zeroPoint = Int32.random(in: -128...127, using: &rng)
            let input = (0..<256 * channels).map { Int8(truncatingIfNeeded: $0 / channels) }
            input.withUnsafeBufferPointer { x in
                let reference = int8Output(x.count) { QuantizedPReLU.reference(input: x, inputZeroPoint: zeroPoint, output: $0, requantizer: requantizer) }
                for path in Int8KernelPath.available {
                    let fast = int8Output(x.count) {
                        QuantizedPReLU.fast(input: x, inputZeroPoint: zeroPoint, output: $0, requantizer: requantizer, path: path)
                    }
                    assertBitExact(fast, reference, count: x.count, "prelu arbitrary multipliers c\(channels) (\(path))")
                }
            }
        }
    }

    func testPReLUFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x9E)
        for channels in oddChannels + [37] {
            let pIn = randomParameters(&rng), pOut = randomParameters(&rng)
            let slopes = (0..<channels).map { _ in Float.random(in: -0.3...1.2, using: &rng) }
            let requantizer = Requantizer.prelu(input: pIn, slopes: slopes, output: pOut)
            let count = channels * 53
            let input = randomInt8(count, &rng)
            input.withUnsafeBufferPointer { x in
                let reference = int8Output(count) { QuantizedPReLU.reference(input: x, inputZeroPoint: pIn.zeroPoint, output: $0, requantizer: requantizer) }
                for path in Int8KernelPath.available {
                    let fast = int8Output(count) {
                        QuantizedPReLU.fast(input: x, inputZeroPoint: pIn.zeroPoint, output: $0, requantizer: requantizer, path: path)
                    }
                    assertBitExact(fast, reference, count: count, "prelu c\(channels) (\(path))")
                }
                for i in 0..<count {
                    let v = pIn.scale * Float(Int32(input[i]) - pIn.zeroPoint)
                    let real = v >= 0 ? v : v * slopes[i % channels]
                    let ideal = min(max(Float(pOut.zeroPoint) + real / pOut.scale, -128), 127)
                    XCTAssertLessThanOrEqual(abs(Float(reference[i]) - ideal), 1.01, "prelu \(input[i]) c\(i % channels)")
                }
            }
        }
    }

    /// Channel pads (BlazeFace's residual branch, e.g. 24 → 28), which take the 16-byte row path, and pads of other
    /// dimensions, on odd shapes of rank 1...4; the fast kernel must match the reference and stay inside the output.
    func testPadFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x9AD)
        var cases = 0
        for rank in 1...4 {
            for trial in 0..<40 {
                let shape = (0..<rank).map { d in d == rank - 1 ? Int.random(in: 1...45, using: &rng) : Int.random(in: 1...9, using: &rng) }
                let channelOnly = trial % 2 == 0
                let before = (0..<rank).map { d in channelOnly && d < rank - 1 ? 0 : Int.random(in: 0...5, using: &rng) }
                let after = (0..<rank).map { d in channelOnly && d < rank - 1 ? 0 : Int.random(in: 0...20, using: &rng) }
                let outCount = (0..<rank).map { shape[$0] + before[$0] + after[$0] }.reduce(1, *)
                let value = Int8.random(in: -128...127, using: &rng)
                let input = randomInt8(shape.reduce(1, *), &rng)
                input.withUnsafeBufferPointer { x in
                    let ref = int8Output(outCount) { QuantizedPad.reference(input: x, inputShape: shape, before: before, after: after, value: value, output: $0) }
                    let fast = int8Output(outCount) { QuantizedPad.fast(input: x, inputShape: shape, before: before, after: after, value: value, output: $0) }
                    assertBitExact(fast, ref, count: outCount, "pad \(shape) before \(before) after \(after)")
                }
                cases += 1
            }
        }
        // Known values: [1, 2] padded with one 7 in front and two behind.
        let out = [Int8]([1, 2]).withUnsafeBufferPointer { x in
            int8Output(5) { QuantizedPad.fast(input: x, inputShape: [2], before: [1], after: [2], value: 7, output: $0) }
        }
        XCTAssertEqual(Array(out[..<5]), [7, 1, 2, 7, 7])
        XCTAssertEqual(cases, 160)
    }

    func testPoolingFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x900)
        for (h, w) in oddSizes {
            for (k, s) in [(2, 2), (3, 2), (3, 1), (h, 1)] {
                for padding in [PaddingMode.same, .valid] {
                    guard let window = Window2D(inputHeight: h, inputWidth: w, kernelHeight: k, kernelWidth: k,
                                                strideY: s, strideX: s, padding: padding) else { continue }
                    let c = (oddChannels + [37, 28, 42, 88]).randomElement(using: &rng)!
                    let input = randomInt8(h * w * c, &rng)
                    let range: ClosedRange<Int32> = Bool.random(using: &rng) ? -128...127 : -20...100
                    let count = window.outputHeight * window.outputWidth * c
                    input.withUnsafeBufferPointer { x in
                        let maxRef = int8Output(count) { QuantizedPool2D.maxReference(input: x, output: $0, window: window, channels: c, activationRange: range) }
                        let maxFast = int8Output(count) { QuantizedPool2D.maxFast(input: x, output: $0, window: window, channels: c, activationRange: range) }
                        assertBitExact(maxFast, maxRef, count: count, "max pool \(h)×\(w)×\(c) k\(k) s\(s)")
                        let avgRef = int8Output(count) { QuantizedPool2D.averageReference(input: x, output: $0, window: window, channels: c, activationRange: range) }
                        let avgFast = int8Output(count) { QuantizedPool2D.averageFast(input: x, output: $0, window: window, channels: c, activationRange: range) }
                        assertBitExact(avgFast, avgRef, count: count, "avg pool \(h)×\(w)×\(c) k\(k) s\(s)")
                    }
                }
            }
        }
        // Known values: average of (1, 2, 2, 2) = 1.75 → 2; of (-1, -2, -2, -2) → -2; of (1, 2) = 1.5 → 2; (-1, -2) → -2.
        let window = Window2D(inputHeight: 2, inputWidth: 2, kernelHeight: 2, kernelWidth: 2, strideY: 2, strideX: 2, padding: .valid)!
        for (values, expected) in [([1, 2, 2, 2], 2), ([-1, -2, -2, -2], -2), ([1, 2, 1, 2], 2), ([-1, -2, -1, -2], -2)] as [([Int8], Int8)] {
            values.withUnsafeBufferPointer { x in
                let out = int8Output(1) { QuantizedPool2D.averageReference(input: x, output: $0, window: window, channels: 1) }
                XCTAssertEqual(out[0], expected, "average of \(values)")
            }
        }
    }

    func testResizeFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x2E5)
        let sizes: [(Int, Int, Int, Int)] = [(8, 8, 16, 16), (9, 7, 25, 33), (16, 16, 8, 8), (1, 1, 3, 5), (4, 5, 4, 5), (32, 32, 256, 256)]
        for (ih, iw, oh, ow) in sizes {
            for (align, half) in [(false, false), (true, false), (false, true)] {
                let c = (oddChannels + [37]).randomElement(using: &rng)!
                let g = QuantizedResize.Geometry(inputHeight: ih, inputWidth: iw, outputHeight: oh, outputWidth: ow,
                                                 channels: c, alignCorners: align, halfPixelCenters: half)!
                let input = randomInt8(ih * iw * c, &rng)
                let count = oh * ow * c
                let label = "resize \(ih)×\(iw)→\(oh)×\(ow)×\(c) align \(align) half \(half)"
                input.withUnsafeBufferPointer { x in
                    let bRef = int8Output(count) { QuantizedResize.bilinearReference(input: x, output: $0, geometry: g) }
                    let bFast = int8Output(count) { QuantizedResize.bilinearFast(input: x, output: $0, geometry: g) }
                    assertBitExact(bFast, bRef, count: count, "bilinear " + label)
                    let nRef = int8Output(count) { QuantizedResize.nearestReference(input: x, output: $0, geometry: g) }
                    let nFast = int8Output(count) { QuantizedResize.nearestFast(input: x, output: $0, geometry: g) }
                    assertBitExact(nFast, nRef, count: count, "nearest " + label)
                    // Bilinear output lies between the smallest and largest input of its channel.
                    var lows = [Int8](repeating: 127, count: c), highs = [Int8](repeating: -128, count: c)
                    for i in 0..<input.count { lows[i % c] = min(lows[i % c], input[i]); highs[i % c] = max(highs[i % c], input[i]) }
                    if let i = (0..<count).first(where: { !(lows[$0 % c]...highs[$0 % c]).contains(bRef[$0]) }) {
                        XCTFail("\(label): output \(i) = \(bRef[i]) outside its channel's input range")
                    }
                }
            }
        }
        // Exact 2× with half-pixel centres takes the int16 doubling path: every channel count around its 16-lane
        // steps, odd sizes, and the extreme values (sums of ±2048, ties at ±8).
        for (ih, iw) in [(1, 1), (1, 2), (3, 5), (7, 4), (16, 16)] {
            for c in [1, 3, 15, 16, 17, 24, 31, 37] {
                let g = QuantizedResize.Geometry(inputHeight: ih, inputWidth: iw, outputHeight: 2 * ih, outputWidth: 2 * iw,
                                                 channels: c, halfPixelCenters: true)!
                XCTAssertTrue(g.isHalfPixelDoubling)
                var input = randomInt8(ih * iw * c, &rng)
                if ih * iw > 1 { input[0] = -128; input[c] = 127 }
                let count = 4 * ih * iw * c
                input.withUnsafeBufferPointer { x in
                    let reference = int8Output(count) { QuantizedResize.bilinearReference(input: x, output: $0, geometry: g) }
                    let fast = int8Output(count) { QuantizedResize.bilinearFast(input: x, output: $0, geometry: g) }
                    assertBitExact(fast, reference, count: count, "bilinear 2× \(ih)×\(iw)×\(c)")
                }
            }
        }
        for (step, value) in (-128...127).map(Int8.init).enumerated() where step % 3 == 0 {
            // Two pixels a, b in a row: outputs a, (3a + b)/4, (a + 3b)/4, b hit every rounding tie over the sweep.
            let g = QuantizedResize.Geometry(inputHeight: 1, inputWidth: 2, outputHeight: 2, outputWidth: 4, channels: 1,
                                             halfPixelCenters: true)!
            [value, Int8(truncatingIfNeeded: Int(value) &* 7)].withUnsafeBufferPointer { x in
                let reference = int8Output(8) { QuantizedResize.bilinearReference(input: x, output: $0, geometry: g) }
                let fast = int8Output(8) { QuantizedResize.bilinearFast(input: x, output: $0, geometry: g) }
                assertBitExact(fast, reference, count: 8, "bilinear 2× ties \(value)")
            }
        }
        // Upsampling 2× with half-pixel centres: output pixel 1 sits at input 0.25 → 0.75·a + 0.25·b.
        let g = QuantizedResize.Geometry(inputHeight: 1, inputWidth: 2, outputHeight: 1, outputWidth: 4, channels: 1,
                                         halfPixelCenters: true)!
        [Int8(0), 100].withUnsafeBufferPointer { x in
            let out = int8Output(4) { QuantizedResize.bilinearReference(input: x, output: $0, geometry: g) }
            XCTAssertEqual(Array(out[0..<4]), [0, 25, 75, 100])
        }
    }

    func testConcatFastMatchesReference() {
        var rng = SeededGenerator(seed: 0xCC)
        for pixels in [1, 9 * 7, 18 * 17] {
            let output = randomParameters(&rng)
            let channels = [oddChannels.randomElement(using: &rng)!, 37, 4]
            let rescales = channels.enumerated().map { k, c in
                QuantizedConcat.InputRescale(channels: c, input: k == 1 ? output : randomParameters(&rng), output: output)
            }
            XCTAssertTrue(rescales[1].isIdentity)
            let inputs = channels.map { randomInt8(pixels * $0, &rng) }
            let total = channels.reduce(0, +)
            let stable = inputs.map { input -> UnsafeMutableBufferPointer<Int8> in
                let p = UnsafeMutableBufferPointer<Int8>.allocate(capacity: input.count)
                _ = p.initialize(from: input)
                return p
            }
            defer { stable.forEach { $0.deallocate() } }
            let buffers = stable.map { UnsafeBufferPointer($0) }
            let reference = int8Output(pixels * total) { QuantizedConcat.reference(inputs: buffers, rescales: rescales, pixels: pixels, output: $0) }
            let fast = int8Output(pixels * total) { QuantizedConcat.fast(inputs: buffers, rescales: rescales, pixels: pixels, output: $0) }
            assertBitExact(fast, reference, count: pixels * total, "concat \(pixels) px \(channels)")
            // The identity input is copied exactly.
            for p in 0..<pixels {
                XCTAssertEqual(Array(reference[(p * total + channels[0])..<(p * total + channels[0] + 37)]),
                               Array(inputs[1][(p * 37)..<(p * 37 + 37)]))
            }
        }
    }

    /// Quantize on every tie: with a power-of-two scale `x / scale` is exact, so k/8 with scale 1/4 hits ±0.5,
    /// ±1.5, ±2.5, ... steps (odd and even neighbours, both signs) and runs past the ±512 clamp.
    func testQuantizeFastOnTies() {
        for p in [QuantizationParameters(scale: 0.25, zeroPoint: 3), QuantizationParameters(scale: 1, zeroPoint: -128),
                  QuantizationParameters(scale: 0.125, zeroPoint: 127)] {
            let values = (-5000...5000).map { Float($0) / 8 } + [0.49999997, -0.49999997, 0.50000006, -0.50000006, -0.0]
            values.withUnsafeBufferPointer { x in
                let reference = int8Output(x.count) { QuantizedConversion.quantizeReference(x, output: $0, parameters: p) }
                for path in Int8KernelPath.available {
                    let fast = int8Output(x.count) { QuantizedConversion.quantizeFast(x, output: $0, parameters: p, path: path) }
                    assertBitExact(fast, reference, count: x.count, "quantize ties \(p) \(path)")
                }
            }
        }
    }

    func testQuantizeDequantizeFastMatchReference() {
        var rng = SeededGenerator(seed: 0x0A)
        for _ in 0..<6 {
            let p = randomParameters(&rng)
            var values = randomValues(1001, &rng, range: -60...60)
            values += [.nan, .infinity, -.infinity, 0, p.scale * 0.5, -p.scale * 0.5, p.scale * 2.5, 1e30, -1e30]
            let count = values.count
            values.withUnsafeBufferPointer { x in
                let reference = int8Output(count) { QuantizedConversion.quantizeReference(x, output: $0, parameters: p) }
                for path in Int8KernelPath.available {
                    let fast = int8Output(count) { QuantizedConversion.quantizeFast(x, output: $0, parameters: p, path: path) }
                    assertBitExact(fast, reference, count: count, "quantize \(p) \(path)")
                }
                for i in 0..<1001 {
                    let ideal = min(max(values[i] / p.scale + Float(p.zeroPoint), -128), 127)
                    XCTAssertLessThanOrEqual(abs(Float(reference[i]) - ideal), 0.5001)
                }
                // Ties round away from zero: ±0.5 step → ±1 (before the zero point), 2.5 → 3.
                XCTAssertEqual(Int32(reference[1005]), min(127, p.zeroPoint + 1))
                XCTAssertEqual(Int32(reference[1006]), max(-128, p.zeroPoint - 1))
                XCTAssertEqual(reference[1001], Int8(p.zeroPoint))  // NaN
                XCTAssertEqual(reference[1002], 127)
                XCTAssertEqual(reference[1003], -128)
            }
            let q = (0..<256).map { Int8(truncatingIfNeeded: $0) } + randomInt8(77, &rng)
            q.withUnsafeBufferPointer { x in
                var reference = [Float](repeating: 0, count: q.count), fast = reference
                reference.withUnsafeMutableBufferPointer { QuantizedConversion.dequantizeReference(x, output: $0, parameters: p) }
                for path in Int8KernelPath.available {
                    fast.withUnsafeMutableBufferPointer { QuantizedConversion.dequantizeFast(x, output: $0, parameters: p, path: path) }
                    XCTAssertEqual(fast.map(\.bitPattern), reference.map(\.bitPattern), "dequantize \(p) \(path)")
                }
                // Quantize(dequantize(q)) = q for every int8.
                for i in 0..<256 { XCTAssertEqual(QuantizedConversion.quantize(reference[i], p), q[i]) }
            }
        }
    }

    func testHardSwishTable() {
        var rng = SeededGenerator(seed: 0x45)
        let pIn = QuantizationParameters(scale: 0.05, zeroPoint: -3), pOut = QuantizationParameters(scale: 0.03, zeroPoint: -100)
        let table = Int8LookupTable.hardSwish(input: pIn, output: pOut)
        for q in Int8.min...Int8.max {
            let x = pIn.scale * Float(Int32(q) - pIn.zeroPoint)
            let ideal = min(max(x * min(max(x + 3, 0), 6) / 6 / pOut.scale + Float(pOut.zeroPoint), -128), 127)
            XCTAssertLessThanOrEqual(abs(Float(table.table[Int(q) + 128]) - ideal), 0.5001, "hard-swish \(q)")
        }
        let input = randomInt8(1003, &rng)
        input.withUnsafeBufferPointer { x in
            let reference = int8Output(1003) { table.reference(x, output: $0) }
            for path in Int8KernelPath.available {
                let fast = int8Output(1003) { table.fast(x, output: $0, path: path) }
                assertBitExact(fast, reference, count: 1003, "hard-swish table \(path)")
            }
        }
    }

    /// A table of scrambled values (every 16-entry block differs) looked up at every input, on every path and at
    /// counts around the 32- and 64-value steps.
    func testLookupTableEveryInputEveryPath() {
        var rng = SeededGenerator(seed: 0x46)
        let unit = QuantizationParameters(scale: 1, zeroPoint: 0)
        let table = Int8LookupTable(input: unit, output: unit) { x in Float((Int(x) + 128) &* 157 % 256 - 128) }
        XCTAssertEqual(Set(table.table).count, 256)
        let everyValue = (-128...127).map(Int8.init) + (-128...127).reversed().map(Int8.init)
        let inputs: [[Int8]] = [everyValue, randomInt8(1, &rng), randomInt8(31, &rng), randomInt8(32, &rng), randomInt8(33, &rng),
                               randomInt8(63, &rng), randomInt8(64, &rng), randomInt8(65, &rng), randomInt8(191, &rng)]
        for input in inputs {
            input.withUnsafeBufferPointer { x in
                let reference = int8Output(x.count) { table.reference(x, output: $0) }
                for i in 0..<x.count { XCTAssertEqual(Int(reference[i]), (Int(x[i]) + 128) * 157 % 256 - 128) }
                for path in Int8KernelPath.available {
                    let fast = int8Output(x.count) { table.fast(x, output: $0, path: path) }
                    assertBitExact(fast, reference, count: x.count, "lookup \(path) \(x.count)")
                }
            }
        }
    }

    func testParallelForCoversEveryIndexOnce() {
        for (count, threads) in [(0, 1), (1, 4), (7, 3), (100, 2), (5, 8)] {
            var seen = [Int](repeating: 0, count: count)
            seen.withUnsafeMutableBufferPointer { s in
                ParallelFor.run(count, threads: threads) { k, range in
                    XCTAssertLessThan(k, threads)
                    for i in range { s[i] += 1 }
                }
            }
            XCTAssertEqual(seen, [Int](repeating: 1, count: count), "count \(count) threads \(threads)")
        }
    }
}
