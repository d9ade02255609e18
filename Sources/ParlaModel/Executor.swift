import ParlaKernels

/// Runs a model's graph with the fast fp32 kernels. All memory is planned at init: one arena for activations
/// (tensors share space once their last reader has run), one for the constants the kernels read directly, and
/// repacked convolution weights. `run` allocates only the returned output tensors. Not thread-safe: use one
/// executor per thread (a `Model` can be shared).
public final class Executor {
    /// The model this executor runs.
    public let model: Model
    /// Floats in the activation arena (the peak working memory of one run).
    public let activationArenaCount: Int

    private let activations: UnsafeMutablePointer<Float>
    private let constantArena: UnsafeMutablePointer<Float>
    private let steps: [ExecutionStep]
    private let inputBuffers: [UnsafeMutableBufferPointer<Float>]
    private let outputBuffers: [UnsafeBufferPointer<Float>]

    /// Plans buffers and prepares every op; throws a one-line `ModelError` if the graph cannot be run.
    public init(model: Model) throws {
        let plan = MemoryPlan(model: model)
        let resolver = BufferResolver(model: model, plan: plan)
        self.model = model
        activationArenaCount = plan.activationCount
        activations = resolver.activations
        constantArena = resolver.constants
        steps = model.operations.map { ExecutionStep($0, model: model, resolver: resolver) }
        inputBuffers = model.inputIndices.map { resolver.mutableBuffer($0) }
        outputBuffers = model.outputIndices.map { resolver.buffer($0) }
    }

    deinit {
        activations.deallocate()
        constantArena.deallocate()
    }

    /// Runs the graph. `inputs` are in the model's input order with exactly the model's input shapes; returns
    /// the outputs in the model's output order. A wrong input count or shape throws a one-line `ModelError`.
    public func run(_ inputs: [Tensor]) throws -> [Tensor] {
        guard inputs.count == inputBuffers.count else {
            throw ModelError(file: model.name, problem: "expected \(inputBuffers.count) input tensor(s), got \(inputs.count)")
        }
        for (k, tensor) in inputs.enumerated() where tensor.shape != model.inputShapes[k] {
            throw ModelError(file: model.name, problem: "input \(k) '\(model.inputNames[k])' has shape \(tensor.shape), the model expects \(model.inputShapes[k])")
        }
        for (tensor, buffer) in zip(inputs, inputBuffers) {
            tensor.data.withUnsafeBufferPointer { buffer.baseAddress!.update(from: $0.baseAddress!, count: buffer.count) }
        }
        for step in steps { step.execute() }
        return zip(model.outputShapes, outputBuffers).map { Tensor(shape: $0, data: Array($1)) }
    }

    /// Runs the graph once and returns the time each op took in seconds, in graph order, with the op type
    /// (for finding hot spots; the outputs are discarded).
    public func profile(_ inputs: [Tensor]) throws -> [(op: String, seconds: Double)] {
        _ = try run(inputs)
        let clock = ContinuousClock()
        return steps.map { step in
            let elapsed = clock.measure { step.execute() }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            return (step.name, seconds)
        }
    }
}

/// Allocates the two arenas of a `MemoryPlan`, copies the directly-read constants in, and hands out buffer
/// pointers for tensors. The executor owns (and frees) the arenas.
struct BufferResolver {
    let activations: UnsafeMutablePointer<Float>
    let constants: UnsafeMutablePointer<Float>
    let model: Model
    let plan: MemoryPlan

    init(model: Model, plan: MemoryPlan) {
        self.model = model
        self.plan = plan
        activations = .allocate(capacity: max(plan.activationCount, 1))
        activations.initialize(repeating: 0, count: max(plan.activationCount, 1))
        constants = .allocate(capacity: max(plan.constantCount, 1))
        constants.initialize(repeating: 0, count: max(plan.constantCount, 1))
        for (index, offset) in plan.constantOffsets {
            let values = model.constants[index] ?? []
            values.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { (constants + offset).update(from: base, count: source.count) }
            }
        }
    }

    /// The writable buffer of an activation (or, for a constant, its slot in the constant arena).
    func mutableBuffer(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        let count = model.tensors[index].count
        if let offset = plan.activationOffsets[index] {
            return UnsafeMutableBufferPointer(start: activations + offset, count: count)
        }
        return UnsafeMutableBufferPointer(start: constants + (plan.constantOffsets[index] ?? 0), count: count)
    }

    /// The readable buffer of a tensor.
    func buffer(_ index: Int) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(mutableBuffer(index)) }
}

