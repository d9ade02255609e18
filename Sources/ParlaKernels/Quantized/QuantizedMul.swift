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

    /// SIMD version, 4 values per step (one multiplier for all lanes), scalar tail per row of `b`; bit-exact with
    /// `reference`. A per-channel `b` over more than `tableMinimumPixels` pixels goes through one 256-entry table per
    /// channel instead (built with the scalar `apply`, so exact by construction): a lookup per value.
    public static func fast(_ a: UnsafeBufferPointer<Int8>, _ b: UnsafeBufferPointer<Int8>,
                            output: UnsafeMutableBufferPointer<Int8>, parameters p: Parameters) {
        checkSizes(a: a.count, b: b.count, output: output.count)
        guard let pa = a.baseAddress, let pb = b.baseAddress, let po = output.baseAddress else { return }
        let period = b.count >= output.count ? output.count : b.count
        if output.count / period > tableMinimumPixels {
            perChannelTables(pa, pb, po, count: output.count, channels: period, parameters: p)
            return
        }
        let z1 = SIMD4<Int32>(repeating: p.input1ZeroPoint), z2 = SIMD4<Int32>(repeating: p.input2ZeroPoint)
        let zo = SIMD4<Int32>(repeating: p.outputZeroPoint)
        let (m, shift) = (p.multiplier.multiplier, p.multiplier.shift)
        var start = 0
        while start < output.count {
            let x = pa + start, y = po + start
            var c = 0
            while c + 4 <= period {
                let va = widen(UnsafeRawPointer(x + c).loadUnaligned(as: SIMD4<Int8>.self)) &- z1
                let vb = widen(UnsafeRawPointer(pb + c).loadUnaligned(as: SIMD4<Int8>.self)) &- z2
                let q = clamped(zo &+ (va &* vb).multipliedByQuantized(uniform: m, shift: shift),
                                p.activationMin, p.activationMax)
                UnsafeMutableRawPointer(y + c).storeBytes(of: narrow(q), as: SIMD4<Int8>.self)
                c += 4
            }
            while c < period {
                y[c] = p.apply(x[c], pb[c])
                c += 1
            }
            start += period
        }
    }

    /// Pixels above which a per-channel MUL builds its tables (256 values per channel) instead of multiplying.
    static let tableMinimumPixels = 512

    /// `y[i] = table[c][x[i]]` with `table[c][v] = apply(v, b[c])`.
    static func perChannelTables(_ x: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, _ y: UnsafeMutablePointer<Int8>,
                                 count: Int, channels: Int, parameters p: Parameters) {
        var tables = [Int8](repeating: 0, count: channels * 256)
        tables.withUnsafeMutableBufferPointer { t in
            for c in 0..<channels {
                for v in 0..<256 { t[c * 256 + v] = p.apply(Int8(truncatingIfNeeded: v - 128), b[c]) }
            }
            let base = t.baseAddress! + 128
            var i = 0
            while i < count {
                var table = base
                for c in 0..<channels {
                    y[i + c] = table[Int(x[i + c])]
                    table += 256
                }
                i += channels
            }
        }
    }

    static func checkSizes(a: Int, b: Int, output: Int) {
        precondition(a >= output, "qmul: input smaller than output")
        precondition(b > 0 && (b >= output || output % b == 0), "qmul: b is neither full size nor one value per channel")
    }
}
