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
        var alignCorners: Bool?
        var halfPixelCenters: Bool?
    }
}

/// Element type of a tensor.
public enum TensorDataType: String, Sendable, Equatable {
    /// IEEE float32.
    case f32
    /// Signed 8-bit integer (quantized).
    case i8
    /// Signed 32-bit integer (quantized biases).
    case i32

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .i8: return 1
        }
    }
}

/// Quantization of an i8/i32 tensor: `real = scales[c] · (q - zeroPoints[c])`, per tensor (one value) or per
/// channel along `axis`.
public struct TensorQuantization: Sendable, Equatable {
    /// One scale per tensor or per channel; positive and finite.
    public let scales: [Float]
    /// Zero points, as many as scales.
    public let zeroPoints: [Int32]
    /// The channel axis of per-channel parameters (nil for per-tensor).
    public let axis: Int?
}

/// One tensor of a loaded model: its name, static shape and whether its values are stored in the file.
public struct ModelTensor: Sendable, Equatable {
    /// The tensor's name in the file (TFLite's name for converted models).
    public let name: String
    /// Static shape (every dimension ≥ 1).
    public let shape: [Int]
    /// True for weights and other constants stored in the file; false for activations computed at run time.
    public let isConstant: Bool
    /// Element type.
    public var dataType: TensorDataType = .f32
    /// Quantization parameters of i8/i32 tensors.
    public var quantization: TensorQuantization? = nil
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Bytes of the values.
    public var byteCount: Int { count * dataType.size }

    /// Creates a tensor description.
    public init(name: String, shape: [Int], isConstant: Bool, dataType: TensorDataType = .f32,
                quantization: TensorQuantization? = nil) {
        self.name = name
        self.shape = shape
        self.isConstant = isConstant
        self.dataType = dataType
        self.quantization = quantization
    }
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
    case hardSwish(input: Int, output: Int)
    case logistic(input: Int, output: Int)
    /// `b` has the shape of `a` or one value per channel (broadcast over pixels).
    case mul(a: Int, b: Int, output: Int, activation: FusedActivation)
    case averagePool2d(input: Int, output: Int, window: Window2D, channels: Int, activation: FusedActivation)
    case resizeBilinear(input: Int, output: Int, geometry: QuantizedResize.Geometry)
    case transposeConv2d(input: Int, weights: Int, bias: Int?, output: Int, window: TransposedWindow2D,
                         inputChannels: Int, outputChannels: Int)

    // int8 ops (format version 2); quantization parameters come from the tensors.
    case quantize(input: Int, output: Int)
    case dequantize(input: Int, output: Int)
    /// `prelu`: the per-channel slopes (f32 constant) folded into the requantizer's negative branch.
    case quantizedConv2d(input: Int, weights: Int, bias: Int?, output: Int, window: Window2D, inputChannels: Int,
                         outputChannels: Int, activation: FusedActivation, prelu: Int?)
    case quantizedDepthwiseConv2d(input: Int, weights: Int, bias: Int?, output: Int, window: Window2D, channels: Int,
                                  activation: FusedActivation, prelu: Int?)
    case quantizedAdd(a: Int, b: Int, output: Int, activation: FusedActivation, prelu: Int?)
    case quantizedPReLU(input: Int, slopes: Int, output: Int, channels: Int)
    case quantizedMaxPool2d(input: Int, output: Int, window: Window2D, channels: Int, activation: FusedActivation)
    case quantizedPad(input: Int, output: Int, before: [Int], after: [Int])
    case quantizedConcat(inputs: [Int], output: Int, axis: Int)
    case quantizedReshape(input: Int, output: Int)
    /// HARD_SWISH or LOGISTIC through a 256-entry table built at load.
    case quantizedLookup(input: Int, output: Int, function: LookupFunction)
    case quantizedMul(a: Int, b: Int, output: Int, activation: FusedActivation)
    case quantizedAveragePool2d(input: Int, output: Int, window: Window2D, channels: Int, activation: FusedActivation)
    case quantizedResizeBilinear(input: Int, output: Int, geometry: QuantizedResize.Geometry)
    case quantizedTransposeConv2d(input: Int, weights: Int, bias: Int, output: Int, window: TransposedWindow2D,
                                  inputChannels: Int, outputChannels: Int)

    /// The element-wise functions int8 graphs tabulate.
    enum LookupFunction: String, Sendable {
        case hardSwish = "hard_swish", logistic
    }
}
