import ParlaKernels

/// Checks a decoded graph before anything runs: tensor shapes and data ranges, op arities, that every op reads
/// only defined tensors and writes each activation once, and that every declared output shape equals the shape
/// computed from the op's inputs and attributes. Produces the validated ops or a one-line `ModelError`.
struct GraphValidator {
    /// Largest tensor the reader accepts (elements); keeps all size arithmetic far from overflow.
    static let maximumElements = 1 << 28

    let file: String
    let document: ModelDocument
    let dataLength: Int

    private(set) var tensors: [ModelTensor] = []
    private(set) var operations: [Operation] = []

    init(file: String, document: ModelDocument, dataLength: Int) {
        self.file = file
        self.document = document
        self.dataLength = dataLength
    }

    private func fail(_ problem: String) -> ModelError { ModelError(file: file, problem: problem) }

    mutating func validate() throws {
        try validateTensors()
        var defined = tensors.map(\.isConstant)
        guard !document.inputs.isEmpty else { throw fail("graph has no inputs") }
        guard !document.outputs.isEmpty else { throw fail("graph has no outputs") }
        for index in document.inputs {
            let tensor = try reference(index, "graph input")
            guard !tensor.isConstant else { throw fail("graph input '\(tensor.name)' is a constant") }
            guard !defined[index] else { throw fail("graph input '\(tensor.name)' is listed twice") }
            defined[index] = true
        }
        for (number, entry) in document.ops.enumerated() {
            let op = try validate(entry, label: "op \(number) \(entry.type)", defined: defined)
            for output in entry.outputs { defined[output] = true }
            operations.append(op)
        }
        for index in document.outputs {
            let tensor = try reference(index, "graph output")
            guard defined[index], !tensor.isConstant else {
                throw fail("graph output '\(tensor.name)' is not computed by any op")
            }
        }
    }

    private mutating func validateTensors() throws {
        for entry in document.tensors {
            let label = "tensor '\(entry.name)'"
            guard entry.dtype == "f32" else {
                throw fail("\(label) has dtype '\(entry.dtype)'; this reader runs f32 models only")
            }
            guard !entry.shape.isEmpty, entry.shape.count <= 6 else {
                throw fail("\(label) has rank \(entry.shape.count); ranks 1...6 are supported")
            }
            var count = 1
            for dimension in entry.shape {
                guard dimension >= 1 else { throw fail("\(label) shape \(entry.shape) has a dimension below 1") }
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= Self.maximumElements else {
                    throw fail("\(label) shape \(entry.shape) is too large")
                }
                count = product
            }
            switch (entry.offset, entry.length) {
            case (nil, nil):
                tensors.append(ModelTensor(name: entry.name, shape: entry.shape, isConstant: false))
            case let (offset?, length?):
                guard offset >= 0, length >= 0, offset <= dataLength, length <= dataLength - offset else {
                    throw fail("\(label) data range \(offset)..\(offset &+ length) exceeds data section of \(dataLength) bytes")
                }
                guard offset % ModelFileHeader.alignment == 0 else {
                    throw fail("\(label) data offset \(offset) is not a multiple of \(ModelFileHeader.alignment)")
                }
                guard length == count * 4 else {
                    throw fail("\(label) data length \(length) does not match shape \(entry.shape) (f32: \(count * 4) bytes)")
                }
                tensors.append(ModelTensor(name: entry.name, shape: entry.shape, isConstant: true))
            default:
                throw fail("\(label) has only one of offset and length")
            }
        }
    }

    private func reference(_ index: Int, _ role: String) throws -> ModelTensor {
        guard index >= 0, index < tensors.count else {
            throw fail("\(role) refers to tensor \(index), but there are \(tensors.count) tensors")
        }
        return tensors[index]
    }

    // MARK: ops

