/// Int8 image resize over NHWC (batch 1), TFLite semantics; input and output share scale and zero point.
/// Bilinear is TFLite's `ResizeBilinearInteger` (10-bit fixed-point coordinates, int64 weighted sum, round half
/// away from zero at 2^20); nearest is TFLite's `ResizeNearestNeighbor` coordinate rule.
public enum QuantizedResize {
    /// Input/output geometry and coordinate convention of one resize.
    public struct Geometry: Sendable, Equatable {
        public let inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int, channels: Int
        public let alignCorners: Bool, halfPixelCenters: Bool

        /// Nil if a size is not positive or larger than 2^20 (keeps the 10-bit fixed point exact).
        public init?(inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int, channels: Int,
                     alignCorners: Bool = false, halfPixelCenters: Bool = false) {
            let limit = 1 << 20
            guard [inputHeight, inputWidth, outputHeight, outputWidth, channels].allSatisfy({ (1...limit).contains($0) }),
                  !(alignCorners && halfPixelCenters) else { return nil }
            self.inputHeight = inputHeight
            self.inputWidth = inputWidth
            self.outputHeight = outputHeight
            self.outputWidth = outputWidth
            self.channels = channels
            self.alignCorners = alignCorners
            self.halfPixelCenters = halfPixelCenters
        }

        var inputCount: Int { inputHeight * inputWidth * channels }
        var outputCount: Int { outputHeight * outputWidth * channels }

        /// TFLite's 10-bit scale `input/output` (or `(input-1)/(output-1)` with aligned corners).
        func scale10(_ input: Int, _ output: Int) -> Int32 {
            if alignCorners && output > 1 { return Int32(((1 << 10) * (input - 1) + (output - 1) / 2) / (output - 1)) }
            return Int32(((1 << 10) * input + output / 2) / output)
        }

        /// TFLite `ComputeInterpolationValuesInteger`: the scaled coordinate (×1024) and the two source indices.
        func interpolation(_ value: Int, scale10: Int32, inputSize: Int) -> (scaled: Int32, lower: Int, upper: Int) {
            let v = Int32(value)
            let scaled = halfPixelCenters ? v * scale10 + scale10 / 2 - (1 << 9) : v * scale10
            let lower = max(scaled / (1 << 10), 0)
            let upper = min((scaled + (1 << 10) - 1) / (1 << 10), Int32(inputSize - 1))
            return (scaled, Int(lower), Int(upper))
        }

        /// TFLite `GetNearestNeighbor` (single-precision float, as TFLite computes it).
        func nearest(_ value: Int, inputSize: Int, outputSize: Int) -> Int {
            let scale: Float = alignCorners && outputSize > 1 ? Float(inputSize - 1) / Float(outputSize - 1)
                                                              : Float(inputSize) / Float(outputSize)
            let offset: Float = halfPixelCenters ? 0.5 : 0
            let position = (Float(value) + offset) * scale
            var index = alignCorners ? Int(position.rounded(.toNearestOrAwayFromZero)) : Int(position.rounded(.down))
            index = min(index, inputSize - 1)
            return halfPixelCenters ? max(0, index) : index
        }
    }

    /// Plain scalar bilinear reference.
    public static func bilinearReference(input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>,
                                         geometry g: Geometry) {
        precondition(input.count >= g.inputCount && output.count >= g.outputCount, "qresize: buffers too small")
        let sy = g.scale10(g.inputHeight, g.outputHeight), sx = g.scale10(g.inputWidth, g.outputWidth)
        let c = g.channels, one: Int64 = 1 << 10
        for y in 0..<g.outputHeight {
            let (iy, y0, y1) = g.interpolation(y, scale10: sy, inputSize: g.inputHeight)
            for x in 0..<g.outputWidth {
                let (ix, x0, x1) = g.interpolation(x, scale10: sx, inputSize: g.inputWidth)
                let fy = Int64(iy) - one * Int64(y0), fx = Int64(ix) - one * Int64(x0)
                for ch in 0..<c {
                    func at(_ yy: Int, _ xx: Int) -> Int64 { Int64(input[(yy * g.inputWidth + xx) * c + ch]) }
                    let sum: Int64 = at(y0, x0) * (one - fy) * (one - fx) + at(y1, x0) * fy * (one - fx)
                        + at(y0, x1) * (one - fy) * fx + at(y1, x1) * fy * fx
                    let round: Int64 = sum > 0 ? 1 << 19 : -(1 << 19)
                    output[(y * g.outputWidth + x) * c + ch] = Int8(truncatingIfNeeded: (sum + round) / (1 << 20))
                }
            }
        }
    }

