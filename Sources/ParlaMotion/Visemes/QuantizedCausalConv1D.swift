import ParlaKernels

/// ``CausalConv1D`` in int8: int8 input rows (asymmetric per tensor, `input`), int8 weights `[out][tap][in]`
/// (symmetric per output channel), int32 bias at scale `input.scale·weightScale[o]`, and int8 output rows (`output`)
/// through the integer-only per-channel requantization of ParlaKernels (``Requantizer``, TFLite fixed-point
/// multipliers), with the ReLU fused as the clamp at the output zero point. The arithmetic is integer only, so the
/// result is the same bytes on every CPU; ``apply(input:count:output:scratch:)`` runs ParlaKernels' GEMM
/// (``QuantizedConv1D/fast(input:packed:dilation:output:frames:requantizer:scratch:)``: AVX-VNNI / AVX2 on x86-64,
/// Swift SIMD or `sdot` elsewhere) and ``applyReference(input:count:output:)`` the scalar reference.
public struct QuantizedCausalConv1D: Sendable {
    /// Input channels.
    public let inputs: Int
    /// Output channels.
    public let outputs: Int
    /// Taps.
    public let kernel: Int
    /// Frames between taps.
    public let dilation: Int
    /// Taps after the output frame.
    public let future: Int
    /// `[out][tap][in]`, each in -127...127.
    public let weights: [Int8]
    /// One per output, at scale `input.scale·weightScale[o]`.
    public let bias: [Int32]
    /// The input rows' quantization (its zero point stands for the zeros before the start and after the end).
    public let input: QuantizationParameters
    /// The output rows' quantization.
    public let output: QuantizationParameters
    /// max(0, x) fused into the output clamp.
    public let relu: Bool
    /// The per-channel epilogue.
    public let requantizer: Requantizer
    let packed: QuantizedConv2D.PackedWeights

    /// Input frames before the output frame the convolution reads.
    public var past: Int { (kernel - 1 - future) * dilation }
    /// Input frames after the output frame the convolution reads.
    public var ahead: Int { future * dilation }
    /// Int16 scratch values ``apply(input:count:output:scratch:)`` needs.
    public var scratchCount: Int { QuantizedConv1D.scratchCount(packed: packed) }

    /// A layer; nil when the shapes disagree or a value is outside what the kernels take (weights −128, scales
    /// not finite and positive, zero points outside int8, a real multiplier at or above 2^30).
    public init?(inputs: Int, outputs: Int, kernel: Int, dilation: Int, future: Int, weights: [Int8], weightScales: [Float],
                 bias: [Int32], input: QuantizationParameters, output: QuantizationParameters, relu: Bool) {
        guard inputs > 0, outputs > 0, kernel > 0, dilation > 0, future >= 0, future < kernel,
              weights.count == kernel * inputs * outputs, weightScales.count == outputs, bias.count == outputs,
              !weights.contains(Int8.min) else { return nil }
        for p in [input, output] {
            guard p.scale.isFinite, p.scale > 0, (-128...127).contains(p.zeroPoint) else { return nil }
        }
        let multipliers = weightScales.map { Double(input.scale) * Double($0) / Double(output.scale) }
        guard weightScales.allSatisfy({ $0.isFinite && $0 > 0 }), multipliers.allSatisfy({ $0.isFinite && $0 < 0x1p30 }) else {
            return nil
        }
        self.inputs = inputs
        self.outputs = outputs
        self.kernel = kernel
        self.dilation = dilation
        self.future = future
        self.weights = weights
        self.bias = bias
        self.input = input
        self.output = output
        self.relu = relu
        requantizer = Requantizer.convolution(inputScale: input.scale, weightScales: weightScales, output: output,
                                              activation: relu ? .relu : .none)
        packed = weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                QuantizedConv1D.pack(weights: w, bias: b, inputs: inputs, outputs: outputs, kernel: kernel,
                                     inputZeroPoint: input.zeroPoint)
            }
        }
    }

    /// Output frames 0 ..< count. `input` points at the row of input frame −past (rows of `inputs` int8 values); the
    /// rows up to frame count − 1 + ahead must be readable. `output` receives `count` rows of `outputs` values;
    /// `scratch` holds at least ``scratchCount`` values.
    public func apply(input: UnsafePointer<Int8>, count: Int, output: UnsafeMutablePointer<Int8>,
                      scratch: UnsafeMutableBufferPointer<Int16>) {
        guard count > 0 else { return }
        QuantizedConv1D.fast(input: UnsafeBufferPointer(start: input, count: (count + past + ahead) * inputs), packed: packed,
                             dilation: dilation, output: UnsafeMutableBufferPointer(start: output, count: count * outputs),
                             frames: count, requantizer: requantizer, scratch: scratch)
    }

    /// The scalar reference of ``apply(input:count:output:scratch:)``.
    public func applyReference(input: UnsafePointer<Int8>, count: Int, output: UnsafeMutablePointer<Int8>) {
        guard count > 0 else { return }
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                QuantizedConv1D.reference(input: UnsafeBufferPointer(start: input, count: (count + past + ahead) * inputs),
                                          inputZeroPoint: self.input.zeroPoint, weights: w, bias: b,
                                          output: UnsafeMutableBufferPointer(start: output, count: count * outputs),
                                          frames: count, inputs: inputs, outputs: outputs, kernel: kernel,
                                          dilation: dilation, requantizer: requantizer)
            }
        }
    }
}
