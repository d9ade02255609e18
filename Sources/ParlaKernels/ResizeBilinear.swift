/// Bilinear image resize over NHWC (batch 1) in float, TFLite's `ResizeBilinear` coordinate rule (scale
/// input/output, or (input-1)/(output-1) with aligned corners; half-pixel centres shift by 0.5 and clamp the lower
/// index at 0). The geometry is shared with the int8 kernel (`QuantizedResize.Geometry`).
public enum ResizeBilinear {
    /// TFLite `ComputeInterpolationValues` in float: the source coordinate and its two neighbours' indices.
    @inlinable static func interpolation(_ value: Int, scale: Float, inputSize: Int, halfPixelCenters: Bool)
        -> (position: Float, lower: Int, upper: Int) {
        let position = halfPixelCenters ? (Float(value) + 0.5) * scale - 0.5 : Float(value) * scale
        let lower = max(Int(position.rounded(.down)), 0)
        let upper = min(Int(position.rounded(.up)), inputSize - 1)
        return (position, lower, upper)
    }

    static func scales(_ g: QuantizedResize.Geometry) -> (y: Float, x: Float) {
        func scale(_ input: Int, _ output: Int) -> Float {
            g.alignCorners && output > 1 ? Float(input - 1) / Float(output - 1) : Float(input) / Float(output)
        }
        return (scale(g.inputHeight, g.outputHeight), scale(g.inputWidth, g.outputWidth))
    }

    /// Plain scalar reference.
    public static func reference(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                                 geometry g: QuantizedResize.Geometry) {
        precondition(input.count >= g.inputCount && output.count >= g.outputCount, "resize: buffers too small")
        let (sy, sx) = scales(g)
        let c = g.channels
        for y in 0..<g.outputHeight {
            let (iy, y0, y1) = interpolation(y, scale: sy, inputSize: g.inputHeight, halfPixelCenters: g.halfPixelCenters)
            for x in 0..<g.outputWidth {
                let (ix, x0, x1) = interpolation(x, scale: sx, inputSize: g.inputWidth, halfPixelCenters: g.halfPixelCenters)
                let fy = iy - Float(y0), fx = ix - Float(x0)
                for ch in 0..<c {
                    func at(_ yy: Int, _ xx: Int) -> Float { input[(yy * g.inputWidth + xx) * c + ch] }
                    let top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx
                    let bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx
                    output[(y * g.outputWidth + x) * c + ch] = top * (1 - fy) + bottom * fy
                }
            }
        }
    }
}
