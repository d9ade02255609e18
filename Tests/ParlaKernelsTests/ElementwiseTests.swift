import ParlaKernels
import ParlaTestSupport
import XCTest

final class ElementwiseTests: XCTestCase {
    private let counts = [1, 7, 8, 9, 63, 9 * 7 * 13, 18 * 17 * 15]

    func testAddFastMatchesReference() {
        var rng = SeededGenerator(seed: 0xADD)
        for count in counts {
            for activation in FusedActivation.allCases {
                let a = randomValues(count, &rng, range: -8...8), b = randomValues(count, &rng, range: -8...8)
                var reference = outputWithCanary(count), fast = outputWithCanary(count)
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        writing(&reference, count: count) { Add.reference(a: pa, b: pb, output: $0, activation: activation) }
                        writing(&fast, count: count) { Add.fast(a: pa, b: pb, output: $0, activation: activation) }
                    }
                }
                assertMatches(fast, reference, count: count, tolerance: 0, "add \(count) \(activation)")
                if activation == .relu6 { XCTAssertTrue(fast[0..<count].allSatisfy { (0...6).contains($0) }) }
            }
        }
    }

    func testActivationFastMatchesReference() {
        var rng = SeededGenerator(seed: 0xAC7)
        for count in counts {
            for activation in FusedActivation.allCases {
                let x = randomValues(count, &rng, range: -9...9)
                var reference = outputWithCanary(count), fast = outputWithCanary(count)
                x.withUnsafeBufferPointer { px in
                    writing(&reference, count: count) { Activation.reference(input: px, output: $0, activation: activation) }
                    writing(&fast, count: count) { Activation.fast(input: px, output: $0, activation: activation) }
                }
                assertMatches(fast, reference, count: count, tolerance: 0, "activation \(count) \(activation)")
            }
        }
        XCTAssertEqual([-2, 0.5, 7].map(FusedActivation.relu6.apply), [0, 0.5, 6])
    }

    func testPReLUFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x9E1)
        for (h, w) in oddSizes {
            for channels in oddChannels {
                let count = h * w * channels
                let x = randomValues(count, &rng), slopes = randomValues(channels, &rng)
                var reference = outputWithCanary(count), fast = outputWithCanary(count)
                x.withUnsafeBufferPointer { px in
                    slopes.withUnsafeBufferPointer { ps in
                        writing(&reference, count: count) { PReLU.reference(input: px, slopes: ps, output: $0, channels: channels) }
                        writing(&fast, count: count) { PReLU.fast(input: px, slopes: ps, output: $0, channels: channels) }
                    }
                }
                assertMatches(fast, reference, count: count, tolerance: 0, "prelu \(h)x\(w)x\(channels)")
            }
        }
    }

    func testPadFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x9AD)
        let cases: [(shape: [Int], before: [Int], after: [Int])] = [
            ([1, 9, 7, 13], [0, 0, 0, 0], [0, 0, 0, 3]),     // channel padding, as in the models
            ([1, 18, 17, 4], [0, 1, 2, 0], [0, 2, 1, 5]),
            ([1, 25, 33, 1], [0, 0, 0, 0], [0, 0, 0, 0]),
            ([2, 3, 5], [1, 0, 2], [0, 4, 1]),
            ([15], [3], [2]),
            ([1, 2, 3, 2, 2], [0, 1, 0, 0, 1], [0, 0, 1, 2, 0]),   // rank 5: the fast path falls back to the reference
        ]
        for (shape, before, after) in cases {
            let outShape = Pad.outputShape(input: shape, before: before, after: after)!
            let count = outShape.reduce(1, *)
            let x = randomValues(shape.reduce(1, *), &rng)
            var reference = outputWithCanary(count), fast = outputWithCanary(count)
            x.withUnsafeBufferPointer { px in
                writing(&reference, count: count) { Pad.reference(input: px, inputShape: shape, before: before, after: after, output: $0) }
                writing(&fast, count: count) { Pad.fast(input: px, inputShape: shape, before: before, after: after, output: $0) }
            }
            assertMatches(fast, reference, count: count, tolerance: 0, "pad \(shape)")
            XCTAssertEqual(reference[0..<count].filter { $0 == 0 }.count, count - x.count, "pad \(shape) zero count")
        }
        XCTAssertNil(Pad.outputShape(input: [2, 2], before: [0, -1], after: [0, 0]))
    }

    func testConcatFastMatchesReference() {
        var rng = SeededGenerator(seed: 0xC0CA)
        let cases: [(shapes: [[Int]], axis: Int)] = [
            ([[1, 512, 1], [1, 384, 1]], 1),
            ([[1, 9, 16], [1, 13, 16], [1, 1, 16]], 1),
            ([[1, 9, 7, 13], [1, 9, 7, 4]], 3),
            ([[2, 3, 5], [1, 3, 5]], 0),
            ([[3, 4, 5], [3, 4, 5]], 2),
        ]
        for (shapes, axis) in cases {
            let outShape = Concat.outputShape(inputs: shapes, axis: axis)!
            let count = outShape.reduce(1, *)
            let values = shapes.map { randomValues($0.reduce(1, *), &rng) }
            var reference = outputWithCanary(count), fast = outputWithCanary(count)
            let pointers: [UnsafeMutableBufferPointer<Float>] = values.map { v in
                let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: v.count)
                _ = p.initialize(from: v)
                return p
            }
            defer { pointers.forEach { $0.deallocate() } }
            let inputs = pointers.map { UnsafeBufferPointer($0) }
            writing(&reference, count: count) { Concat.reference(inputs: inputs, shapes: shapes, axis: axis, output: $0) }
            writing(&fast, count: count) { Concat.fast(inputs: inputs, shapes: shapes, axis: axis, output: $0) }
            assertMatches(fast, reference, count: count, tolerance: 0, "concat \(shapes) axis \(axis)")
        }
        XCTAssertNil(Concat.outputShape(inputs: [[1, 2], [2, 2]], axis: 1))
        XCTAssertNil(Concat.outputShape(inputs: [[1, 2]], axis: 2))
    }

    func testReshapeFastMatchesReference() {
        var rng = SeededGenerator(seed: 0x5E)
        let count = 9 * 7 * 13
        let x = randomValues(count, &rng)
        var reference = outputWithCanary(count), fast = outputWithCanary(count)
        x.withUnsafeBufferPointer { px in
            writing(&reference, count: count) { Reshape.reference(input: px, output: $0) }
            writing(&fast, count: count) { Reshape.fast(input: px, output: $0) }
        }
        assertMatches(fast, reference, count: count, tolerance: 0, "reshape")
        XCTAssertEqual(Array(fast[0..<count]), x)
    }
}