/// Where every tensor lives: activations in a shared arena (first fit over live intervals, 64-byte aligned),
/// constants read directly by kernels in a constant arena. Convolution weights are not placed: they are repacked.
struct MemoryPlan {
    private(set) var activationOffsets: [Int: Int] = [:]
    private(set) var activationCount = 0
    private(set) var constantOffsets: [Int: Int] = [:]
    private(set) var constantCount = 0

    private static func aligned(_ n: Int) -> Int { (n + 15) / 16 * 16 }

    init(model: Model) {
        // Constants read directly by kernels (everything except conv2d weights and biases, which are repacked).
        for op in model.operations {
            var direct: [Int] = []
            switch op {
            case let .conv2d(input, _, _, _, _, _, _, _): direct = [input]  // weights and bias are repacked
            case let .depthwiseConv2d(input, weights, bias, _, _, _, _): direct = [input, weights] + (bias.map { [$0] } ?? [])
            case let .add(a, b, _, _): direct = [a, b]
            case let .activation(input, _, _), let .maxPool2d(input, _, _, _, _), let .pad(input, _, _, _),
                 let .reshape(input, _): direct = [input]
            case let .prelu(input, slopes, _, _): direct = [input, slopes]
            case let .concat(inputs, _, _): direct = inputs
            }
            for index in direct where model.tensors[index].isConstant && constantOffsets[index] == nil {
                constantOffsets[index] = constantCount
                constantCount += Self.aligned(model.tensors[index].count)
            }
        }
        // Liveness: an activation lives from the op that writes it to the last op that reads it.
        var lastUse: [Int: Int] = [:]
        for (step, op) in model.operations.enumerated() {
            for index in op.inputIndices where !model.tensors[index].isConstant { lastUse[index] = step }
            lastUse[op.outputIndex] = max(lastUse[op.outputIndex] ?? step, step)
        }
        for index in model.outputIndices { lastUse[index] = Int.max }
        var live: [(offset: Int, count: Int, tensor: Int)] = []
        func place(_ index: Int) {
            let count = Self.aligned(model.tensors[index].count)
            var offset = 0
            for block in live.sorted(by: { $0.offset < $1.offset }) {
                if block.offset - offset >= count { break }
                offset = max(offset, block.offset + block.count)
            }
            live.append((offset, count, index))
            activationOffsets[index] = offset
            activationCount = max(activationCount, offset + count)
        }
        for index in model.inputIndices { place(index) }
        for (step, op) in model.operations.enumerated() {
            place(op.outputIndex)
            live.removeAll { (lastUse[$0.tensor] ?? -1) <= step }
        }
    }
}

extension Operation {
    /// Tensor indices the op reads.
    var inputIndices: [Int] {
        switch self {
        case let .conv2d(input, weights, bias, _, _, _, _, _),
             let .depthwiseConv2d(input, weights, bias, _, _, _, _): return [input, weights] + (bias.map { [$0] } ?? [])
        case let .add(a, b, _, _): return [a, b]
        case let .activation(input, _, _), let .maxPool2d(input, _, _, _, _), let .pad(input, _, _, _),
             let .reshape(input, _): return [input]
        case let .prelu(input, slopes, _, _): return [input, slopes]
        case let .concat(inputs, _, _): return inputs
        }
    }

    /// The tensor index the op writes.
    var outputIndex: Int {
        switch self {
        case let .conv2d(_, _, _, output, _, _, _, _), let .depthwiseConv2d(_, _, _, output, _, _, _),
             let .add(_, _, output, _), let .activation(_, output, _), let .prelu(_, _, output, _),
             let .maxPool2d(_, output, _, _, _), let .pad(_, output, _, _), let .concat(_, output, _),
             let .reshape(_, output): return output
        }
    }
}