    private func validate(_ entry: ModelDocument.OperationEntry, label: String, defined: [Bool]) throws -> Operation {
        for (slot, index) in entry.inputs.enumerated() {
            let tensor = try reference(index, "\(label): input \(slot)")
            guard defined[index] else { throw fail("\(label): input '\(tensor.name)' is used before it is computed") }
        }
        guard entry.outputs.count == 1 else { throw fail("\(label): expected 1 output, found \(entry.outputs.count)") }
        let output = entry.outputs[0]
        let outputTensor = try reference(output, "\(label): output")
        guard !outputTensor.isConstant, !defined[output] else {
            throw fail("\(label): output '\(outputTensor.name)' is a constant, a graph input or written twice")
        }
        let attributes = entry.attributes ?? ModelDocument.Attributes()
        let inputs = entry.inputs
        func arity(_ allowed: ClosedRange<Int>) throws {
            guard allowed.contains(inputs.count) else {
                throw fail("\(label): expected \(allowed.lowerBound == allowed.upperBound ? "\(allowed.lowerBound)" : "\(allowed.lowerBound)-\(allowed.upperBound)") inputs, found \(inputs.count)")
            }
        }
        func shape(_ index: Int) -> [Int] { tensors[index].shape }
        func expectOutput(_ computed: [Int]) throws {
            guard outputTensor.shape == computed else {
                throw fail("\(label): output shape \(outputTensor.shape) does not match computed shape \(computed)")
            }
        }
        func constant(_ index: Int, _ role: String) throws {
            guard tensors[index].isConstant else { throw fail("\(label): \(role) '\(tensors[index].name)' must be a constant") }
        }
        func image(_ index: Int) throws -> (h: Int, w: Int, c: Int) {
            let s = shape(index)
            guard s.count == 4, s[0] == 1 else { throw fail("\(label): input shape \(s) is not NHWC with batch 1") }
            return (s[1], s[2], s[3])
        }
        let activation = try parseActivation(attributes.activation, label)

        switch entry.type {
        case "conv2d", "depthwise_conv2d":
            try arity(2...3)
            let x = try image(inputs[0])
            let w = shape(inputs[1])
            try constant(inputs[1], "weight")
            let depthwise = entry.type == "depthwise_conv2d"
            guard w.count == 4, depthwise ? (w[0] == 1 && w[3] == x.c) : (w[3] == x.c) else {
                throw fail("\(label): weight shape \(w) does not match input channels \(x.c)")
            }
            let outChannels = depthwise ? x.c : w[0]
            var bias: Int?
            if inputs.count == 3 {
                try constant(inputs[2], "bias")
                guard tensors[inputs[2]].count == outChannels else {
                    throw fail("\(label): bias shape \(shape(inputs[2])) does not match output channels \(outChannels)")
                }
                bias = inputs[2]
            }
            let window = try makeWindow(attributes, label, input: x, kernel: (w[1], w[2]))
            try expectOutput([1, window.outputHeight, window.outputWidth, outChannels])
            if depthwise {
                return .depthwiseConv2d(input: inputs[0], weights: inputs[1], bias: bias, output: output,
                                        window: window, channels: x.c, activation: activation)
            }
            return .conv2d(input: inputs[0], weights: inputs[1], bias: bias, output: output, window: window,
                           inputChannels: x.c, outputChannels: outChannels, activation: activation)
        case "max_pool2d":
            try arity(1...1)
            let x = try image(inputs[0])
            guard let filter = attributes.filter, filter.count == 2 else {
                throw fail("\(label): attribute 'filter' must be [height, width]")
            }
            let window = try makeWindow(attributes, label, input: x, kernel: (filter[0], filter[1]))
            try expectOutput([1, window.outputHeight, window.outputWidth, x.c])
            return .maxPool2d(input: inputs[0], output: output, window: window, channels: x.c, activation: activation)
        case "add":
            try arity(2...2)
            guard shape(inputs[0]) == shape(inputs[1]) else {
                throw fail("\(label): input shapes \(shape(inputs[0])) and \(shape(inputs[1])) differ (no broadcasting)")
            }
            try expectOutput(shape(inputs[0]))
            return .add(a: inputs[0], b: inputs[1], output: output, activation: activation)
        case "relu", "relu6":
            try arity(1...1)
            try expectOutput(shape(inputs[0]))
            return .activation(input: inputs[0], output: output, activation: entry.type == "relu" ? .relu : .relu6)
        case "prelu":
            try arity(2...2)
            let x = shape(inputs[0])
            let slopes = shape(inputs[1])
            try constant(inputs[1], "slope")
            guard slopes.last == x.last, slopes.dropLast().allSatisfy({ $0 == 1 }) else {
                throw fail("\(label): slope shape \(slopes) does not match input channels \(x.last ?? 0)")
            }
            try expectOutput(x)
            return .prelu(input: inputs[0], slopes: inputs[1], output: output, channels: x.last ?? 1)
        case "pad":
            try arity(1...1)
            let x = shape(inputs[0])
            guard let paddings = attributes.paddings, paddings.count == 2 * x.count, paddings.allSatisfy({ $0 >= 0 }),
                  paddings.allSatisfy({ $0 <= Self.maximumElements }) else {
                throw fail("\(label): attribute 'paddings' must hold \(2 * x.count) non-negative values for input shape \(x)")
            }
            let before = stride(from: 0, to: paddings.count, by: 2).map { paddings[$0] }
            let after = stride(from: 1, to: paddings.count, by: 2).map { paddings[$0] }
            try expectOutput(Pad.outputShape(input: x, before: before, after: after) ?? [])
            return .pad(input: inputs[0], output: output, before: before, after: after)
        case "concat":
            guard !inputs.isEmpty else { throw fail("\(label): expected at least 1 input, found 0") }
            let shapes = inputs.map(shape)
            guard let axis = attributes.axis, let computed = Concat.outputShape(inputs: shapes, axis: axis) else {
                throw fail("\(label): input shapes \(shapes) cannot be concatenated on axis \(attributes.axis.map(String.init) ?? "(missing)")")
            }
            try expectOutput(computed)
            return .concat(inputs: inputs, output: output, axis: axis)
        case "reshape":
            try arity(1...1)
            guard tensors[inputs[0]].count == outputTensor.count, attributes.shape.map({ $0 == outputTensor.shape }) ?? true else {
                throw fail("\(label): cannot reshape \(shape(inputs[0])) to \(attributes.shape ?? outputTensor.shape)")
            }
            return .reshape(input: inputs[0], output: output)
        default:
            throw fail("\(label): unknown op type '\(entry.type)'")
        }
    }

