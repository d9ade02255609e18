extension PReLU {
    /// Fast version of `reference`: per pixel, SIMD8 over channels with a scalar channel tail.
    public static func fast(input: UnsafeBufferPointer<Float>, slopes: UnsafeBufferPointer<Float>,
                            output: UnsafeMutableBufferPointer<Float>, channels: Int) {
        checkSizes(input: input.count, slopes: slopes.count, output: output.count, channels: channels)
        guard let pi = input.baseAddress, let ps = slopes.baseAddress, let po = output.baseAddress else { return }
        let vectorChannels = channels / 8 * 8
        for pixel in 0..<(output.count / channels) {
            let x = pi + pixel * channels, o = po + pixel * channels
            var c = 0
            while c < vectorChannels {
                let v = UnsafeRawPointer(x + c).loadUnaligned(as: SIMD8<Float>.self)
                let s = UnsafeRawPointer(ps + c).loadUnaligned(as: SIMD8<Float>.self)
                var r = v
                r.replace(with: v * s, where: v .< 0)
                UnsafeMutableRawPointer(o + c).storeBytes(of: r, as: SIMD8<Float>.self)
                c += 8
            }
            while c < channels {
                let v = x[c]
                o[c] = v >= 0 ? v : ps[c] * v
                c += 1
            }
        }
    }
}
