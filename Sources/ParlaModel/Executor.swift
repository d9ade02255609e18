import ParlaKernels

/// Runs a model's graph with the fast kernels: fp32 graphs on the fp32 kernels, int8 graphs (format version 2)
/// on the int8 kernels of `ParlaKernels/Quantized`, with float layers where the file keeps them. All memory is
/// planned at init: one byte arena for activations (tensors share space once their last reader has run), one for
/// the float constants kernels read directly, repacked weights, and per-thread scratch. `run` allocates only the
/// returned output tensors. Not thread-safe: use one executor per thread (a `Model` can be shared).
public final class Executor {
    /// The model this executor runs.
    public let model: Model
    /// Bytes in the activation arena (the peak working memory of one run).
    public let activationArenaBytes: Int
    /// Floats the activation arena would hold (bytes / 4), kept for callers of the fp32 executor.
    public var activationArenaCount: Int { activationArenaBytes / 4 }
    /// Threads the convolutions split their output rows over.
    public let threads: Int

    private let activations: UnsafeMutableRawPointer
    private let constantArena: UnsafeMutablePointer<Float>
    private let scratch: UnsafeMutablePointer<Int16>
    private let steps: [ExecutionStep]
    private let inputBuffers: [UnsafeMutableBufferPointer<Float>]
    private let outputBuffers: [UnsafeBufferPointer<Float>]
    private let retained: [String: UnsafeBufferPointer<Float>]

    /// Plans buffers and prepares every op; throws a one-line `ModelError` if the graph cannot be run.
    /// - Parameters:
    ///   - threads: how many threads convolutions use (1 = the calling thread only).
    ///   - retaining: names of f32 activations to keep readable after `run` (see `values(of:)`), for tests.
    public init(model: Model, threads: Int = 1, retaining: [String] = []) throws {
        guard threads >= 1, threads <= 64 else {
            throw ModelError(file: model.name, problem: "thread count \(threads) is not in 1...64")
        }
        for index in model.inputIndices + model.outputIndices where model.tensors[index].dataType != .f32 {
            throw ModelError(file: model.name, problem: "graph input/output '\(model.tensors[index].name)' is not f32")
        }
        var keep: [Int] = []
        for name in retaining {
            guard let index = model.tensors.firstIndex(where: { $0.name == name }),
                  !model.tensors[index].isConstant, model.tensors[index].dataType == .f32 else {
                throw ModelError(file: model.name, problem: "no f32 activation named '\(name)' to retain")
            }
            keep.append(index)
        }
        let plan = MemoryPlan(model: model, retained: keep)
        let resolver = BufferResolver(model: model, plan: plan)
        self.model = model
        self.threads = threads
        activationArenaBytes = plan.activationBytes
        activations = resolver.activations
        constantArena = resolver.constants
        let scratchPerThread = model.operations.map { ExecutionStep.scratchCount($0, model: model) }.max() ?? 0
        scratch = .allocate(capacity: max(1, scratchPerThread * threads))
        scratch.initialize(repeating: 0, count: max(1, scratchPerThread * threads))
        let scratchPointer = scratch
        steps = model.operations.map {
            ExecutionStep($0, model: model, resolver: resolver, threads: threads, scratch: scratchPointer,
                          scratchPerThread: scratchPerThread)
        }
        inputBuffers = model.inputIndices.map { resolver.mutableBuffer($0) }
        outputBuffers = model.outputIndices.map { resolver.buffer($0) }
        var kept: [String: UnsafeBufferPointer<Float>] = [:]
        for index in keep { kept[model.tensors[index].name] = resolver.buffer(index) }
        retained = kept
    }

    deinit {
        activations.deallocate()
        constantArena.deallocate()
        scratch.deallocate()
    }

    /// Runs the graph. `inputs` are in the model's input order with exactly the model's input shapes; returns
    /// the outputs in the model's output order. A wrong input count or shape throws a one-line `ModelError`.
    public func run(_ inputs: [Tensor]) throws -> [Tensor] {
        try load(inputs)
        for step in steps { step.execute() }
        return zip(model.outputShapes, outputBuffers).map { Tensor(shape: $0, data: Array($1)) }
    }

    /// The values of a tensor named in `retaining:` as of the last run.
    public func values(of name: String) -> [Float]? { retained[name].map { Array($0) } }

    /// Runs the graph once and returns the time each op took in seconds, in graph order, with the op's
    /// description (for finding hot spots; the outputs are discarded).
    public func profile(_ inputs: [Tensor]) throws -> [(op: String, seconds: Double)] {
        _ = try run(inputs)
        let clock = ContinuousClock()
        return steps.map { step in
            let elapsed = clock.measure { step.execute() }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            return (step.name, seconds)
        }
    }

