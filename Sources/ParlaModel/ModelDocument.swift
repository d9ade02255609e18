import ParlaKernels

/// The JSON graph description inside a `.pmdl` file, as decoded (docs/model-format.md). Unknown keys are
/// ignored so older readers accept newer files; everything is validated by `GraphValidator` before use.
struct ModelDocument: Decodable {
    var name: String
    var metadata: [String: String]?
    var tensors: [TensorEntry]
    var ops: [OperationEntry]
    var inputs: [Int]
    var outputs: [Int]

    struct TensorEntry: Decodable {
        var name: String
        var shape: [Int]
        var dtype: String
        /// Byte offset in the data section; present for constants only.
        var offset: Int?
        /// Byte length in the data section; present for constants only.
        var length: Int?
        /// Reserved for i8/i32 tensors: per-tensor or per-channel scales.
        var scales: [Float]?
        /// Reserved for i8/i32 tensors: zero points.
        var zeroPoints: [Int]?
        /// Reserved for i8/i32 tensors: the channel axis of `scales`.
        var quantizedAxis: Int?
    }

    struct OperationEntry: Decodable {
        var type: String
        var inputs: [Int]
        var outputs: [Int]
        var attributes: Attributes?
    }

    struct Attributes: Decodable {
        var strides: [Int]?
        var padding: String?
        var explicitPadding: [Int]?
        var activation: String?
        var filter: [Int]?
        var paddings: [Int]?
        var shape: [Int]?
        var axis: Int?
    }
}

/// One tensor of a loaded model: its name, static shape and whether its values are stored in the file.
public struct ModelTensor: Sendable, Equatable {
    /// The tensor's name in the file (TFLite's name for converted models).
    public let name: String
    /// Static shape (every dimension ≥ 1).
    public let shape: [Int]
    /// True for weights and other constants stored in the file; false for activations computed at run time.
    public let isConstant: Bool
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// One validated op of a model's graph; tensor references are indices into `Model.tensors`.
enum Operation: Sendable {
    case conv2d(input: Int, weights: Int, bias: Int?, output: Int, window: Window2D, inputChannels: Int,
                outputChannels: Int, activation: FusedActivation)
    case depthwiseConv2d(input: Int, weights: Int, bias: Int?, output: Int, window: Window2D, channels: Int,
                         activation: FusedActivation)
    case add(a: Int, b: Int, output: Int, activation: FusedActivation)
    case activation(input: Int, output: Int, activation: FusedActivation)
    case prelu(input: Int, slopes: Int, output: Int, channels: Int)
    case maxPool2d(input: Int, output: Int, window: Window2D, channels: Int, activation: FusedActivation)
    case pad(input: Int, output: Int, before: [Int], after: [Int])
    case concat(inputs: [Int], output: Int, axis: Int)
    case reshape(input: Int, output: Int)
}
