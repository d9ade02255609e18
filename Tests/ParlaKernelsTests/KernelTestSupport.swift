import ParlaKernels
import ParlaTestSupport
import XCTest

/// Values written after every output buffer; a kernel that writes past its output changes them.
let canaryValue = Float(bitPattern: 0x7FC0_BEEF)
let canaryCount = 37

/// Seeded uniform values in -1...1.
func randomValues(_ count: Int, _ rng: inout SeededGenerator, range: ClosedRange<Float> = -1...1) -> [Float] {
    (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// An output buffer of `count` values (filled with NaN so unwritten values fail comparisons) followed by a canary.
func outputWithCanary(_ count: Int) -> [Float] {
    [Float](repeating: .nan, count: count) + [Float](repeating: canaryValue, count: canaryCount)
}

/// Runs `body` on the first `count` values of `buffer` (the canary stays outside the pointer's range but
/// inside the allocation, so an overrun lands on it).
func writing(_ buffer: inout [Float], count: Int, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
    buffer.withUnsafeMutableBufferPointer { all in
        body(UnsafeMutableBufferPointer(rebasing: all[0..<count]))
    }
}

/// Asserts the canary after `count` values is intact and the first `count` values match within tolerance.
func assertMatches(_ fast: [Float], _ reference: [Float], count: Int, tolerance: Float = 1e-5,
                   _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    for buffer in [fast, reference] {
        let canary = buffer[count...]
        XCTAssertTrue(canary.allSatisfy { $0.bitPattern == canaryValue.bitPattern },
                      "\(label): canary after the output was overwritten", file: file, line: line)
    }
    var worst: Float = 0
    var worstIndex = 0
    for i in 0..<count {
        let error = abs(fast[i] - reference[i]) / max(1, abs(reference[i]))
        if !(error <= worst) { worst = error.isNaN ? .infinity : error; worstIndex = i }
    }
    XCTAssertLessThanOrEqual(worst, tolerance,
                             "\(label): value \(worstIndex) fast \(fast[worstIndex]) vs reference \(reference[worstIndex])",
                             file: file, line: line)
}

/// Odd image sizes the kernel tests sweep.
let oddSizes: [(height: Int, width: Int)] = [(9, 7), (18, 17), (25, 33), (1, 1), (3, 3), (2, 5)]
/// Channel counts the kernel tests sweep (below, at and around the SIMD width).
let oddChannels = [1, 4, 13, 15, 16, 24]
