@testable import ParlaKernels
import ParlaTestSupport
import XCTest

/// Bytes written after every int8 output buffer; a kernel that writes past its output changes them.
let int8Canary: Int8 = 0x5A
let int8CanaryCount = 29

/// Seeded int8 values in `range`.
func randomInt8(_ count: Int, _ rng: inout SeededGenerator, range: ClosedRange<Int8> = -128...127) -> [Int8] {
    (0..<count).map { _ in Int8.random(in: range, using: &rng) }
}

/// Runs `body` on the first `count` bytes of a fresh buffer filled with a marker, followed by a canary;
/// returns the whole buffer (output + canary).
func int8Output(_ count: Int, marker: Int8 = 0x11, _ body: (UnsafeMutableBufferPointer<Int8>) -> Void) -> [Int8] {
    var buffer = [Int8](repeating: marker, count: count) + [Int8](repeating: int8Canary, count: int8CanaryCount)
    buffer.withUnsafeMutableBufferPointer { all in body(UnsafeMutableBufferPointer(rebasing: all[0..<count])) }
    return buffer
}

/// Asserts both buffers' canaries are intact and the outputs are bit-identical; prints the first difference.
func assertBitExact(_ fast: [Int8], _ reference: [Int8], count: Int, _ label: @autoclosure () -> String,
                    file: StaticString = #filePath, line: UInt = #line) {
    for buffer in [fast, reference] {
        XCTAssertTrue(buffer[count...].allSatisfy { $0 == int8Canary }, "\(label()): canary overwritten", file: file, line: line)
    }
    if let i = (0..<count).first(where: { fast[$0] != reference[$0] }) {
        XCTFail("\(label()): value \(i) fast \(fast[i]) vs reference \(reference[i])", file: file, line: line)
    }
}

/// A random requantizer for `channels` channels whose outputs land mostly inside int8 for accumulators of
/// magnitude about `typicalAccumulator`; with `prelu` a random negative-branch multiplier per channel.
func randomRequantizer(channels: Int, typicalAccumulator: Double, prelu: Bool, activation: FusedActivation,
                       rng: inout SeededGenerator) -> Requantizer {
    let output = QuantizationParameters(scale: Float.random(in: 0.02...0.2, using: &rng),
                                        zeroPoint: Int32.random(in: -20...20, using: &rng))
    let inputScale = Float.random(in: 0.01...0.1, using: &rng)
    let target = 100.0 / max(typicalAccumulator, 1)  // real scale that maps a typical accumulator to ~100 steps
    let weightScales = (0..<channels).map { _ in
        Float(target * Double.random(in: 0.3...3, using: &rng) * Double(output.scale) / Double(inputScale))
    }
    let slopes = prelu ? (0..<channels).map { _ in Float.random(in: -0.5...0.9, using: &rng) } : nil
    return Requantizer.convolution(inputScale: inputScale, weightScales: weightScales, output: output,
                                   activation: activation, preluSlopes: slopes)
}
