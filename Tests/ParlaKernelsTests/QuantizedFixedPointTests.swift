@testable import ParlaKernels
import CParlaDot
import ParlaTestSupport
import XCTest

final class QuantizedFixedPointTests: XCTestCase {
    func testQuantizeMultiplierKnownVectors() {
        let cases: [(Double, Int32, Int32)] = [
            (0.5, 1 << 30, 0), (1.0, 1 << 30, 1), (0.25, 1 << 30, -1), (0.75, 1_610_612_736, 0),
            (0, 0, 0), (1e-12, 0, 0), (-0.5, -(1 << 30), 0),
            // 0.1 = 0.8·2^-3; 0.8·2^31 = 1717986918.4 → 1717986918.
            (0.1, 1_717_986_918, -3),
            // Rounds up to 2^31 and renormalizes: (1 - 2^-40) → 2^30 with shift 1.
            (1 - 0x1p-40, 1 << 30, 1),
        ]
        for (real, multiplier, shift) in cases {
            let m = QuantizedMultiplier(realScale: real)
            XCTAssertEqual(m.multiplier, multiplier, "multiplier of \(real)")
            XCTAssertEqual(m.shift, shift, "shift of \(real)")
        }
        let huge = QuantizedMultiplier(realScale: 1e12)
        XCTAssertEqual(huge.shift, 30)
        XCTAssertEqual(huge.multiplier, Int32.max)
    }

    func testFixedPointKnownVectors() {
        XCTAssertEqual(FixedPoint.saturatingRoundingDoublingHighMul(.min, .min), .max)
        XCTAssertEqual(FixedPoint.saturatingRoundingDoublingHighMul(1 << 30, 1 << 30), 1 << 29)
        // Ties go up (gemmlowp's nudge with truncating division): 1.5 → 2, -1.5 → -1, -0.5 → 0.
        XCTAssertEqual(FixedPoint.saturatingRoundingDoublingHighMul(3, 1 << 30), 2)
        XCTAssertEqual(FixedPoint.saturatingRoundingDoublingHighMul(-3, 1 << 30), -1)
        XCTAssertEqual(FixedPoint.saturatingRoundingDoublingHighMul(-1, 1 << 30), 0)
        XCTAssertEqual(FixedPoint.saturatingRoundingDoublingHighMul(-5, 1 << 30), -2)
        let divisions: [(Int32, Int32, Int32)] = [(5, 1, 3), (-5, 1, -3), (3, 1, 2), (-3, 1, -2), (4, 1, 2), (7, 2, 2),
                                                  (-6, 2, -2), (-7, 2, -2), (.max, 31, 1), (.min, 31, -1), (9, 0, 9)]
        for (x, e, expected) in divisions {
            XCTAssertEqual(FixedPoint.roundingDivideByPOT(x, e), expected, "\(x) / 2^\(e)")
        }
        // 100 · 0.75 = 75; 101 · 0.75 = 75.75 → 76; with shift -2: 101 · 0.1875 = 18.9375 → 19.
        XCTAssertEqual(QuantizedMultiplier(realScale: 0.75).apply(100), 75)
        XCTAssertEqual(QuantizedMultiplier(realScale: 0.75).apply(101), 76)
        XCTAssertEqual(QuantizedMultiplier(realScale: 0.1875).apply(101), 19)
        XCTAssertEqual(QuantizedMultiplier(realScale: 3.0).apply(-7), -21)
    }

    /// MBQM against a Double reference: within 1 LSB of round(x · real) over random values and scales.
    func testMultiplierMatchesDoubleWithinOneStep() {
        var rng = SeededGenerator(seed: 0xF1_ED)
        var worst = 0.0
        for _ in 0..<20_000 {
            let real = Double.random(in: -20...20, using: &rng) < 0 ? -exp(Double.random(in: -14...2, using: &rng))
                                                                    : exp(Double.random(in: -14...2, using: &rng))
            let x = Int32.random(in: -(1 << 20)...(1 << 20), using: &rng)
            let got = Double(QuantizedMultiplier(realScale: real).apply(x))
            let error = abs(got - Double(x) * real)
            worst = max(worst, error)
            XCTAssertLessThanOrEqual(error, 1.0, "x \(x) scale \(real)")
        }
        XCTAssertGreaterThan(worst, 0.3)  // the test exercises rounding, not only exact products
    }

