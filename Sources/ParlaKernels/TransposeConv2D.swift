/// The geometry of a transposed 2-D convolution (MediaPipe's `Convolution2DTransposeBias`, TFLite's
/// TRANSPOSE_CONV): input pixel (iy, ix) adds its weighted channels to output pixel
/// (iy·strideY − padTop + ky, ix·strideX − padLeft + kx) for every kernel tap (ky, kx).
public struct TransposedWindow2D: Sendable, Equatable {
    public let inputHeight: Int, inputWidth: Int, kernelHeight: Int, kernelWidth: Int, strideY: Int, strideX: Int
    public let padTop: Int, padLeft: Int, outputHeight: Int, outputWidth: Int

    /// SAME: output = input·stride; VALID: output = (input − 1)·stride + kernel; the padding is TFLite's
    /// (total max((input − 1)·stride + kernel − output, 0), the smaller half before). Nil for sizes below 1 or
    /// other padding modes.
    public init?(inputHeight: Int, inputWidth: Int, kernelHeight: Int, kernelWidth: Int, strideY: Int, strideX: Int,
                 padding: PaddingMode) {
        guard [inputHeight, inputWidth, kernelHeight, kernelWidth, strideY, strideX].allSatisfy({ (1...(1 << 20)).contains($0) })
        else { return nil }
        func resolve(_ size: Int, _ k: Int, _ s: Int) -> (out: Int, before: Int)? {
            let out: Int
            switch padding {
            case .same: out = size * s
            case .valid: out = (size - 1) * s + k
            case .explicit: return nil
            }
            return (out, max((size - 1) * s + k - out, 0) / 2)
        }
        guard let h = resolve(inputHeight, kernelHeight, strideY), let w = resolve(inputWidth, kernelWidth, strideX) else {
            return nil
        }
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideY = strideY
        self.strideX = strideX
        padTop = h.before
        padLeft = w.before
        outputHeight = h.out
        outputWidth = w.out
    }

    /// The (kernel index, input index) pairs that reach output index `o` along one axis.
    @inlinable func taps(_ o: Int, pad: Int, stride: Int, kernel: Int, inputSize: Int) -> [(k: Int, i: Int)] {
        var result: [(k: Int, i: Int)] = []
        for k in 0..<kernel {
            let t = o + pad - k
            if t >= 0 && t % stride == 0 && t / stride < inputSize { result.append((k, t / stride)) }
        }
        return result
    }
}

/// Transposed 2-D convolution over an NHWC image (batch 1) with OHWI weights `[outC, kH, kW, inC]` and an optional
/// bias, in float.
public enum TransposeConv2D {
    /// Plain scalar reference in scatter form: every input pixel adds into the outputs it reaches.
    public static func reference(input: UnsafeBufferPointer<Float>, weights: UnsafeBufferPointer<Float>,
                                 bias: UnsafeBufferPointer<Float>?, output: UnsafeMutableBufferPointer<Float>,
                                 window g: TransposedWindow2D, inputChannels: Int, outputChannels: Int) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count, window: g,
                   inputChannels: inputChannels, outputChannels: outputChannels)
        let (ci, co) = (inputChannels, outputChannels)
        for p in 0..<(g.outputHeight * g.outputWidth) {
            for oc in 0..<co { output[p * co + oc] = bias?[oc] ?? 0 }
        }
        for iy in 0..<g.inputHeight {
            for ix in 0..<g.inputWidth {
                for ky in 0..<g.kernelHeight {
                    let oy = iy * g.strideY - g.padTop + ky
                    if oy < 0 || oy >= g.outputHeight { continue }
                    for kx in 0..<g.kernelWidth {
                        let ox = ix * g.strideX - g.padLeft + kx
                        if ox < 0 || ox >= g.outputWidth { continue }
                        for oc in 0..<co {
                            var sum: Float = 0
                            for ic in 0..<ci {
                                sum += input[(iy * g.inputWidth + ix) * ci + ic]
                                    * weights[((oc * g.kernelHeight + ky) * g.kernelWidth + kx) * ci + ic]
                            }
                            output[(oy * g.outputWidth + ox) * co + oc] += sum
                        }
                    }
                }
            }
        }
    }

    static func checkSizes(input: Int, weights: Int, bias: Int?, output: Int, window g: TransposedWindow2D,
                           inputChannels: Int, outputChannels: Int) {
        precondition(inputChannels > 0 && outputChannels > 0, "transpose_conv2d: channels must be positive")
        precondition(input >= g.inputHeight * g.inputWidth * inputChannels, "transpose_conv2d: input too small")
        precondition(weights >= outputChannels * g.kernelHeight * g.kernelWidth * inputChannels,
                     "transpose_conv2d: weights too small")
        precondition(bias.map { $0 >= outputChannels } ?? true, "transpose_conv2d: bias too small")
        precondition(output >= g.outputHeight * g.outputWidth * outputChannels, "transpose_conv2d: output too small")
    }
}