    private func load(_ inputs: [Tensor]) throws {
        guard inputs.count == inputBuffers.count else {
            throw ModelError(file: model.name, problem: "expected \(inputBuffers.count) input tensor(s), got \(inputs.count)")
        }
        for (k, tensor) in inputs.enumerated() where tensor.shape != model.inputShapes[k] || tensor.data.count != inputBuffers[k].count {
            throw ModelError(file: model.name, problem: "input \(k) '\(model.inputNames[k])' has shape \(tensor.shape), the model expects \(model.inputShapes[k])")
        }
        for (tensor, buffer) in zip(inputs, inputBuffers) {
            tensor.data.withUnsafeBufferPointer { buffer.baseAddress!.update(from: $0.baseAddress!, count: buffer.count) }
        }
    }
}

/// Allocates the two arenas of a `MemoryPlan`, copies the directly-read float constants in, and hands out typed
/// buffer pointers for tensors. The executor owns (and frees) the arenas.
struct BufferResolver {
    let activations: UnsafeMutableRawPointer
    let constants: UnsafeMutablePointer<Float>
    let model: Model
    let plan: MemoryPlan

    init(model: Model, plan: MemoryPlan) {
        self.model = model
        self.plan = plan
        let bytes = max(plan.activationBytes, 64)
        activations = .allocate(byteCount: bytes, alignment: 64)
        activations.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        constants = .allocate(capacity: max(plan.constantCount, 1))
        constants.initialize(repeating: 0, count: max(plan.constantCount, 1))
        for (index, offset) in plan.constantOffsets {
            let values = model.constants[index] ?? []
            values.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { (constants + offset).update(from: base, count: source.count) }
            }
        }
    }

    /// The writable float buffer of an activation (or, for a float constant, its slot in the constant arena).
    func mutableBuffer(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        let count = model.tensors[index].count
        if let offset = plan.activationOffsets[index] {
            return UnsafeMutableBufferPointer(start: (activations + offset).assumingMemoryBound(to: Float.self), count: count)
        }
        return UnsafeMutableBufferPointer(start: constants + (plan.constantOffsets[index] ?? 0), count: count)
    }

    /// The readable float buffer of a tensor.
    func buffer(_ index: Int) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(mutableBuffer(index)) }

    /// The writable int8 buffer of an i8 activation.
    func mutableInt8(_ index: Int) -> UnsafeMutableBufferPointer<Int8> {
        UnsafeMutableBufferPointer(start: (activations + plan.activationOffsets[index]!).assumingMemoryBound(to: Int8.self),
                                   count: model.tensors[index].count)
    }

    /// The readable int8 buffer of an i8 activation.
    func int8(_ index: Int) -> UnsafeBufferPointer<Int8> { UnsafeBufferPointer(mutableInt8(index)) }
}

/// Where every tensor lives: activations in a shared byte arena (first fit over live intervals, 64-byte aligned),
/// float constants read directly by kernels in a constant arena. Convolution weights are not placed: they are
/// repacked (int8 weights are read from the file's mapping while packing).
struct MemoryPlan {
    private(set) var activationOffsets: [Int: Int] = [:]
    private(set) var activationBytes = 0
    private(set) var constantOffsets: [Int: Int] = [:]
    private(set) var constantCount = 0

    private static func aligned(_ n: Int, _ a: Int) -> Int { (n + a - 1) / a * a }

    init(model: Model, retained: [Int] = []) {
        for op in model.operations {
            for index in op.directlyReadFloatConstants where model.tensors[index].isConstant && constantOffsets[index] == nil {
                constantOffsets[index] = constantCount
                constantCount += Self.aligned(model.tensors[index].count, 16)
            }
        }
        // Liveness: an activation lives from the op that writes it to the last op that reads it.
        var lastUse: [Int: Int] = [:]
        for (step, op) in model.operations.enumerated() {
            for index in op.inputIndices where !model.tensors[index].isConstant { lastUse[index] = step }
            lastUse[op.outputIndex] = max(lastUse[op.outputIndex] ?? step, step)
        }
        for index in model.outputIndices + retained { lastUse[index] = Int.max }
        var live: [(offset: Int, count: Int, tensor: Int)] = []
        func place(_ index: Int) {
            let count = Self.aligned(model.tensors[index].byteCount, 64)
            var offset = 0
            for block in live.sorted(by: { $0.offset < $1.offset }) {
                if block.offset - offset >= count { break }
                offset = max(offset, block.offset + block.count)
            }
            live.append((offset, count, index))
            activationOffsets[index] = offset
            activationBytes = max(activationBytes, offset + count)
        }
        for index in model.inputIndices { place(index) }
        for (step, op) in model.operations.enumerated() {
            place(op.outputIndex)
            live.removeAll { (lastUse[$0.tensor] ?? -1) <= step }
        }
    }
}