    /// The SIMD multiply agrees with the scalar one everywhere, including the saturating and extreme cases.
    func testSIMDMultiplyMatchesScalar() {
        var rng = SeededGenerator(seed: 44)
        let specials: [Int32] = [.min, .max, 0, 1, -1, 1 << 30, -(1 << 30)]
        for _ in 0..<20_000 {
            var x = SIMD4<Int32>(), m = SIMD4<Int32>(), s = SIMD4<Int32>()
            for l in 0..<4 {
                x[l] = Bool.random(using: &rng) ? specials.randomElement(using: &rng)! : Int32.random(in: .min ... .max, using: &rng)
                m[l] = Bool.random(using: &rng) ? specials.randomElement(using: &rng)! : Int32.random(in: .min ... .max, using: &rng)
                s[l] = Int32.random(in: -31...30, using: &rng)
                if s[l] > 0 { x[l] >>= s[l] }  // keep the left shift in range, as in real use
            }
            let v = x.multipliedByQuantized(m, shift: s)
            let u = x.multipliedByQuantized(uniform: m[0], shift: s[0])
            for l in 0..<4 {
                XCTAssertEqual(u[l], FixedPoint.multiplyByQuantizedMultiplier(x[l], m[0], s[0]), "uniform x \(x[l]) m \(m[0]) s \(s[0])")
                XCTAssertEqual(v[l], FixedPoint.multiplyByQuantizedMultiplier(x[l], m[l], s[l]), "x \(x[l]) m \(m[l]) s \(s[l])")
            }
        }
    }

    /// ADD's input scaling with 32-bit products equals SRDHM(v << 20, m) for every v in −256...256 and random and
    /// extreme multipliers (both signs, low 11 bits all zero or all one), scalar and lane-wise.
    func testShiftedInputHighMulMatchesScalar() {
        var rng = SeededGenerator(seed: 0x5111)
        var multipliers: [Int32] = [.min, .max, 0, 1, -1, 2047, -2048, 1 << 30, -(1 << 30), (1 << 30) + 1023, (1 << 30) + 1024,
                                    Int32.max - 2047, Int32.min + 2047]
        for _ in 0..<2_000 { multipliers.append(Int32.random(in: .min ... .max, using: &rng)) }
        for m in multipliers {
            let split = FixedPoint.splitMultiplier(m)
            var v: Int32 = -256
            while v <= 256 {
                let lanes = SIMD4<Int32>(v, min(v + 1, 256), min(v + 2, 256), min(v + 3, 256))
                let fast = lanes.shiftedInputHighMul(uniform: split)
                for l in 0..<4 {
                    let expected = FixedPoint.saturatingRoundingDoublingHighMul(lanes[l] << 20, m)
                    XCTAssertEqual(FixedPoint.shiftedInputHighMul(lanes[l], split: split), expected, "v \(lanes[l]) m \(m)")
                    if fast[l] != expected { XCTFail("lanes: v \(lanes[l]) m \(m)"); return }
                }
                v += 4
            }
        }
    }

