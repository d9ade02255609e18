import ParlaKernels

/// One op bound to its planned buffers, ready to run: pointers into the executor's arenas (stable for the
/// executor's lifetime) and prepared parameters such as repacked weights and requantizers.
struct ExecutionStep {
    private enum Kernel {
        case conv2d(Conv2D.PackedWeights, Window2D, FusedActivation)
        case depthwiseConv2d(weights: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?, Window2D,
                             channels: Int, FusedActivation)
        case add(UnsafeBufferPointer<Float>, FusedActivation)
        case activation(FusedActivation)
        case prelu(slopes: UnsafeBufferPointer<Float>, channels: Int)
        case maxPool2d(Window2D, channels: Int, FusedActivation)
        case pad(inputShape: [Int], before: [Int], after: [Int])
        case concat(inputs: [UnsafeBufferPointer<Float>], shapes: [[Int]], axis: Int)
        case quantize(QuantizationParameters)
        case dequantize(QuantizationParameters)
        case quantizedConv2d(QuantizedConv2D.PackedWeights, Window2D, Requantizer, scratchCount: Int)
        case quantizedDepthwiseConv2d(QuantizedDepthwiseConv2D.PackedWeights, inputZeroPoint: Int32, Window2D, Requantizer)
        case quantizedAdd(UnsafeBufferPointer<Int8>, QuantizedAdd.Parameters)
        case quantizedPReLU(inputZeroPoint: Int32, Requantizer)
        case quantizedMaxPool2d(Window2D, channels: Int, ClosedRange<Int32>)
        case quantizedPad(inputShape: [Int], before: [Int], after: [Int], value: Int8)
        case quantizedConcat(inputs: [UnsafeBufferPointer<Int8>], [QuantizedConcat.InputRescale], pixels: Int)
        case copyBytes(Int)
        case hardSwish
        case logistic
        case mul(UnsafeBufferPointer<Float>, FusedActivation)
        case averagePool2d(Window2D, channels: Int, FusedActivation)
        case resizeBilinear(QuantizedResize.Geometry)
        case transposeConv2d(weights: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?, TransposedWindow2D,
                             inputChannels: Int, outputChannels: Int)
        case quantizedLookup(Int8LookupTable)
        case quantizedMul(UnsafeBufferPointer<Int8>, QuantizedMul.Parameters)
        case quantizedAveragePool2d(Window2D, channels: Int, ClosedRange<Int32>)
        case quantizedResizeBilinear(QuantizedResize.Geometry)
        case quantizedTransposeConv2d(weights: [Int8], bias: [Int32], inputZeroPoint: Int32, TransposedWindow2D,
                                      inputChannels: Int, outputChannels: Int, Requantizer)
    }

    /// The op and its shape, for profiles.
    let name: String
    private let kernel: Kernel
    private let input: UnsafeRawPointer
    private let inputCount: Int
    private let output: UnsafeMutableRawPointer
    private let outputCount: Int
    private let threads: Int
    private let scratch: UnsafeMutablePointer<Int16>
    private let scratchPerThread: Int

