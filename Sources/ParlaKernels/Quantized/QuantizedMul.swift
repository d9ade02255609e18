import CParlaDot

/// Int8 element-wise multiplication, TFLite's MUL int8 semantics: `(a - z1)·(b - z2)` scaled by `s1·s2/s_out`
/// (MultiplyByQuantizedMultiplier), plus the output zero point, clamped to the activation range. `b` is the same
/// size as `a` or one value per channel, broadcast over every pixel (a squeeze-and-excite gate).
public enum QuantizedMul {
    /// Quantization of both inputs and the output, and the derived multiplier.
    public struct Parameters: Sendable, Equatable {
        public let input1ZeroPoint: Int32, input2ZeroPoint: Int32, outputZeroPoint: Int32
        /// s1·s2/s_out, computed in float64 in that order (Tools/lib/quantize.py `mul_multiplier`).
        public let multiplier: QuantizedMultiplier
        public let activationMin: Int32, activationMax: Int32

        public init(input1: QuantizationParameters, input2: QuantizationParameters, output: QuantizationParameters,
                    activation: FusedActivation = .none) {
            input1ZeroPoint = input1.zeroPoint
            input2ZeroPoint = input2.zeroPoint
            outputZeroPoint = output.zeroPoint
            multiplier = QuantizedMultiplier(realScale: Double(input1.scale) * Double(input2.scale) / Double(output.scale))
            let range = output.activationRange(activation)
            activationMin = range.lowerBound
            activationMax = range.upperBound
        }

        @inlinable func apply(_ a: Int8, _ b: Int8) -> Int8 {
            let product = (Int32(a) - input1ZeroPoint) * (Int32(b) - input2ZeroPoint)
            return Int8(min(max(outputZeroPoint &+ multiplier.apply(product), activationMin), activationMax))
        }
    }

    /// Plain scalar reference: `output[i] = mul(a[i], b[i % b.count])`.
    public static func reference(_ a: UnsafeBufferPointer<Int8>, _ b: UnsafeBufferPointer<Int8>,
                                 output: UnsafeMutableBufferPointer<Int8>, parameters: Parameters) {
        checkSizes(a: a.count, b: b.count, output: output.count)
        for i in 0..<output.count { output[i] = parameters.apply(a[i], b[i % b.count]) }
    }

    /// Fast version, bit-exact with `reference`. On x86-64 with AVX2, CParlaQS8's 8-lane kernel (MBQM with `vpmuldq`);
    /// a per-channel `b` over 512 pixels or more is looked up in per-channel tables that kernel computes first.
    /// Elsewhere Swift SIMD, 8 values per step: with `shift ≤ 0` (any MUL whose real multiplier is below 1) the
    /// product's MBQM runs on 32-bit lane multiplies only (`productHighMul`, NEON `mul`), a per-channel `b` read
    /// from a copy repeated past its end so any channel count fills whole vectors; a left shift takes the general
    /// 4-lane MBQM with 64-bit products.
    /// - Parameter path: the implementation (`Int8KernelPath.best` unless a test picks one).
    public static func fast(_ a: UnsafeBufferPointer<Int8>, _ b: UnsafeBufferPointer<Int8>,
                            output: UnsafeMutableBufferPointer<Int8>, parameters p: Parameters,
                            path: Int8KernelPath = .best) {
        checkSizes(a: a.count, b: b.count, output: output.count)
        precondition(Int8KernelPath.isAvailable(path), "qmul: this CPU cannot run \(path)")
        guard let pa = a.baseAddress, let pb = b.baseAddress, let po = output.baseAddress else { return }
        let period = b.count >= output.count ? output.count : b.count
        #if arch(x86_64)
        if path.usesAVX2 {
            var c = parla_qs8_mul(input1_zero_point: p.input1ZeroPoint, input2_zero_point: p.input2ZeroPoint,
                                  output_zero_point: p.outputZeroPoint, multiplier: p.multiplier.multiplier,
                                  shift: p.multiplier.shift, activation_min: p.activationMin,
                                  activation_max: p.activationMax)
            parla_qs8_mul_avx2(pa, pb, po, output.count, period, &c)
            return
        }
        #endif
        if p.multiplier.shift <= 0 {
            narrowProducts(pa, pb, po, count: output.count, period: period, parameters: p)
        } else {
            leftShifted(pa, pb, po, count: output.count, period: period, parameters: p)
        }
    }

