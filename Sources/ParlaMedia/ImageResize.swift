/// Separable resampling weights for one axis: output sample `i` is the weighted sum of `taps` consecutive
/// source samples starting at `starts[i]`, with weights `weights[i * maxTaps ..< i * maxTaps + taps[i]]`.
///
/// Shrinking uses area averaging (each output pixel averages the source area it covers, with fractional
/// coverage at its borders); enlarging uses bilinear interpolation with pixel centres at +0.5, clamped at
/// the edges. Weights of every output sample sum to 1.
struct ResizeAxisWeights {
    var starts: [Int32]
    var taps: [Int32]
    var weights: [Float]
    var maxTaps: Int

    init(source: Int, destination: Int) {
        precondition(source > 0 && destination > 0)
        var perOutput: [(start: Int, weights: [Double])] = []
        perOutput.reserveCapacity(destination)
        for i in 0..<destination {
            perOutput.append(ResizeAxisWeights.weights(source: source, destination: destination, output: i))
        }
        maxTaps = perOutput.map(\.weights.count).max() ?? 1
        starts = perOutput.map { Int32($0.start) }
        taps = perOutput.map { Int32($0.weights.count) }
        weights = [Float](repeating: 0, count: destination * maxTaps)
        for (i, entry) in perOutput.enumerated() {
            for (k, w) in entry.weights.enumerated() { weights[i * maxTaps + k] = Float(w) }
        }
    }

    /// Weights of output sample `output`, normalised to sum to 1, with the first source index they apply to.
    static func weights(source: Int, destination: Int, output: Int) -> (start: Int, weights: [Double]) {
        if source == destination { return (output, [1]) }
        if destination < source {
            let scale = Double(source) / Double(destination)
            let lo = Double(output) * scale, hi = Double(output + 1) * scale
            let first = Int(lo.rounded(.down))
            let last = min(source - 1, Int(hi.rounded(.up)) - 1)
            var w: [Double] = []
            for j in first...max(first, last) {
                w.append(max(0, min(hi, Double(j + 1)) - max(lo, Double(j))))
            }
            // Drop slivers that floating point leaves at either end.
            var start = first
            while w.count > 1 && w[0] < 1e-9 { w.removeFirst(); start += 1 }
            while w.count > 1 && w[w.count - 1] < 1e-9 { w.removeLast() }
            let sum = w.reduce(0, +)
            return (start, w.map { $0 / sum })
        }
        let x = min(max((Double(output) + 0.5) * Double(source) / Double(destination) - 0.5, 0), Double(source - 1))
        let j0 = Int(x.rounded(.down))
        let f = x - Double(j0)
        if j0 + 1 >= source || f == 0 { return (j0, [1]) }
        return (j0, [1 - f, f])
    }
}