    /// Plain scalar nearest-neighbour reference.
    public static func nearestReference(input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>,
                                        geometry g: Geometry) {
        precondition(input.count >= g.inputCount && output.count >= g.outputCount, "qresize: buffers too small")
        for y in 0..<g.outputHeight {
            let iy = g.nearest(y, inputSize: g.inputHeight, outputSize: g.outputHeight)
            for x in 0..<g.outputWidth {
                let ix = g.nearest(x, inputSize: g.inputWidth, outputSize: g.outputWidth)
                for ch in 0..<g.channels {
                    output[(y * g.outputWidth + x) * g.channels + ch] = input[(iy * g.inputWidth + ix) * g.channels + ch]
                }
            }
        }
    }

    /// SIMD bilinear: the fractions lie in -512...1023 (negative only at half-pixel borders), so each corner
    /// weight is below 1536² in magnitude and `Σ x·w` stays below 2^30: int32 lanes suffice, 8 channels per step.
    /// Bit-exact with
    /// `bilinearReference`.
    public static func bilinearFast(input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>,
                                    geometry g: Geometry) {
        precondition(input.count >= g.inputCount && output.count >= g.outputCount, "qresize: buffers too small")
        guard let src = input.baseAddress, let dst = output.baseAddress else { return }
        let sy = g.scale10(g.inputHeight, g.outputHeight), sx = g.scale10(g.inputWidth, g.outputWidth)
        let c = g.channels, one: Int32 = 1 << 10
        for y in 0..<g.outputHeight {
            let (iy, y0, y1) = g.interpolation(y, scale10: sy, inputSize: g.inputHeight)
            let fy = iy - one * Int32(y0)
            for x in 0..<g.outputWidth {
                let (ix, x0, x1) = g.interpolation(x, scale10: sx, inputSize: g.inputWidth)
                let fx = ix - one * Int32(x0)
                let w00 = (one - fy) * (one - fx), w10 = fy * (one - fx), w01 = (one - fy) * fx, w11 = fy * fx
                let p00 = src + (y0 * g.inputWidth + x0) * c, p10 = src + (y1 * g.inputWidth + x0) * c
                let p01 = src + (y0 * g.inputWidth + x1) * c, p11 = src + (y1 * g.inputWidth + x1) * c
                let out = dst + (y * g.outputWidth + x) * c
                var ch = 0
                while ch + 8 <= c {
                    @inline(__always) func load(_ p: UnsafePointer<Int8>) -> SIMD8<Int32> {
                        widen(UnsafeRawPointer(p + ch).loadUnaligned(as: SIMD8<Int8>.self))
                    }
                    let sum = load(p00) &* w00 &+ load(p10) &* w10 &+ load(p01) &* w01 &+ load(p11) &* w11
                    let half = SIMD8<Int32>(repeating: 1 << 19)
                    let biased = sum &+ half.replacing(with: -(1 << 19), where: .!(sum .> SIMD8<Int32>()))
                    // Division by 2^20 truncating toward zero: shift the magnitude.
                    let negative = biased .< SIMD8<Int32>()
                    let magnitude = (SIMD8<Int32>() &- biased).replacing(with: biased, where: .!negative) &>> 20
                    let q = (SIMD8<Int32>() &- magnitude).replacing(with: magnitude, where: .!negative)
                    UnsafeMutableRawPointer(out + ch).storeBytes(of: narrow(q), as: SIMD8<Int8>.self)
                    ch += 8
                }
                while ch < c {
                    let sum = Int32(p00[ch]) * w00 + Int32(p10[ch]) * w10 + Int32(p01[ch]) * w01 + Int32(p11[ch]) * w11
                    out[ch] = Int8(truncatingIfNeeded: (sum + (sum > 0 ? 1 << 19 : -(1 << 19))) / (1 << 20))
                    ch += 1
                }
            }
        }
    }

    /// Nearest neighbour by whole-pixel copies; bit-exact with `nearestReference`.
    public static func nearestFast(input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>,
                                   geometry g: Geometry) {
        precondition(input.count >= g.inputCount && output.count >= g.outputCount, "qresize: buffers too small")
        guard let src = input.baseAddress, let dst = output.baseAddress else { return }
        let c = g.channels
        for y in 0..<g.outputHeight {
            let iy = g.nearest(y, inputSize: g.inputHeight, outputSize: g.outputHeight)
            for x in 0..<g.outputWidth {
                let ix = g.nearest(x, inputSize: g.inputWidth, outputSize: g.outputWidth)
                (dst + (y * g.outputWidth + x) * c).update(from: src + (iy * g.inputWidth + ix) * c, count: c)
            }
        }
    }
}
