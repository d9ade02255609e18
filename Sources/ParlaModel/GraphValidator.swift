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
            guard let dataType = TensorDataType(rawValue: entry.dtype) else {
                throw fail("\(label) has dtype '\(entry.dtype)'; this reader knows f32, i8 and i32")
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
            let quantization = try validateQuantization(entry, dataType: dataType, label: label)
            switch (entry.offset, entry.length) {
            case (nil, nil):
                tensors.append(ModelTensor(name: entry.name, shape: entry.shape, isConstant: false, dataType: dataType,
                                           quantization: quantization))
            case let (offset?, length?):
                guard offset >= 0, length >= 0, offset <= dataLength, length <= dataLength - offset else {
                    throw fail("\(label) data range \(offset)..\(offset &+ length) exceeds data section of \(dataLength) bytes")
                }
                guard offset % ModelFileHeader.alignment == 0 else {
                    throw fail("\(label) data offset \(offset) is not a multiple of \(ModelFileHeader.alignment)")
                }
                guard length == count * dataType.size else {
                    throw fail("\(label) data length \(length) does not match shape \(entry.shape) (\(entry.dtype): \(count * dataType.size) bytes)")
                }
                tensors.append(ModelTensor(name: entry.name, shape: entry.shape, isConstant: true, dataType: dataType,
                                           quantization: quantization))
            default:
                throw fail("\(label) has only one of offset and length")
            }
        }
    }

    /// Scales positive, finite and within 1e-30...1e30 (so every derived multiplier is a finite double); zero
    /// points within int8; per-channel counts matching the axis.
    private func validateQuantization(_ entry: ModelDocument.TensorEntry, dataType: TensorDataType,
                                      label: String) throws -> TensorQuantization? {
        guard dataType != .f32 else {
            guard entry.scales == nil, entry.zeroPoints == nil else { throw fail("\(label) is f32 but has quantization parameters") }
            return nil
        }
        guard let scales = entry.scales, let zeroPoints = entry.zeroPoints, !scales.isEmpty,
              scales.count == zeroPoints.count else {
            throw fail("\(label) (\(entry.dtype)) needs as many scales as zeroPoints (at least one)")
        }
        guard scales.allSatisfy({ $0.isFinite && $0 >= 1e-30 && $0 <= 1e30 }) else {
            throw fail("\(label) has a scale outside 1e-30...1e30")
        }
        guard zeroPoints.allSatisfy({ (-128...127).contains($0) }) else {
            throw fail("\(label) has a zero point outside -128...127")
        }
        if let axis = entry.quantizedAxis {
            guard axis >= 0, axis < entry.shape.count, entry.shape[axis] == scales.count else {
                throw fail("\(label) quantizedAxis \(axis) does not match \(scales.count) scales for shape \(entry.shape)")
            }
        } else if scales.count != 1 {
            throw fail("\(label) has \(scales.count) scales but no quantizedAxis")
        }
        return TensorQuantization(scales: scales, zeroPoints: zeroPoints.map { Int32($0) }, axis: entry.quantizedAxis)
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
        let isPReLUActivation = attributes.activation == "prelu"
        let activation = isPReLUActivation ? .none : try parseActivation(attributes.activation, label)
        let quantized = tensors[inputs.first ?? output].dataType == .i8 || outputTensor.dataType == .i8
        if quantized || entry.type == "quantize" || entry.type == "dequantize" {
            return try validateQuantized(entry, label: label, inputs: inputs, output: output, attributes: attributes,
                                         activation: activation, prelu: isPReLUActivation)
        }
        for index in inputs + [output] where tensors[index].dataType != .f32 {
            throw fail("\(label): tensor '\(tensors[index].name)' is \(tensors[index].dataType.rawValue); a float op needs f32")
        }
        guard !isPReLUActivation else { throw fail("\(label): activation prelu needs int8 tensors") }

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
            let window = try poolWindow(attributes, label, input: x)
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
            let (before, after) = try padAmounts(attributes, label, input: x)
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
        case "hard_swish", "logistic":
            try arity(1...1)
            try expectOutput(shape(inputs[0]))
            return entry.type == "logistic" ? .logistic(input: inputs[0], output: output)
                                            : .hardSwish(input: inputs[0], output: output)
        case "mul":
            try arity(2...2)
            try checkBroadcast(shape(inputs[0]), shape(inputs[1]), label)
            try expectOutput(shape(inputs[0]))
            return .mul(a: inputs[0], b: inputs[1], output: output, activation: activation)
        case "average_pool2d":
            try arity(1...1)
            let x = try image(inputs[0])
            let window = try poolWindow(attributes, label, input: x)
            try expectOutput([1, window.outputHeight, window.outputWidth, x.c])
            return .averagePool2d(input: inputs[0], output: output, window: window, channels: x.c, activation: activation)
        case "resize_bilinear":
            try arity(1...1)
            let geometry = try resizeGeometry(try image(inputs[0]), outputTensor.shape, attributes, label)
            return .resizeBilinear(input: inputs[0], output: output, geometry: geometry)
        case "conv2d_transpose":
            try arity(2...3)
            let x = try image(inputs[0])
            try constant(inputs[1], "weight")
            var bias: Int?
            if inputs.count == 3 {
                try constant(inputs[2], "bias")
                bias = inputs[2]
            }
            let (window, outChannels) = try transposedWindow(x, weights: shape(inputs[1]), bias: bias.map { tensors[$0].count },
                                                             attributes, label)
            try expectOutput([1, window.outputHeight, window.outputWidth, outChannels])
            return .transposeConv2d(input: inputs[0], weights: inputs[1], bias: bias, output: output, window: window,
                                    inputChannels: x.c, outputChannels: outChannels)
        default:
            throw fail("\(label): unknown op type '\(entry.type)'")
        }
    }

    /// Checks an int8 op (or quantize/dequantize): dtypes, per-tensor activations, per-channel weights, shapes.
    private func validateQuantized(_ entry: ModelDocument.OperationEntry, label: String, inputs: [Int], output: Int,
                                   attributes: ModelDocument.Attributes, activation: FusedActivation,
                                   prelu: Bool) throws -> Operation {
        func shape(_ index: Int) -> [Int] { tensors[index].shape }
        func arity(_ n: Int) throws {
            guard inputs.count == n else { throw fail("\(label): expected \(n) inputs, found \(inputs.count)") }
        }
        func activationTensor(_ index: Int) throws {
            let t = tensors[index]
            guard t.dataType == .i8, !t.isConstant, let q = t.quantization, q.scales.count == 1 else {
                throw fail("\(label): tensor '\(t.name)' must be an i8 activation with one scale and zero point")
            }
        }
        func float(_ index: Int, constant: Bool) throws {
            let t = tensors[index]
            guard t.dataType == .f32, t.isConstant == constant else {
                throw fail("\(label): tensor '\(t.name)' must be an f32 \(constant ? "constant" : "activation")")
            }
        }
        func expectOutput(_ computed: [Int]) throws {
            guard shape(output) == computed else {
                throw fail("\(label): output shape \(shape(output)) does not match computed shape \(computed)")
            }
        }
        func sameQuantization(_ a: Int, _ b: Int) throws {
            guard tensors[a].quantization == tensors[b].quantization else {
                throw fail("\(label): '\(tensors[a].name)' and '\(tensors[b].name)' must share scale and zero point")
            }
        }
        func image(_ index: Int) throws -> (h: Int, w: Int, c: Int) {
            let s = shape(index)
            guard s.count == 4, s[0] == 1 else { throw fail("\(label): input shape \(s) is not NHWC with batch 1") }
            return (s[1], s[2], s[3])
        }
        if prelu && !["conv2d", "depthwise_conv2d", "add"].contains(entry.type) {
            throw fail("\(label): activation prelu is only fused into conv2d, depthwise_conv2d and add")
        }
        switch entry.type {
        case "quantize":
            try arity(1)
            try float(inputs[0], constant: false)
            try activationTensor(output)
            try expectOutput(shape(inputs[0]))
            return .quantize(input: inputs[0], output: output)
        case "dequantize":
            try arity(1)
            try activationTensor(inputs[0])
            try float(output, constant: false)
            try expectOutput(shape(inputs[0]))
            return .dequantize(input: inputs[0], output: output)
        case "conv2d", "depthwise_conv2d":
            try arity(prelu ? 4 : 3)
            try activationTensor(inputs[0])
            try activationTensor(output)
            let x = try image(inputs[0])
            let depthwise = entry.type == "depthwise_conv2d"
            let w = tensors[inputs[1]]
            guard w.isConstant, w.dataType == .i8, w.shape.count == 4,
                  depthwise ? (w.shape[0] == 1 && w.shape[3] == x.c) : (w.shape[3] == x.c) else {
                throw fail("\(label): weight '\(w.name)' must be an i8 constant matching input channels \(x.c), found \(w.shape)")
            }
            let outChannels = depthwise ? x.c : w.shape[0]
            guard let wq = w.quantization, wq.axis == (depthwise ? 3 : 0), wq.scales.count == outChannels,
                  wq.zeroPoints.allSatisfy({ $0 == 0 }) else {
                throw fail("\(label): weight '\(w.name)' needs \(outChannels) per-channel scales on axis \(depthwise ? 3 : 0) with zero points 0")
            }
            let b = tensors[inputs[2]]
            guard b.isConstant, b.dataType == .i32, b.count == outChannels else {
                throw fail("\(label): bias '\(b.name)' must be an i32 constant of \(outChannels) values")
            }
            var slopes: Int?
            if prelu {
                try float(inputs[3], constant: true)
                guard tensors[inputs[3]].count == outChannels else {
                    throw fail("\(label): prelu slopes '\(tensors[inputs[3]].name)' must hold \(outChannels) values")
                }
                slopes = inputs[3]
            }
            let window = try makeWindow(attributes, label, input: x, kernel: (w.shape[1], w.shape[2]))
            try expectOutput([1, window.outputHeight, window.outputWidth, outChannels])
            if depthwise {
                return .quantizedDepthwiseConv2d(input: inputs[0], weights: inputs[1], bias: inputs[2], output: output,
                                                 window: window, channels: x.c, activation: activation, prelu: slopes)
            }
            return .quantizedConv2d(input: inputs[0], weights: inputs[1], bias: inputs[2], output: output, window: window,
                                    inputChannels: x.c, outputChannels: outChannels, activation: activation, prelu: slopes)
        case "add":
            guard inputs.count == (prelu ? 3 : 2) else {
                throw fail("\(label): expected \(prelu ? "3 inputs (a, b, prelu slopes)" : "2 inputs"), found \(inputs.count)")
            }
            for index in inputs.prefix(2) + [output] { try activationTensor(index) }
            guard shape(inputs[0]) == shape(inputs[1]) else {
                throw fail("\(label): input shapes \(shape(inputs[0])) and \(shape(inputs[1])) differ (no broadcasting)")
            }
            try expectOutput(shape(inputs[0]))
            var slopes: Int?
            if prelu {
                try float(inputs[2], constant: true)
                let channels = shape(inputs[0]).last ?? 1
                guard channels > 0, tensors[inputs[2]].count == channels else {
                    throw fail("\(label): prelu slopes '\(tensors[inputs[2]].name)' must hold \(channels) values")
                }
                slopes = inputs[2]
            }
            return .quantizedAdd(a: inputs[0], b: inputs[1], output: output, activation: activation, prelu: slopes)
        case "prelu":
            try arity(2)
            try activationTensor(inputs[0])
            try activationTensor(output)
            try float(inputs[1], constant: true)
            let channels = shape(inputs[0]).last ?? 1
            guard tensors[inputs[1]].count == channels else {
                throw fail("\(label): slope shape \(shape(inputs[1])) does not match input channels \(channels)")
            }
            try expectOutput(shape(inputs[0]))
            return .quantizedPReLU(input: inputs[0], slopes: inputs[1], output: output, channels: channels)
        case "max_pool2d":
            try arity(1)
            try activationTensor(inputs[0])
            try activationTensor(output)
            try sameQuantization(inputs[0], output)
            let x = try image(inputs[0])
            let window = try poolWindow(attributes, label, input: x)
            try expectOutput([1, window.outputHeight, window.outputWidth, x.c])
            return .quantizedMaxPool2d(input: inputs[0], output: output, window: window, channels: x.c, activation: activation)
        case "pad":
            try arity(1)
            try activationTensor(inputs[0])
            try activationTensor(output)
            try sameQuantization(inputs[0], output)
            let x = shape(inputs[0])
            let (before, after) = try padAmounts(attributes, label, input: x)
            try expectOutput(Pad.outputShape(input: x, before: before, after: after) ?? [])
            return .quantizedPad(input: inputs[0], output: output, before: before, after: after)
        case "concat":
            guard !inputs.isEmpty else { throw fail("\(label): expected at least 1 input, found 0") }
            for index in inputs + [output] { try activationTensor(index) }
            let shapes = inputs.map(shape)
            guard let axis = attributes.axis, let computed = Concat.outputShape(inputs: shapes, axis: axis) else {
                throw fail("\(label): input shapes \(shapes) cannot be concatenated on axis \(attributes.axis.map(String.init) ?? "(missing)")")
            }
            try expectOutput(computed)
            return .quantizedConcat(inputs: inputs, output: output, axis: axis)
        case "reshape":
            try arity(1)
            try activationTensor(inputs[0])
            try activationTensor(output)
            try sameQuantization(inputs[0], output)
            guard tensors[inputs[0]].count == tensors[output].count,
                  attributes.shape.map({ $0 == shape(output) }) ?? true else {
                throw fail("\(label): cannot reshape \(shape(inputs[0])) to \(attributes.shape ?? shape(output))")
            }
            return .quantizedReshape(input: inputs[0], output: output)
        case "hard_swish", "logistic":
            try arity(1)
            try activationTensor(inputs[0])
            try activationTensor(output)
            try expectOutput(shape(inputs[0]))
            return .quantizedLookup(input: inputs[0], output: output,
                                    function: entry.type == "logistic" ? .logistic : .hardSwish)
        case "mul":
            try arity(2)
            for index in inputs + [output] { try activationTensor(index) }
            try checkBroadcast(shape(inputs[0]), shape(inputs[1]), label)
            try expectOutput(shape(inputs[0]))
            return .quantizedMul(a: inputs[0], b: inputs[1], output: output, activation: activation)
        case "average_pool2d":
            try arity(1)
            try activationTensor(inputs[0])
            try activationTensor(output)
            try sameQuantization(inputs[0], output)
            let x = try image(inputs[0])
            let window = try poolWindow(attributes, label, input: x)
            guard window.kernelHeight * window.kernelWidth <= 1 << 23 else {
                throw fail("\(label): pooling window [\(window.kernelHeight), \(window.kernelWidth)] is too large for int32 sums")
            }
            try expectOutput([1, window.outputHeight, window.outputWidth, x.c])
            return .quantizedAveragePool2d(input: inputs[0], output: output, window: window, channels: x.c,
                                           activation: activation)
        case "resize_bilinear":
            try arity(1)
            try activationTensor(inputs[0])
            try activationTensor(output)
            try sameQuantization(inputs[0], output)
            let geometry = try resizeGeometry(try image(inputs[0]), shape(output), attributes, label)
            return .quantizedResizeBilinear(input: inputs[0], output: output, geometry: geometry)
        case "conv2d_transpose":
            try arity(3)
            try activationTensor(inputs[0])
            try activationTensor(output)
            let x = try image(inputs[0])
            let w = tensors[inputs[1]]
            guard w.isConstant, w.dataType == .i8, w.shape.count == 4, w.shape[3] == x.c else {
                throw fail("\(label): weight '\(w.name)' must be an i8 constant matching input channels \(x.c), found \(w.shape)")
            }
            guard let wq = w.quantization, wq.axis == 0, wq.scales.count == w.shape[0],
                  wq.zeroPoints.allSatisfy({ $0 == 0 }) else {
                throw fail("\(label): weight '\(w.name)' needs \(w.shape[0]) per-channel scales on axis 0 with zero points 0")
            }
            let b = tensors[inputs[2]]
            guard b.isConstant, b.dataType == .i32 else {
                throw fail("\(label): bias '\(b.name)' must be an i32 constant of \(w.shape[0]) values")
            }
            let (window, outChannels) = try transposedWindow(x, weights: w.shape, bias: b.count, attributes, label)
            try expectOutput([1, window.outputHeight, window.outputWidth, outChannels])
            return .quantizedTransposeConv2d(input: inputs[0], weights: inputs[1], bias: inputs[2], output: output,
                                             window: window, inputChannels: x.c, outputChannels: outChannels)
        default:
            throw fail("\(label): op type '\(entry.type)' has no int8 form")
        }
    }

    /// `b` is the shape of `a`, or `[1, …, 1, C]` of the same rank with `C` = `a`'s last dimension.
    private func checkBroadcast(_ a: [Int], _ b: [Int], _ label: String) throws {
        let perChannel = b.count == a.count && b.last == a.last && b.dropLast().allSatisfy { $0 == 1 }
        guard a == b || perChannel else {
            throw fail("\(label): input shapes \(a) and \(b) cannot be multiplied (same shape or [1, ..., 1, C] only)")
        }
    }

    /// The geometry of a resize from an NHWC input to the declared NHWC output (channels unchanged).
    private func resizeGeometry(_ x: (h: Int, w: Int, c: Int), _ out: [Int], _ attributes: ModelDocument.Attributes,
                                _ label: String) throws -> QuantizedResize.Geometry {
        guard out.count == 4, out[0] == 1, out[3] == x.c,
              let g = QuantizedResize.Geometry(inputHeight: x.h, inputWidth: x.w, outputHeight: out[1], outputWidth: out[2],
                                               channels: x.c, alignCorners: attributes.alignCorners ?? false,
                                               halfPixelCenters: attributes.halfPixelCenters ?? false) else {
            throw fail("\(label): cannot resize [1, \(x.h), \(x.w), \(x.c)] to \(out) (alignCorners and halfPixelCenters exclude each other)")
        }
        return g
    }

    /// The window and output channels of a transposed convolution with OHWI weights of shape `weights`.
    private func transposedWindow(_ x: (h: Int, w: Int, c: Int), weights w: [Int], bias: Int?,
                                  _ attributes: ModelDocument.Attributes, _ label: String) throws -> (TransposedWindow2D, Int) {
        guard w.count == 4, w[3] == x.c else {
            throw fail("\(label): weight shape \(w) does not match input channels \(x.c)")
        }
        guard bias.map({ $0 == w[0] }) ?? true else {
            throw fail("\(label): bias does not hold \(w[0]) values (one per output channel)")
        }
        guard (attributes.activation ?? "none") == "none" else {
            throw fail("\(label): a transposed convolution takes no fused activation")
        }
        guard let strides = attributes.strides, strides.count == 2 else {
            throw fail("\(label): attribute 'strides' must be [y, x]")
        }
        let mode: PaddingMode
        switch attributes.padding {
        case "same": mode = .same
        case "valid": mode = .valid
        default: throw fail("\(label): attribute 'padding' must be same or valid, not \(attributes.padding ?? "(missing)")")
        }
        guard let window = TransposedWindow2D(inputHeight: x.h, inputWidth: x.w, kernelHeight: w[1], kernelWidth: w[2],
                                              strideY: strides[0], strideX: strides[1], padding: mode),
              window.outputHeight * window.outputWidth * w[0] <= Self.maximumElements else {
            throw fail("\(label): kernel \(w[1])x\(w[2]) stride \(strides) does not fit input \(x.h)x\(x.w)")
        }
        return (window, w[0])
    }

    private func parseActivation(_ text: String?, _ label: String) throws -> FusedActivation {
        guard let text else { return .none }
        guard let activation = FusedActivation(rawValue: text) else {
            throw fail("\(label): unknown activation '\(text)' (none, relu, relu6, prelu)")
        }
        return activation
    }

    /// A pad op's 'paddings' attribute ([before, after] per axis of `input`) split into the two lists.
    private func padAmounts(_ attributes: ModelDocument.Attributes, _ label: String, input x: [Int]) throws -> (before: [Int], after: [Int]) {
        guard let paddings = attributes.paddings, paddings.count == 2 * x.count, paddings.allSatisfy({ $0 >= 0 }),
              paddings.allSatisfy({ $0 <= Self.maximumElements }) else {
            throw fail("\(label): attribute 'paddings' must hold \(2 * x.count) non-negative values for input shape \(x)")
        }
        return (stride(from: 0, to: paddings.count, by: 2).map { paddings[$0] }, stride(from: 1, to: paddings.count, by: 2).map { paddings[$0] })
    }

    /// The window of a pooling op: its 'filter' attribute [height, width], then strides and padding as for a conv.
    private func poolWindow(_ attributes: ModelDocument.Attributes, _ label: String, input: (h: Int, w: Int, c: Int)) throws -> Window2D {
        guard let filter = attributes.filter, filter.count == 2 else {
            throw fail("\(label): attribute 'filter' must be [height, width]")
        }
        return try makeWindow(attributes, label, input: input, kernel: (filter[0], filter[1]))
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