extension RGBAImage {
    /// High-quality resize: area averaging along an axis that shrinks, bilinear along an axis that grows.
    /// sRGB bytes are filtered as if linear. Sizes must be non-negative; an empty source gives transparent black.
    public func resized(width newWidth: Int, height newHeight: Int) -> RGBAImage {
        precondition(newWidth >= 0 && newHeight >= 0, "negative target size")
        if newWidth == width && newHeight == height { return self }
        if newWidth == 0 || newHeight == 0 { return RGBAImage(width: newWidth, height: newHeight, pixels: []) }
        if width == 0 || height == 0 { return RGBAImage(width: newWidth, height: newHeight, fill: (0, 0, 0, 0)) }
        let xWeights = ResizeAxisWeights(source: width, destination: newWidth)
        let yWeights = ResizeAxisWeights(source: height, destination: newHeight)
        let srcWidth = width
        var row = [Float](repeating: 0, count: srcWidth * 4 + 16)
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * 4)
        pixels.withUnsafeBufferPointer { src in
            row.withUnsafeMutableBufferPointer { rowBuffer in
                out.withUnsafeMutableBufferPointer { dst in
                    let rowPtr = rowBuffer.baseAddress!
                    let srcPtr = src.baseAddress!
                    let dstPtr = dst.baseAddress!
                    let rowBytes = srcWidth * 4
                    for oy in 0..<newHeight {
                        // Vertical pass: blend the source rows this output row covers into `row`.
                        let start = Int(yWeights.starts[oy]), count = Int(yWeights.taps[oy])
                        for t in 0..<count {
                            let w = yWeights.weights[oy * yWeights.maxTaps + t]
                            accumulateRow(srcPtr + (start + t) * rowBytes, weight: w, into: rowPtr,
                                          count: rowBytes, first: t == 0)
                        }
                        // Horizontal pass over the blended row.
                        let rowPixels = UnsafeRawPointer(rowPtr)
                        let outRow = UnsafeMutableRawPointer(dstPtr + oy * newWidth * 4)
                        xWeights.weights.withUnsafeBufferPointer { xw in
                            for ox in 0..<newWidth {
                                let xs = Int(xWeights.starts[ox]), xc = Int(xWeights.taps[ox])
                                let wBase = ox * xWeights.maxTaps
                                var acc = pixel(rowPixels, xs) * xw[wBase]
                                var t = 1
                                while t < xc { acc += pixel(rowPixels, xs + t) * xw[wBase + t]; t += 1 }
                                outRow.storeBytes(of: quantize(acc), toByteOffset: ox * 4, as: SIMD4<UInt8>.self)
                            }
                        }
                    }
                }
            }
        }
        return RGBAImage(width: newWidth, height: newHeight, pixels: out)
    }

    /// Plain per-pixel reference for ``resized(width:height:)``: evaluates the same 2-D weights directly in
    /// double precision. Slow; used by tests to check the fast path.
    public func resizedReference(width newWidth: Int, height newHeight: Int) -> RGBAImage {
        precondition(newWidth >= 0 && newHeight >= 0, "negative target size")
        if newWidth == 0 || newHeight == 0 { return RGBAImage(width: newWidth, height: newHeight, pixels: []) }
        if width == 0 || height == 0 { return RGBAImage(width: newWidth, height: newHeight, fill: (0, 0, 0, 0)) }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * 4)
        for oy in 0..<newHeight {
            let wy = ResizeAxisWeights.weights(source: height, destination: newHeight, output: oy)
            for ox in 0..<newWidth {
                let wx = ResizeAxisWeights.weights(source: width, destination: newWidth, output: ox)
                for c in 0..<4 {
                    var sum = 0.0
                    for (ty, vy) in wy.weights.enumerated() {
                        for (tx, vx) in wx.weights.enumerated() {
                            let p = pixels[((wy.start + ty) * width + wx.start + tx) * 4 + c]
                            sum += vy * vx * Double(p)
                        }
                    }
                    out[(oy * newWidth + ox) * 4 + c] = UInt8(min(255, max(0, sum.rounded())))
                }
            }
        }
        return RGBAImage(width: newWidth, height: newHeight, pixels: out)
    }
}

/// `row[i] (+)= weight * src[i]` for `count` bytes, 16 at a time.
@inline(__always)
private func accumulateRow(_ src: UnsafePointer<UInt8>, weight: Float, into row: UnsafeMutablePointer<Float>,
                           count: Int, first: Bool) {
    let raw = UnsafeRawPointer(src)
    let rowRaw = UnsafeMutableRawPointer(row)
    var i = 0
    if first {
        while i + 16 <= count {
            let v = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)))
            rowRaw.storeBytes(of: v * weight, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { row[i] = Float(src[i]) * weight; i += 1 }
    } else {
        while i + 16 <= count {
            let v = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)))
            let old = rowRaw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            rowRaw.storeBytes(of: old + v * weight, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { row[i] += Float(src[i]) * weight; i += 1 }
    }
}

/// The `index`th RGBA float pixel of a row.
@inline(__always)
private func pixel(_ row: UnsafeRawPointer, _ index: Int) -> SIMD4<Float> {
    row.loadUnaligned(fromByteOffset: index * 16, as: SIMD4<Float>.self)
}

/// Rounds to nearest and clamps to 0...255.
@inline(__always)
func quantize(_ v: SIMD4<Float>) -> SIMD4<UInt8> {
    let r = (v + 0.5).clamped(lowerBound: SIMD4(repeating: 0), upperBound: SIMD4(repeating: 255))
    return SIMD4<UInt8>(truncatingIfNeeded: SIMD4<Int32>(r.rounded(.down)))
}