    private var floatInput: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: input.assumingMemoryBound(to: Float.self), count: inputCount)
    }
    private var floatOutput: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: output.assumingMemoryBound(to: Float.self), count: outputCount)
    }
    private var int8Input: UnsafeBufferPointer<Int8> {
        UnsafeBufferPointer(start: input.assumingMemoryBound(to: Int8.self), count: inputCount)
    }
    private var int8Output: UnsafeMutableBufferPointer<Int8> {
        UnsafeMutableBufferPointer(start: output.assumingMemoryBound(to: Int8.self), count: outputCount)
    }

    /// Int16 scratch values one thread needs for `op` (int8 dense convolutions only).
    static func scratchCount(_ op: Operation, model: Model) -> Int {
        guard case let .quantizedConv2d(_, _, _, _, window, inputChannels, _, _, _) = op else { return 0 }
        return QuantizedConv2D.scratchCount(taps: window.kernelHeight * window.kernelWidth * inputChannels)
    }

    init(_ op: Operation, model: Model, resolver: BufferResolver, threads: Int, scratch: UnsafeMutablePointer<Int16>,
         scratchPerThread: Int) {
        self.threads = threads
        self.scratch = scratch
        self.scratchPerThread = scratchPerThread
        let out = op.outputIndex
        output = resolver.mutableBuffer(out).baseAddress.map { UnsafeMutableRawPointer($0) }!
        outputCount = model.tensors[out].count
        func params(_ index: Int) -> QuantizationParameters {
            let q = model.tensors[index].quantization!
            return QuantizationParameters(scale: q.scales[0], zeroPoint: q.zeroPoints[0])
        }
        func raw(_ index: Int) -> UnsafeRawPointer { UnsafeRawPointer(resolver.buffer(index).baseAddress!) }
        let source: Int
        switch op {
        case let .conv2d(x, weights, bias, _, window, inputChannels, outputChannels, activation):
            name = "conv2d \(window.kernelHeight)x\(window.kernelWidth)/\(window.strideY) \(inputChannels)->\(outputChannels)"
            let w = model.constants[weights]!
            let b = bias.map { model.constants[$0]! }
            let packed = w.withUnsafeBufferPointer { wp in
                withOptionalBuffer(b) { bp in
                    Conv2D.PackedWeights(weights: wp, bias: bp, outputChannels: outputChannels,
                                         kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth,
                                         inputChannels: inputChannels)
                }
            }
            kernel = .conv2d(packed, window, activation)
            source = x
        case let .depthwiseConv2d(x, weights, bias, _, window, channels, activation):
            name = "depthwise_conv2d \(window.kernelHeight)x\(window.kernelWidth)/\(window.strideY) \(channels)"
            kernel = .depthwiseConv2d(weights: resolver.buffer(weights), bias: bias.map(resolver.buffer), window,
                                      channels: channels, activation)
            source = x
        case let .add(a, b, _, activation):
            name = "add"
            kernel = .add(resolver.buffer(b), activation)
            source = a
        case let .activation(x, _, activation):
            name = activation.rawValue
            kernel = .activation(activation)
            source = x
        case let .prelu(x, slopes, _, channels):
            name = "prelu"
            kernel = .prelu(slopes: resolver.buffer(slopes), channels: channels)
            source = x
        case let .maxPool2d(x, _, window, channels, activation):
            name = "max_pool2d"
            kernel = .maxPool2d(window, channels: channels, activation)
            source = x
        case let .pad(x, _, before, after):
            name = "pad"
            kernel = .pad(inputShape: model.tensors[x].shape, before: before, after: after)
            source = x
        case let .concat(inputs, _, axis):
            name = "concat"
            kernel = .concat(inputs: inputs.map(resolver.buffer), shapes: inputs.map { model.tensors[$0].shape }, axis: axis)
            source = inputs[0]
        case let .reshape(x, _):
            name = "reshape"
            kernel = .copyBytes(4 * model.tensors[out].count)
            source = x
        case let .quantize(x, _):
            name = "quantize"
            kernel = .quantize(params(out))
            source = x
        case let .dequantize(x, _):
            name = "dequantize"
            kernel = .dequantize(params(x))
            source = x
        case let .quantizedConv2d(x, weights, bias, _, window, inputChannels, outputChannels, activation, prelu):
            name = "int8 conv2d \(window.kernelHeight)x\(window.kernelWidth)/\(window.strideY) \(inputChannels)->\(outputChannels)"
                + (prelu == nil ? "" : " +prelu")
            let input = params(x)
            let biasValues = bias.map { model.int32Constant($0) }
            let packed = model.withInt8Constant(weights) { wp in
                withOptionalBuffer(biasValues) { bp in
                    QuantizedConv2D.PackedWeights(weights: wp, bias: bp, outputChannels: outputChannels,
                                                  kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth,
                                                  inputChannels: inputChannels, inputZeroPoint: input.zeroPoint)
                }
            }
            let requantizer = Requantizer.convolution(
                inputScale: input.scale, weightScales: model.tensors[weights].quantization!.scales, output: params(out),
                activation: activation, preluSlopes: prelu.map { model.constants[$0]! })
            let count = QuantizedConv2D.scratchCount(packed: packed)
            precondition(count <= scratchPerThread, "executor: conv scratch plan too small")
            kernel = .quantizedConv2d(packed, window, requantizer, scratchCount: count)
            source = x
        case let .quantizedDepthwiseConv2d(x, weights, bias, _, window, channels, activation, prelu):
            name = "int8 depthwise_conv2d \(window.kernelHeight)x\(window.kernelWidth)/\(window.strideY) \(channels)"
                + (prelu == nil ? "" : " +prelu")
            let input = params(x)
            let biasValues = bias.map { model.int32Constant($0) }
            let packed = model.withInt8Constant(weights) { wp in
                withOptionalBuffer(biasValues) { bp in
                    QuantizedDepthwiseConv2D.PackedWeights(weights: wp, bias: bp, channels: channels,
                                                           kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth)
                }
            }
            let requantizer = Requantizer.convolution(
                inputScale: input.scale, weightScales: model.tensors[weights].quantization!.scales, output: params(out),
                activation: activation, preluSlopes: prelu.map { model.constants[$0]! })
            kernel = .quantizedDepthwiseConv2d(packed, inputZeroPoint: input.zeroPoint, window, requantizer)
            source = x
        case let .quantizedAdd(a, b, _, activation, prelu):
            name = "int8 add" + (prelu == nil ? "" : " +prelu")
            kernel = .quantizedAdd(resolver.int8(b), QuantizedAdd.Parameters(
                input1: params(a), input2: params(b), output: params(out), activation: activation,
                preluSlopes: prelu.map { model.constants[$0]! }))
            source = a
        case let .quantizedPReLU(x, slopes, _, _):
            name = "int8 prelu"
            kernel = .quantizedPReLU(inputZeroPoint: params(x).zeroPoint,
                                     Requantizer.prelu(input: params(x), slopes: model.constants[slopes]!, output: params(out)))
            source = x
        case let .quantizedMaxPool2d(x, _, window, channels, activation):
            name = "int8 max_pool2d \(window.inputHeight)->\(window.outputHeight) \(channels)"
            kernel = .quantizedMaxPool2d(window, channels: channels, params(out).activationRange(activation))
            source = x
        case let .quantizedPad(x, _, before, after):
            let (inner, padded) = (model.tensors[x].shape.last ?? 1, model.tensors[out].shape.last ?? 1)
            name = inner == padded ? "int8 pad" : "int8 pad \(inner)->\(padded)"
            kernel = .quantizedPad(inputShape: model.tensors[x].shape, before: before, after: after,
                                   value: Int8(params(x).zeroPoint))
            source = x
        case let .quantizedConcat(inputs, _, axis):
            name = "int8 concat"
            let shape = model.tensors[out].shape
            let pixels = shape[..<axis].reduce(1, *)
            kernel = .quantizedConcat(
                inputs: inputs.map(resolver.int8),
                inputs.map { QuantizedConcat.InputRescale(channels: model.tensors[$0].count / pixels, input: params($0),
                                                          output: params(out)) },
                pixels: pixels)
            source = inputs[0]
        case let .quantizedReshape(x, _):
            name = "int8 reshape"
            kernel = .copyBytes(model.tensors[out].count)
            source = x
        case let .hardSwish(x, _):
            name = "hard_swish"
            kernel = .hardSwish
            source = x
        case let .logistic(x, _):
            name = "logistic"
            kernel = .logistic
            source = x
        case let .mul(a, b, _, activation):
            name = model.tensors[b].count == model.tensors[a].count ? "mul" : "mul (per channel)"
            kernel = .mul(resolver.buffer(b), activation)
            source = a
        case let .averagePool2d(x, _, window, channels, activation):
            name = "average_pool2d \(window.kernelHeight)x\(window.kernelWidth)"
            kernel = .averagePool2d(window, channels: channels, activation)
            source = x
        case let .resizeBilinear(x, _, geometry):
            name = "resize_bilinear \(geometry.inputHeight)x\(geometry.inputWidth)->\(geometry.outputHeight)x\(geometry.outputWidth)"
            kernel = .resizeBilinear(geometry)
            source = x
        case let .transposeConv2d(x, weights, bias, _, window, inputChannels, outputChannels):
            name = "conv2d_transpose \(window.kernelHeight)x\(window.kernelWidth)/\(window.strideY) \(inputChannels)->\(outputChannels)"
            kernel = .transposeConv2d(weights: resolver.buffer(weights), bias: bias.map(resolver.buffer), window,
                                      inputChannels: inputChannels, outputChannels: outputChannels)
            source = x
        case let .quantizedLookup(x, _, function):
            name = "int8 \(function.rawValue)"
            kernel = .quantizedLookup(function == .logistic ? Int8LookupTable.logistic(input: params(x), output: params(out))
                                                            : Int8LookupTable.hardSwish(input: params(x), output: params(out)))
            source = x
        case let .quantizedMul(a, b, _, activation):
            name = model.tensors[b].count == model.tensors[a].count ? "int8 mul" : "int8 mul (per channel)"
            kernel = .quantizedMul(resolver.int8(b), QuantizedMul.Parameters(input1: params(a), input2: params(b),
                                                                              output: params(out), activation: activation))
            source = a
        case let .quantizedAveragePool2d(x, _, window, channels, activation):
            name = "int8 average_pool2d \(window.kernelHeight)x\(window.kernelWidth)"
            kernel = .quantizedAveragePool2d(window, channels: channels, params(out).activationRange(activation))
            source = x
        case let .quantizedResizeBilinear(x, _, geometry):
            name = "int8 resize_bilinear \(geometry.inputHeight)x\(geometry.inputWidth)->\(geometry.outputHeight)x\(geometry.outputWidth)"
            kernel = .quantizedResizeBilinear(geometry)
            source = x
        case let .quantizedTransposeConv2d(x, weights, bias, _, window, inputChannels, outputChannels):
            name = "int8 conv2d_transpose \(window.kernelHeight)x\(window.kernelWidth)/\(window.strideY) \(inputChannels)->\(outputChannels)"
            let input = params(x)
            let requantizer = Requantizer.convolution(
                inputScale: input.scale, weightScales: model.tensors[weights].quantization!.scales, output: params(out),
                activation: .none, preluSlopes: nil)
            kernel = .quantizedTransposeConv2d(weights: model.withInt8Constant(weights) { Array($0) },
                                               bias: model.int32Constant(bias), inputZeroPoint: input.zeroPoint, window,
                                               inputChannels: inputChannels, outputChannels: outputChannels, requantizer)
            source = x
        }
        input = raw(source)
        inputCount = model.tensors[source].count
    }

    /// Runs the op with the fast kernels.
    func execute() {
        switch kernel {
        case let .conv2d(packed, window, activation):
            Conv2D.fast(input: floatInput, packed: packed, output: floatOutput, window: window, activation: activation)
        case let .depthwiseConv2d(weights, bias, window, channels, activation):
            DepthwiseConv2D.fast(input: floatInput, weights: weights, bias: bias, output: floatOutput, window: window,
                                 channels: channels, activation: activation)
        case let .add(other, activation):
            Add.fast(a: floatInput, b: other, output: floatOutput, activation: activation)
        case let .activation(activation):
            Activation.fast(input: floatInput, output: floatOutput, activation: activation)
        case let .prelu(slopes, channels):
            PReLU.fast(input: floatInput, slopes: slopes, output: floatOutput, channels: channels)
        case let .maxPool2d(window, channels, activation):
            MaxPool2D.fast(input: floatInput, output: floatOutput, window: window, channels: channels, activation: activation)
        case let .pad(inputShape, before, after):
            Pad.fast(input: floatInput, inputShape: inputShape, before: before, after: after, output: floatOutput)
        case let .concat(inputs, shapes, axis):
            Concat.fast(inputs: inputs, shapes: shapes, axis: axis, output: floatOutput)
        case let .copyBytes(bytes):
            if UnsafeRawPointer(output) != input { output.copyMemory(from: input, byteCount: bytes) }
        case let .quantize(parameters):
            QuantizedConversion.quantizeFast(floatInput, output: int8Output, parameters: parameters)
        case let .dequantize(parameters):
            QuantizedConversion.dequantizeFast(int8Input, output: floatOutput, parameters: parameters)
        case let .quantizedConv2d(packed, window, requantizer, count):
            let (x, y, scratch, perThread) = (int8Input, int8Output, scratch, scratchPerThread)
            ParallelFor.run(window.outputHeight, threads: threads) { chunk, rows in
                QuantizedConv2D.fast(input: x, packed: packed, output: y, window: window, requantizer: requantizer,
                                     scratch: UnsafeMutableBufferPointer(start: scratch + chunk * perThread, count: count),
                                     rows: rows)
            }
        case let .quantizedDepthwiseConv2d(packed, zeroPoint, window, requantizer):
            let (x, y) = (int8Input, int8Output)
            ParallelFor.run(window.outputHeight, threads: threads) { _, rows in
                QuantizedDepthwiseConv2D.fast(input: x, inputZeroPoint: zeroPoint, packed: packed, output: y,
                                              window: window, requantizer: requantizer, rows: rows)
            }
        case let .quantizedAdd(other, parameters):
            QuantizedAdd.fast(int8Input, other, output: int8Output, parameters: parameters)
        case let .quantizedPReLU(zeroPoint, requantizer):
            QuantizedPReLU.fast(input: int8Input, inputZeroPoint: zeroPoint, output: int8Output, requantizer: requantizer)
        case let .quantizedMaxPool2d(window, channels, range):
            QuantizedPool2D.maxFast(input: int8Input, output: int8Output, window: window, channels: channels,
                                    activationRange: range)
        case let .quantizedPad(inputShape, before, after, value):
            QuantizedPad.fast(input: int8Input, inputShape: inputShape, before: before, after: after, value: value,
                              output: int8Output)
        case let .quantizedConcat(inputs, rescales, pixels):
            QuantizedConcat.fast(inputs: inputs, rescales: rescales, pixels: pixels, output: int8Output)
        case .hardSwish:
            HardSwish.fast(input: floatInput, output: floatOutput)
        case .logistic:
            Logistic.fast(input: floatInput, output: floatOutput)
        case let .mul(other, activation):
            Mul.fast(a: floatInput, b: other, output: floatOutput, activation: activation)
        case let .averagePool2d(window, channels, activation):
            AveragePool2D.fast(input: floatInput, output: floatOutput, window: window, channels: channels, activation: activation)
        case let .resizeBilinear(geometry):
            ResizeBilinear.fast(input: floatInput, output: floatOutput, geometry: geometry)
        case let .transposeConv2d(weights, bias, window, inputChannels, outputChannels):
            TransposeConv2D.fast(input: floatInput, weights: weights, bias: bias, output: floatOutput, window: window,
                                 inputChannels: inputChannels, outputChannels: outputChannels)
        case let .quantizedLookup(table):
            table.fast(int8Input, output: int8Output)
        case let .quantizedMul(other, parameters):
            QuantizedMul.fast(int8Input, other, output: int8Output, parameters: parameters)
        case let .quantizedAveragePool2d(window, channels, range):
            QuantizedPool2D.averageFast(input: int8Input, output: int8Output, window: window, channels: channels,
                                        activationRange: range)
        case let .quantizedResizeBilinear(geometry):
            QuantizedResize.bilinearFast(input: int8Input, output: int8Output, geometry: geometry)
        case let .quantizedTransposeConv2d(weights, bias, zeroPoint, window, inputChannels, outputChannels, requantizer):
            weights.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    QuantizedTransposeConv2D.fast(input: int8Input, inputZeroPoint: zeroPoint, weights: w, bias: b,
                                                  output: int8Output, window: window, inputChannels: inputChannels,
                                                  outputChannels: outputChannels, requantizer: requantizer)
                }
            }
        }
    }
}

/// Calls `body` with a buffer pointer to `array`, or with nil when there is no array.
private func withOptionalBuffer<T, R>(_ array: [T]?, _ body: (UnsafeBufferPointer<T>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0) }
}