extension Operation {
    /// Float constants the fp32 kernels read in place (not repacked).
    var directlyReadFloatConstants: [Int] {
        switch self {
        case let .conv2d(input, _, _, _, _, _, _, _): return [input]  // weights and bias are repacked
        case let .depthwiseConv2d(input, weights, bias, _, _, _, _): return [input, weights] + (bias.map { [$0] } ?? [])
        case let .add(a, b, _, _): return [a, b]
        case let .prelu(input, slopes, _, _): return [input, slopes]
        case let .concat(inputs, _, _): return inputs
        case let .activation(input, _, _), let .maxPool2d(input, _, _, _, _), let .pad(input, _, _, _),
             let .reshape(input, _), let .hardSwish(input, _), let .logistic(input, _),
             let .averagePool2d(input, _, _, _, _), let .resizeBilinear(input, _, _): return [input]
        case let .mul(a, b, _, _): return [a, b]
        case let .transposeConv2d(input, weights, bias, _, _, _, _): return [input, weights] + (bias.map { [$0] } ?? [])
        default: return []  // int8 ops prepare their constants at init
        }
    }

    /// Tensor indices the op reads.
    var inputIndices: [Int] {
        switch self {
        case let .conv2d(input, weights, bias, _, _, _, _, _),
             let .depthwiseConv2d(input, weights, bias, _, _, _, _): return [input, weights] + (bias.map { [$0] } ?? [])
        case let .quantizedConv2d(input, weights, bias, _, _, _, _, _, prelu),
             let .quantizedDepthwiseConv2d(input, weights, bias, _, _, _, _, prelu):
            return [input, weights] + (bias.map { [$0] } ?? []) + (prelu.map { [$0] } ?? [])
        case let .add(a, b, _, _): return [a, b]
        case let .quantizedAdd(a, b, _, _, slopes): return [a, b] + (slopes.map { [$0] } ?? [])
        case let .activation(input, _, _), let .maxPool2d(input, _, _, _, _), let .pad(input, _, _, _),
             let .reshape(input, _), let .quantize(input, _), let .dequantize(input, _),
             let .quantizedMaxPool2d(input, _, _, _, _), let .quantizedPad(input, _, _, _),
             let .quantizedReshape(input, _), let .hardSwish(input, _), let .logistic(input, _),
             let .averagePool2d(input, _, _, _, _), let .resizeBilinear(input, _, _), let .quantizedLookup(input, _, _),
             let .quantizedAveragePool2d(input, _, _, _, _), let .quantizedResizeBilinear(input, _, _): return [input]
        case let .mul(a, b, _, _), let .quantizedMul(a, b, _, _): return [a, b]
        case let .transposeConv2d(input, weights, bias, _, _, _, _): return [input, weights] + (bias.map { [$0] } ?? [])
        case let .quantizedTransposeConv2d(input, weights, bias, _, _, _, _): return [input, weights, bias]
        case let .prelu(input, slopes, _, _), let .quantizedPReLU(input, slopes, _, _): return [input, slopes]
        case let .concat(inputs, _, _), let .quantizedConcat(inputs, _, _): return inputs
        }
    }

    /// The tensor index the op writes.
    var outputIndex: Int {
        switch self {
        case let .conv2d(_, _, _, output, _, _, _, _), let .depthwiseConv2d(_, _, _, output, _, _, _),
             let .add(_, _, output, _), let .activation(_, output, _), let .prelu(_, _, output, _),
             let .maxPool2d(_, output, _, _, _), let .pad(_, output, _, _), let .concat(_, output, _),
             let .reshape(_, output), let .quantize(_, output), let .dequantize(_, output),
             let .quantizedConv2d(_, _, _, output, _, _, _, _, _), let .quantizedDepthwiseConv2d(_, _, _, output, _, _, _, _),
             let .quantizedAdd(_, _, output, _, _), let .quantizedPReLU(_, _, output, _),
             let .quantizedMaxPool2d(_, output, _, _, _), let .quantizedPad(_, output, _, _),
             let .quantizedConcat(_, output, _), let .quantizedReshape(_, output),
             let .hardSwish(_, output), let .logistic(_, output), let .mul(_, _, output, _),
             let .averagePool2d(_, output, _, _, _), let .resizeBilinear(_, output, _),
             let .transposeConv2d(_, _, _, output, _, _, _), let .quantizedLookup(_, output, _),
             let .quantizedMul(_, _, output, _), let .quantizedAveragePool2d(_, output, _, _, _),
             let .quantizedResizeBilinear(_, output, _), let .quantizedTransposeConv2d(_, _, _, output, _, _, _):
            return output
        }
    }
}
