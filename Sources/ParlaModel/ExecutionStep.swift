import ParlaKernels

/// One op bound to its planned buffers, ready to run: pointers into the executor's arenas (stable for the
/// executor's lifetime) and prepared parameters such as repacked convolution weights.
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
        case reshape
    }

    /// The op type, for profiles.
    let name: String
    private let kernel: Kernel
    private let input: UnsafeBufferPointer<Float>
    private let output: UnsafeMutableBufferPointer<Float>

    init(_ op: Operation, model: Model, resolver: BufferResolver) {
        let input = resolver.buffer
        output = resolver.mutableBuffer(op.outputIndex)
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
            self.input = input(x)
        case let .depthwiseConv2d(x, weights, bias, _, window, channels, activation):
            name = "depthwise_conv2d \(window.kernelHeight)x\(window.kernelWidth)/\(window.strideY) \(channels)"
            kernel = .depthwiseConv2d(weights: input(weights), bias: bias.map(input), window, channels: channels, activation)
            self.input = input(x)
        case let .add(a, b, _, activation):
            name = "add"
            kernel = .add(input(b), activation)
            self.input = input(a)
        case let .activation(x, _, activation):
            name = activation.rawValue
            kernel = .activation(activation)
            self.input = input(x)
        case let .prelu(x, slopes, _, channels):
            name = "prelu"
            kernel = .prelu(slopes: input(slopes), channels: channels)
            self.input = input(x)
        case let .maxPool2d(x, _, window, channels, activation):
            name = "max_pool2d"
            kernel = .maxPool2d(window, channels: channels, activation)
            self.input = input(x)
        case let .pad(x, _, before, after):
            name = "pad"
            kernel = .pad(inputShape: model.tensors[x].shape, before: before, after: after)
            self.input = input(x)
        case let .concat(inputs, _, axis):
            name = "concat"
            kernel = .concat(inputs: inputs.map(input), shapes: inputs.map { model.tensors[$0].shape }, axis: axis)
            self.input = input(inputs[0])
        case let .reshape(x, _):
            name = "reshape"
            kernel = .reshape
            self.input = input(x)
        }
    }

    /// Runs the op with the fast kernels.
    func execute() {
        switch kernel {
        case let .conv2d(packed, window, activation):
            Conv2D.fast(input: input, packed: packed, output: output, window: window, activation: activation)
        case let .depthwiseConv2d(weights, bias, window, channels, activation):
            DepthwiseConv2D.fast(input: input, weights: weights, bias: bias, output: output, window: window,
                                 channels: channels, activation: activation)
        case let .add(other, activation):
            Add.fast(a: input, b: other, output: output, activation: activation)
        case let .activation(activation):
            Activation.fast(input: input, output: output, activation: activation)
        case let .prelu(slopes, channels):
            PReLU.fast(input: input, slopes: slopes, output: output, channels: channels)
        case let .maxPool2d(window, channels, activation):
            MaxPool2D.fast(input: input, output: output, window: window, channels: channels, activation: activation)
        case let .pad(inputShape, before, after):
            Pad.fast(input: input, inputShape: inputShape, before: before, after: after, output: output)
        case let .concat(inputs, shapes, axis):
            Concat.fast(inputs: inputs, shapes: shapes, axis: axis, output: output)
        case .reshape:
            Reshape.fast(input: input, output: output)
        }
    }
}

/// Calls `body` with a buffer pointer to `array`, or with nil when there is no array.
private func withOptionalBuffer<R>(_ array: [Float]?, _ body: (UnsafeBufferPointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0) }
}
