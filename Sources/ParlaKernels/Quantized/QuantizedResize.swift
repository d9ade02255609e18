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

        /// Exactly 2× on both axes with half-pixel centres (the segmentation decoder's upsampling).
        var isHalfPixelDoubling: Bool {
            halfPixelCenters && outputHeight == 2 * inputHeight && outputWidth == 2 * inputWidth
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
        if g.isHalfPixelDoubling {
            bilinearDoubling(src, dst, geometry: g)
            return
        }
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

    /// Bilinear 2× upsampling with half-pixel centres in int16 lanes, bit-exact with `bilinearReference`.
    ///
    /// With `output = 2·input` the 10-bit scale is exactly 512, so output index `2k` sits at input `k - 1/4`
    /// (TFLite's indices `k - 1, k` with fraction 768; at `k = 0` indices `0, 0` with fraction -256) and `2k + 1` at
    /// `k + 1/4` (indices `k, k + 1` with fraction 256; the upper index clamped at the last pixel). Along each axis the
    /// weights are therefore 256·(1, 3) or 256·(3, 1) on the neighbours, the border neighbour replicated (1280 - 256 on
    /// one pixel is 256·(1 + 3) too). The 2-D sum is `2^16·S` with `S = Σ aᵧ·aₓ·x`, `aᵧ, aₓ ∈ {1, 3}` (weights
    /// summing to 16, |S| ≤ 2048), and TFLite's `(sum ± 2^19) / 2^20` (truncating) is `sign(S)·((|S| + 8) >> 4)`.
    /// S is computed separably: `V = r₀ + 3·r₁` over the two input rows, then `V[j-1] + 3·V[j]` and
    /// `3·V[j] + V[j+1]` across pixels (borders replicated), 16 int16 lanes per step.
    static func bilinearDoubling(_ src: UnsafePointer<Int8>, _ dst: UnsafeMutablePointer<Int8>, geometry g: Geometry) {
        let c = g.channels, iw = g.inputWidth, ih = g.inputHeight
        let row = iw * c
        // The vertical sums of one output row with one replicated pixel on each side: V[-1] = V[0], V[iw] = V[iw-1].
        let padded = UnsafeMutablePointer<Int16>.allocate(capacity: row + 2 * c + 16)
        defer { padded.deallocate() }
        let v = padded + c
        for y in 0..<g.outputHeight {
            let k = y >> 1
            // Even rows: rows k-1 (weight 1) and k (weight 3); odd rows: k (3) and k+1 (1); borders replicated.
            let (near, far) = y & 1 == 0 ? (k, Swift.max(k - 1, 0)) : (k, Swift.min(k + 1, ih - 1))
            verticalSums(src + near * row, src + far * row, v, count: row)
            (v - c).update(from: v, count: c)
            (v + row).update(from: v + row - c, count: c)
            let out = dst + y * 2 * row
            if c >= 16 {
                for j in 0..<iw {
                    let p = v + j * c, o = out + 2 * j * c
                    var ch = 0
                    while ch < c {
                        let s = Swift.min(ch, c - 16)  // the last step overlaps the previous one: same values again
                        let centre = load16(p + s), left = load16(p + s - c), right = load16(p + s + c)
                        let three: SIMD16<Int16> = centre &+ centre &+ centre
                        store(roundedSixteenth(left &+ three), o + s)
                        store(roundedSixteenth(three &+ right), o + c + s)
                        ch = s + 16
                    }
                }
            } else {
                for j in 0..<iw {
                    let p = v + j * c, o = out + 2 * j * c
                    for ch in 0..<c {
                        let three = 3 * Int32(p[ch])
                        o[ch] = roundedSixteenth(Int32(p[ch - c]) + three)
                        o[c + ch] = roundedSixteenth(three + Int32(p[ch + c]))
                    }
                }
            }
        }
    }

    /// `v[i] = 3·near[i] + far[i]` in int16.
    @inline(__always) private static func verticalSums(_ near: UnsafePointer<Int8>, _ far: UnsafePointer<Int8>,
                                                       _ v: UnsafeMutablePointer<Int16>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let a = widen(UnsafeRawPointer(near + i).loadUnaligned(as: SIMD16<Int8>.self))
            let b = widen(UnsafeRawPointer(far + i).loadUnaligned(as: SIMD16<Int8>.self))
            UnsafeMutableRawPointer(v + i).storeBytes(of: a &+ a &+ a &+ b, as: SIMD16<Int16>.self)
            i += 16
        }
        while i < count {
            v[i] = 3 * Int16(near[i]) + Int16(far[i])
            i += 1
        }
    }

    /// `sign(s)·((|s| + 8) >> 4)`, narrowed to int8 (|s| ≤ 2048).
    @inline(__always) private static func roundedSixteenth(_ s: SIMD16<Int16>) -> SIMD16<Int8> {
        let negative = s &>> 15
        let magnitude = ((s ^ negative) &- negative &+ 8) &>> 4
        return narrow((magnitude ^ negative) &- negative)
    }

    @inline(__always) private static func load16(_ p: UnsafePointer<Int16>) -> SIMD16<Int16> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int16>.self)
    }

    @inline(__always) private static func roundedSixteenth(_ s: Int32) -> Int8 {
        Int8(truncatingIfNeeded: s < 0 ? -((8 - s) >> 4) : (s + 8) >> 4)
    }

    @inline(__always) private static func store(_ v: SIMD16<Int8>, _ p: UnsafeMutablePointer<Int8>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Int8>.self)
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

// Int8 ↔ int16 lane conversions, lane by lane (the generic `SIMDn(truncatingIfNeeded:)` is an out-of-line call in
// Swift 6, see SIMDLanes.swift); LLVM turns these into vector sign extensions and packs.

@inline(__always) private func widen(_ v: SIMD4<Int8>) -> SIMD4<Int16> {
    SIMD4(Int16(v[0]), Int16(v[1]), Int16(v[2]), Int16(v[3]))
}

@inline(__always) private func widen(_ v: SIMD16<Int8>) -> SIMD16<Int16> {
    let low = SIMD8<Int16>(lowHalf: widen(v.lowHalf.lowHalf), highHalf: widen(v.lowHalf.highHalf))
    let high = SIMD8<Int16>(lowHalf: widen(v.highHalf.lowHalf), highHalf: widen(v.highHalf.highHalf))
    return SIMD16(lowHalf: low, highHalf: high)
}

@inline(__always) private func narrow(_ v: SIMD4<Int16>) -> SIMD4<Int8> {
    SIMD4(Int8(truncatingIfNeeded: v[0]), Int8(truncatingIfNeeded: v[1]), Int8(truncatingIfNeeded: v[2]),
          Int8(truncatingIfNeeded: v[3]))
}

@inline(__always) private func narrow(_ v: SIMD16<Int16>) -> SIMD16<Int8> {
    let low = SIMD8<Int8>(lowHalf: narrow(v.lowHalf.lowHalf), highHalf: narrow(v.lowHalf.highHalf))
    let high = SIMD8<Int8>(lowHalf: narrow(v.highHalf.lowHalf), highHalf: narrow(v.highHalf.highHalf))
    return SIMD16(lowHalf: low, highHalf: high)
}
