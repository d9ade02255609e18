/// Int8 dilated 1-D convolution over a sequence of frames (rows of `inputs` int8 values), TFLite conv semantics:
/// weights `[output][tap][input]` int8 symmetric per output channel (values in -127...127), int32 bias, and
/// output frame `t` = `requantize(bias[o] + Σ_tap Σ_i (x[t + tap·dilation][i] - inputZeroPoint)·w[o][tap][i])`.
///
/// The input holds exactly the rows the outputs read: `frames + (kernel - 1)·dilation` rows, row 0 being the first
/// tap of output frame 0. There is no padding inside the kernel: a caller that wants zeros before the start or after
/// the end (a causal layer's history) stores rows of `inputZeroPoint` there. This is VisemeNet's layer; the weights
/// are laid out like a 1×kernel OHWI convolution, so the fast path is the conv GEMM (`QuantizedConv2D.PackedWeights`).
public enum QuantizedConv1D {
    /// Plain scalar reference: loops over every output value. Obviously correct, slow.
    public static func reference(
        input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32, weights: UnsafeBufferPointer<Int8>,
        bias: UnsafeBufferPointer<Int32>?, output: UnsafeMutableBufferPointer<Int8>, frames: Int, inputs: Int,
        outputs: Int, kernel: Int, dilation: Int, requantizer: Requantizer
    ) {
        checkSizes(input: input.count, weights: weights.count, bias: bias?.count, output: output.count, frames: frames,
                   inputs: inputs, outputs: outputs, kernel: kernel, dilation: dilation, requantizer: requantizer)
        for t in 0..<frames {
            for o in 0..<outputs {
                var acc: Int32 = bias?[o] ?? 0
                for tap in 0..<kernel {
                    for i in 0..<inputs {
                        let x = Int32(input[(t + tap * dilation) * inputs + i]) - inputZeroPoint
                        acc &+= x * Int32(weights[(o * kernel + tap) * inputs + i])
                    }
                }
                output[t * outputs + o] = requantizer.apply(acc, channel: o)
            }
        }
    }

    /// Packs `[output][tap][input]` weights and the optional bias for `fast` (the GEMM packing of a 1×kernel conv).
    public static func pack(weights: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>?, inputs: Int,
                            outputs: Int, kernel: Int, inputZeroPoint: Int32) -> QuantizedConv2D.PackedWeights {
        QuantizedConv2D.PackedWeights(weights: weights, bias: bias, outputChannels: outputs, kernelHeight: 1,
                                      kernelWidth: kernel, inputChannels: inputs, inputZeroPoint: inputZeroPoint)
    }

    /// Int16 scratch values `fast` needs.
    public static func scratchCount(packed: QuantizedConv2D.PackedWeights) -> Int {
        QuantizedConv2D.scratchCount(packed: packed)
    }

    /// Fast version on the conv GEMM (`Int8KernelPath.best`: AVX-VNNI / AVX2 C kernels on x86-64, the Swift SIMD or
    /// `sdot` tile elsewhere); bit-exact with `reference`. Per output frame the taps' rows are gathered into one
    /// im2col row, except when they are already contiguous (dilation 1 or a single tap): then the x86-64 GEMMs read
    /// the input in place.
    public static func fast(input: UnsafeBufferPointer<Int8>, packed: QuantizedConv2D.PackedWeights, dilation: Int,
                            output: UnsafeMutableBufferPointer<Int8>, frames: Int, requantizer: Requantizer,
                            scratch: UnsafeMutableBufferPointer<Int16>) {
        fast(input: input, packed: packed, dilation: dilation, output: output, frames: frames, requantizer: requantizer,
             scratch: scratch, tile: .automatic)
    }

    static func fast(input: UnsafeBufferPointer<Int8>, packed: QuantizedConv2D.PackedWeights, dilation: Int,
                     output: UnsafeMutableBufferPointer<Int8>, frames: Int, requantizer: Requantizer,
                     scratch: UnsafeMutableBufferPointer<Int16>, tile: QuantizedConv2D.Tile) {
        precondition(packed.kernelHeight == 1, "qconv1d: weights not packed for a 1-D convolution")
        let (n, m, k) = (packed.inputChannels, packed.outputChannels, packed.kernelWidth)
        checkSizes(input: input.count, weights: n * m * k, bias: nil, output: output.count, frames: frames, inputs: n,
                   outputs: m, kernel: k, dilation: dilation, requantizer: requantizer)
        precondition(scratch.count >= scratchCount(packed: packed), "qconv1d: scratch too small")
        guard frames > 0, let inputBase = input.baseAddress, let outputBase = output.baseAddress else { return }
        let contiguous = dilation == 1 || k == 1
        QuantizedConv2D.gemm(packed: packed, requantizer: requantizer, pixels: 0..<frames, output: outputBase,
                             scratch: scratch.baseAddress!, tile: tile, fill16: { t, row in
            for tap in 0..<k {
                let s = inputBase + (t + tap * dilation) * n, d = row + tap * n
                for i in 0..<n { d[i] = Int16(s[i]) }
            }
            for i in packed.taps..<packed.paddedTaps { row[i] = 0 }
        }, fill8: { t, row in
            for tap in 0..<k { (row + tap * n).update(from: inputBase + (t + tap * dilation) * n, count: n) }
            for i in packed.taps..<packed.paddedTaps { row[i] = 0 }
        }, direct: contiguous ? (UnsafePointer(inputBase), n) : nil)
    }

    static func checkSizes(input: Int, weights: Int, bias: Int?, output: Int, frames: Int, inputs: Int, outputs: Int,
                           kernel: Int, dilation: Int, requantizer: Requantizer) {
        precondition(frames >= 0 && inputs > 0 && outputs > 0 && kernel > 0 && dilation > 0, "qconv1d: sizes must be positive")
        precondition(frames == 0 || input >= (frames + (kernel - 1) * dilation) * inputs, "qconv1d: input too small")
        precondition(weights >= outputs * kernel * inputs, "qconv1d: weights too small")
        precondition(bias.map { $0 >= outputs } ?? true, "qconv1d: bias too small")
        precondition(output >= frames * outputs, "qconv1d: output too small")
        precondition(requantizer.channels == outputs, "qconv1d: requantizer has \(requantizer.channels) channels, not \(outputs)")
    }
}
