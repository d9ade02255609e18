/// Int8 concatenation along channels (the last dimension) of NHWC tensors with equal pixel counts. An input whose
/// quantization differs from the output's is requantized integer-only: `q = clamp(outZp + MBQM(x - inZp, inScale/outScale))`
/// (TFLite's int8 CONCATENATION requires equal scales; this is its REQUANTIZE rule, so mixed scales stay exact).
public enum QuantizedConcat {
    /// How one input maps to the output scale; computed once at model load.
    public struct InputRescale: Sendable, Equatable {
        /// Input channels (the last dimension).
        public let channels: Int
        public let inputZeroPoint: Int32, outputZeroPoint: Int32
        public let multiplier: QuantizedMultiplier
        /// True when input and output quantization are equal: values are copied.
        public let isIdentity: Bool

        public init(channels: Int, input: QuantizationParameters, output: QuantizationParameters) {
            precondition(channels > 0, "qconcat: channels must be positive")
            self.channels = channels
            inputZeroPoint = input.zeroPoint
            outputZeroPoint = output.zeroPoint
            multiplier = QuantizedMultiplier(realScale: Double(input.scale) / Double(output.scale))
            isIdentity = input == output
        }

        /// One value (the scalar reference formula).
        @inlinable public func apply(_ x: Int8) -> Int8 {
            if isIdentity { return x }
            let q = outputZeroPoint &+ multiplier.apply(Int32(x) - inputZeroPoint)
            return Int8(min(max(q, -128), 127))
        }
    }

    /// Plain scalar reference: `pixels` pixels; input k has `rescales[k].channels` channels.
    public static func reference(inputs: [UnsafeBufferPointer<Int8>], rescales: [InputRescale], pixels: Int,
                                 output: UnsafeMutableBufferPointer<Int8>) {
        let total = checkSizes(inputs: inputs, rescales: rescales, pixels: pixels, output: output.count)
        for p in 0..<pixels {
            var offset = 0
            for (k, r) in rescales.enumerated() {
                for c in 0..<r.channels { output[p * total + offset + c] = r.apply(inputs[k][p * r.channels + c]) }
                offset += r.channels
            }
        }
    }

    /// Fast version: copies rows of identity inputs, requantizes others 4 values per step; bit-exact with `reference`.
    public static func fast(inputs: [UnsafeBufferPointer<Int8>], rescales: [InputRescale], pixels: Int,
                            output: UnsafeMutableBufferPointer<Int8>) {
        let total = checkSizes(inputs: inputs, rescales: rescales, pixels: pixels, output: output.count)
        guard let out = output.baseAddress, pixels > 0 else { return }
        var offset = 0
        for (k, r) in rescales.enumerated() {
            let src = inputs[k].baseAddress!
            if r.isIdentity {
                for p in 0..<pixels { (out + p * total + offset).update(from: src + p * r.channels, count: r.channels) }
            } else {
                let zin = SIMD4<Int32>(repeating: r.inputZeroPoint), zout = SIMD4<Int32>(repeating: r.outputZeroPoint)
                let m = SIMD4<Int32>(repeating: r.multiplier.multiplier), s = SIMD4<Int32>(repeating: r.multiplier.shift)
                for p in 0..<pixels {
                    let x = src + p * r.channels, y = out + p * total + offset
                    var c = 0
                    while c + 4 <= r.channels {
                        let v = widen(UnsafeRawPointer(x + c).loadUnaligned(as: SIMD4<Int8>.self)) &- zin
                        let q = clamped(v.multipliedByQuantized(m, shift: s) &+ zout, -128, 127)
                        storeInt8(q, to: y + c, lanes: 4)
                        c += 4
                    }
                    while c < r.channels { y[c] = r.apply(x[c]); c += 1 }
                }
            }
            offset += r.channels
        }
    }

    static func checkSizes(inputs: [UnsafeBufferPointer<Int8>], rescales: [InputRescale], pixels: Int, output: Int) -> Int {
        precondition(!inputs.isEmpty && inputs.count == rescales.count, "qconcat: one rescale per input")
        precondition(pixels >= 0, "qconcat: negative pixel count")
        for (k, r) in rescales.enumerated() { precondition(inputs[k].count >= pixels * r.channels, "qconcat: input \(k) too small") }
        let total = rescales.reduce(0) { $0 + $1.channels }
        precondition(output >= pixels * total, "qconcat: output too small")
        return total
    }
}