    /// The 8-lane Swift path for `shift ≤ 0`.
    static func narrowProducts(_ x: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, _ y: UnsafeMutablePointer<Int8>,
                               count: Int, period: Int, parameters p: Parameters) {
        let split = splitMultiplier(p.multiplier.multiplier), right = -p.multiplier.shift
        let z1 = SIMD8<Int32>(repeating: p.input1ZeroPoint), z2 = SIMD8<Int32>(repeating: p.input2ZeroPoint)
        let zo = SIMD8<Int32>(repeating: p.outputZeroPoint)
        let minimum = SIMD8<Int32>(repeating: p.activationMin), maximum = SIMD8<Int32>(repeating: p.activationMax)
        @inline(__always) func result(_ product: SIMD8<Int32>) -> SIMD8<Int8> {
            let q = zo &+ roundingDivideByPOT(productHighMul(product, split), right)
            return narrow(q.replacing(with: minimum, where: q .< minimum).replacing(with: maximum, where: q .> maximum))
        }
        @inline(__always) func load(_ p: UnsafePointer<Int8>) -> SIMD8<Int32> {
            widen(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Int8>.self))
        }
        var i = 0
        if period == count {
            while i + 8 <= count {
                let product = (load(x + i) &- z1) &* (load(b + i) &- z2)
                UnsafeMutableRawPointer(y + i).storeBytes(of: result(product), as: SIMD8<Int8>.self)
                i += 8
            }
        } else {
            // `gate[k] = b[k % period] - z2` for k < period + 8: eight lanes from any channel are one load.
            let gate = UnsafeMutablePointer<Int32>.allocate(capacity: period + 8)
            defer { gate.deallocate() }
            for k in 0..<(period + 8) { gate[k] = Int32(b[k % period]) - p.input2ZeroPoint }
            var channel = 0
            while i + 8 <= count {
                let product = (load(x + i) &- z1) &* UnsafeRawPointer(gate + channel).loadUnaligned(as: SIMD8<Int32>.self)
                UnsafeMutableRawPointer(y + i).storeBytes(of: result(product), as: SIMD8<Int8>.self)
                channel += 8
                while channel >= period { channel -= period }
                i += 8
            }
        }
        while i < count {
            y[i] = p.apply(x[i], b[i % period])
            i += 1
        }
    }

    /// The general Swift path (a left shift before the multiply): 4 lanes with 64-bit products.
    static func leftShifted(_ x: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, _ y: UnsafeMutablePointer<Int8>,
                            count: Int, period: Int, parameters p: Parameters) {
        let z1 = SIMD4<Int32>(repeating: p.input1ZeroPoint), z2 = SIMD4<Int32>(repeating: p.input2ZeroPoint)
        let zo = SIMD4<Int32>(repeating: p.outputZeroPoint)
        let (m, shift) = (p.multiplier.multiplier, p.multiplier.shift)
        var start = 0
        while start < count {
            let xs = x + start, ys = y + start
            var c = 0
            while c + 4 <= period {
                let va = widen(UnsafeRawPointer(xs + c).loadUnaligned(as: SIMD4<Int8>.self)) &- z1
                let vb = widen(UnsafeRawPointer(b + c).loadUnaligned(as: SIMD4<Int8>.self)) &- z2
                let q = clamped(zo &+ (va &* vb).multipliedByQuantized(uniform: m, shift: shift),
                                p.activationMin, p.activationMax)
                UnsafeMutableRawPointer(ys + c).storeBytes(of: narrow(q), as: SIMD4<Int8>.self)
                c += 4
            }
            while c < period {
                ys[c] = p.apply(xs[c], b[c])
                c += 1
            }
            start += period
        }
    }

    /// `(m >> 16, (m >> 8) & 255, m & 255)` for `productHighMul`.
    static func splitMultiplier(_ m: Int32) -> (high: Int32, middle: Int32, low: Int32) {
        (m &>> 16, (m &>> 8) & 255, m & 255)
    }

    /// `FixedPoint.saturatingRoundingDoublingHighMul(x, m)` for |x| ≤ 255·255 (a MUL product; any m) with 32-bit
    /// products only. SRDHM is `floor((x·m + 2^30) / 2^31)` (see `FixedPoint.roundingDoublingHighMulLanes`); with
    /// `m = 2^16·h + 2^8·d + l` (h signed, 0 ≤ d, l < 256) and `B = x·(2^8·d + l)` that is
    /// `floor((x·h + 2^14 + floor(B / 2^16)) / 2^15)` and `floor(B / 2^16) = (x·d + (x·l >> 8)) >> 8` (floors nest).
    /// |x·h| ≤ 65025·2^15 and the sum stays below 2^31 by more than 2^14 + 65025; |x·d|, |x·l| < 2^24; the
    /// saturating case (x = m = Int32.min) cannot occur.
    @inline(__always)
    static func productHighMul(_ x: Int32, _ split: (high: Int32, middle: Int32, low: Int32)) -> Int32 {
        let rest = (x &* split.middle &+ ((x &* split.low) &>> 8)) &>> 8
        return (x &* split.high &+ rest &+ (1 << 14)) &>> 15
    }

    /// `productHighMul` in 8 lanes.
    @inline(__always)
    static func productHighMul(_ x: SIMD8<Int32>, _ split: (high: Int32, middle: Int32, low: Int32)) -> SIMD8<Int32> {
        let middle = SIMD8<Int32>(repeating: split.middle), low = SIMD8<Int32>(repeating: split.low)
        let rest = (x &* middle &+ ((x &* low) &>> 8)) &>> 8
        return (x &* SIMD8<Int32>(repeating: split.high) &+ rest &+ SIMD8<Int32>(repeating: 1 << 14)) &>> 15
    }

    /// Lane-wise `FixedPoint.roundingDivideByPOT` with one exponent in 0...31.
    @inline(__always)
    static func roundingDivideByPOT(_ v: SIMD8<Int32>, _ exponent: Int32) -> SIMD8<Int32> {
        let mask = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: (Int64(1) << Int64(exponent)) - 1))
        let threshold = (mask &>> 1) &- (v &>> 31)
        let floor = v &>> SIMD8<Int32>(repeating: exponent)
        return floor &- ((threshold &- (v & mask)) &>> 31)
    }

    static func checkSizes(a: Int, b: Int, output: Int) {
        precondition(a >= output, "qmul: input smaller than output")
        precondition(b > 0 && (b >= output || output % b == 0), "qmul: b is neither full size nor one value per channel")
    }
}