    /// The vector building blocks and the whole multiply agree with the scalar forms over random and extreme
    /// (value, multiplier, shift), with no range restriction on the value (the left shift wraps in both forms),
    /// including `Int32.min · Int32.min` (saturation) and exact ties of both roundings.
    func testVectorRequantizerMatchesScalarOnExtremes() {
        var rng = SeededGenerator(seed: 2026)
        let specials: [Int32] = [.min, .min + 1, .max, .max - 1, 0, 1, -1, 2, -2, 3, -3, 1 << 30, -(1 << 30),
                                 (1 << 30) + 1, -(1 << 30) - 1, 1 << 15, -(1 << 15), 0x4000_0001, 1_717_986_918]
        func pick(_ rng: inout SeededGenerator) -> Int32 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return specials.randomElement(using: &rng)!
            case 1: return Int32.random(in: -70_000...70_000, using: &rng)  // accumulator-sized
            case 2: return Int32(truncatingIfNeeded: Int64(Int32.random(in: -4...4, using: &rng)) << Int.random(in: 0...31, using: &rng))
            default: return Int32.random(in: .min ... .max, using: &rng)
            }
        }
        var saturating = 0
        for _ in 0..<100_000 {
            var x = SIMD4<Int32>(), m = SIMD4<Int32>(), s = SIMD4<Int32>(), e = SIMD4<Int32>()
            for l in 0..<4 {
                x[l] = pick(&rng); m[l] = pick(&rng)
                s[l] = Int32.random(in: -31...30, using: &rng); e[l] = Int32.random(in: 0...31, using: &rng)
            }
            if Int.random(in: 0..<16, using: &rng) == 0 { x[1] = .min; m[1] = .min }
            let h = FixedPoint.roundingDoublingHighMulLanes(x, m)
            let d = FixedPoint.roundingDivideByPOTLanes(x, e)
            let v = x.multipliedByQuantized(m, shift: s)
            let u = x.multipliedByQuantized(uniform: m[0], shift: s[0])
            for l in 0..<4 {
                XCTAssertEqual(u[l], FixedPoint.multiplyByQuantizedMultiplier(x[l], m[0], s[0]), "uniform x \(x[l]) m \(m[0]) s \(s[0])")
                if x[l] == .min && m[l] == .min { saturating += 1 }
                XCTAssertEqual(h[l], FixedPoint.saturatingRoundingDoublingHighMul(x[l], m[l]), "highMul \(x[l]) \(m[l])")
                XCTAssertEqual(d[l], FixedPoint.roundingDivideByPOT(x[l], e[l]), "divide \(x[l]) by 2^\(e[l])")
                XCTAssertEqual(v[l], FixedPoint.multiplyByQuantizedMultiplier(x[l], m[l], s[l]), "x \(x[l]) m \(m[l]) s \(s[l])")
            }
        }
        XCTAssertGreaterThan(saturating, 1000, "the saturating case must be exercised")
    }

    /// The AVX2 kernels' 8-lane MBQM (CParlaQS8) against the scalar form on the same extremes: every shift, ties,
    /// wrapping left shifts and Int32.min². Runs where the CPU has AVX2 (this x86-64 machine does).
    func testAVX2MultiplyMatchesScalarOnExtremes() throws {
        #if arch(x86_64)
        try XCTSkipUnless(Int8KernelPath.isAvailable(.avx2), "no AVX2 on this CPU")
        var rng = SeededGenerator(seed: 2027)
        let specials: [Int32] = [.min, .min + 1, .max, .max - 1, 0, 1, -1, 2, -2, 3, -3, 1 << 30, -(1 << 30),
                                 (1 << 30) + 1, -(1 << 30) - 1, 1 << 15, -(1 << 15), 0x4000_0001, 1_717_986_918]
        func pick(_ rng: inout SeededGenerator) -> Int32 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return specials.randomElement(using: &rng)!
            case 1: return Int32.random(in: -70_000...70_000, using: &rng)
            case 2: return Int32(truncatingIfNeeded: Int64(Int32.random(in: -4...4, using: &rng)) << Int.random(in: 0...31, using: &rng))
            default: return Int32.random(in: .min ... .max, using: &rng)
            }
        }
        let n = 400_003  // not a multiple of 8: the partial last group is checked too
        var x = [Int32](), m = [Int32](), s = [Int32]()
        for i in 0..<n {
            if i % 17 == 0 { x.append(.min); m.append(.min) } else { x.append(pick(&rng)); m.append(pick(&rng)) }
            s.append(Int32.random(in: -31...30, using: &rng))
        }
        var out = [Int32](repeating: 0x5A5A_5A5A, count: n + 1)
        parla_qs8_mbqm_avx2(x, m, s, &out, n)
        for i in 0..<n where out[i] != FixedPoint.multiplyByQuantizedMultiplier(x[i], m[i], s[i]) {
            XCTFail("x \(x[i]) m \(m[i]) s \(s[i]): avx2 \(out[i]) vs \(FixedPoint.multiplyByQuantizedMultiplier(x[i], m[i], s[i]))")
            return
        }
        XCTAssertEqual(out[n], 0x5A5A_5A5A, "wrote past the end")
        #else
        throw XCTSkip("x86-64 only")
        #endif
    }

    /// TFLite's activation ranges for ReLU and ReLU6.
    func testActivationRange() {
        let q = QuantizationParameters(scale: 0.05, zeroPoint: -10)
        XCTAssertEqual(q.activationRange(.none), -128...127)
        XCTAssertEqual(q.activationRange(.relu), -10...127)
        XCTAssertEqual(q.activationRange(.relu6), -10...110)
    }

    /// Every int8 input through a requantizer with PReLU: the SIMD epilogue equals the scalar one.
    func testRequantizerSIMDMatchesScalarExhaustively() {
        var rng = SeededGenerator(seed: 9)
        let requantizer = randomRequantizer(channels: 4, typicalAccumulator: 3000, prelu: true, activation: .relu6, rng: &rng)
        requantizer.withTables { pm, ps, nm, ns in
            for base in stride(from: -40_000, to: 40_000, by: 4) {
                let v = SIMD4<Int32>(Int32(base), Int32(base + 1), Int32(base + 2) * 7, Int32(base + 3) * -3)
                let q = requantizer.apply(v, channel: 0, pm: pm, ps: ps, nm: nm, ns: ns)
                for l in 0..<4 { XCTAssertEqual(Int8(q[l]), requantizer.apply(v[l], channel: l)) }
            }
        }
    }
}