    private func parseActivation(_ text: String?, _ label: String) throws -> FusedActivation {
        guard let text else { return .none }
        guard let activation = FusedActivation(rawValue: text) else {
            throw fail("\(label): unknown activation '\(text)' (none, relu, relu6)")
        }
        return activation
    }

    private func makeWindow(_ attributes: ModelDocument.Attributes, _ label: String, input: (h: Int, w: Int, c: Int),
                            kernel: (Int, Int)) throws -> Window2D {
        guard let strides = attributes.strides, strides.count == 2 else {
            throw fail("\(label): attribute 'strides' must be [y, x]")
        }
        let mode: PaddingMode
        switch attributes.padding {
        case "same": mode = .same
        case "valid": mode = .valid
        case "explicit":
            guard let p = attributes.explicitPadding, p.count == 4 else {
                throw fail("\(label): attribute 'explicitPadding' must be [top, bottom, left, right]")
            }
            mode = .explicit(top: p[0], bottom: p[1], left: p[2], right: p[3])
        default:
            throw fail("\(label): attribute 'padding' must be same, valid or explicit, not \(attributes.padding ?? "(missing)")")
        }
        guard let window = Window2D(inputHeight: input.h, inputWidth: input.w, kernelHeight: kernel.0,
                                    kernelWidth: kernel.1, strideY: strides[0], strideX: strides[1], padding: mode) else {
            throw fail("\(label): kernel \(kernel.0)x\(kernel.1) stride \(strides) padding \(attributes.padding ?? "") does not fit input \(input.h)x\(input.w)")
        }
        return window
    }
}
