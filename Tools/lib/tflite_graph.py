"""Read a TFLite flatbuffer into Parla's neutral graph (see docs/model-format.md).

Parsing uses the PyPI package `tflite` (pinned by Tools/convert-models). What happens here:
  * the real op code is max(builtin_code, deprecated_builtin_code) (older files only fill the deprecated byte);
  * DEQUANTIZE ops that turn fp16 constants into fp32 are folded: their outputs become fp32 constants;
  * PAD paddings and RESHAPE target shapes are read from their constant inputs into attributes;
  * RESIZE_BILINEAR sizes and flags, and MediaPipe's custom Convolution2DTransposeBias options (padding, strides)
    are read into attributes; MUL broadcasts only a [1, 1, 1, C] (or same-shape) second operand;
  * fused activations and padding modes are translated; anything else is refused with a clear message.
Layouts stay TFLite's: activations NHWC, conv weights OHWI (also the transposed conv's), depthwise weights 1HWC,
PReLU slopes [..., C].
"""
import numpy as np
import tflite
from tflite.BuiltinOperator import BuiltinOperator
from tflite.TensorType import TensorType

OP_NAMES = {v: k for k, v in BuiltinOperator.__dict__.items() if not k.startswith("_")}
ACTIVATIONS = {0: "none", 1: "relu", 3: "relu6"}
PADDINGS = {0: "same", 1: "valid"}
# TfLitePadding of MediaPipe's custom ops (TfLiteTransposeConvParams): 0 unknown, 1 same, 2 valid.
CUSTOM_PADDINGS = {1: "same", 2: "valid"}
NUMPY_TYPES = {TensorType.FLOAT32: np.float32, TensorType.FLOAT16: np.float16, TensorType.INT32: np.int32}


class ConversionError(Exception):
    pass


class Graph:
    """Tensors (name, shape, optional fp32 data), ops in execution order, and graph inputs/outputs by tensor name."""

    def __init__(self):
        self.tensors = {}  # name -> {"shape": [...], "data": np.ndarray or None}
        self.ops = []  # {"type", "inputs": [names], "outputs": [names], "attributes": {...}}
        self.inputs = []
        self.outputs = []


def _tensor_array(model, subgraph, index):
    t = subgraph.Tensors(index)
    buf = model.Buffers(t.Buffer())
    if buf is None or buf.DataLength() == 0:
        return None
    dtype = NUMPY_TYPES.get(t.Type())
    if dtype is None:
        raise ConversionError(f"tensor {t.Name().decode()} has unsupported type {t.Type()}")
    shape = [int(d) for d in t.ShapeAsNumpy()] if t.ShapeLength() else []
    return np.frombuffer(buf.DataAsNumpy().tobytes(), dtype=dtype).reshape(shape)


def _options(op, cls):
    table = op.BuiltinOptions()
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    return opts


def _activation(code, where):
    if code not in ACTIVATIONS:
        raise ConversionError(f"{where}: fused activation {code} is not supported (none, relu, relu6 are)")
    return ACTIVATIONS[code]


def read_tflite(data: bytes) -> Graph:
    """Returns the neutral graph of the first subgraph of a TFLite model."""
    model = tflite.Model.GetRootAsModel(data, 0)
    if model.SubgraphsLength() != 1:
        raise ConversionError(f"expected one subgraph, found {model.SubgraphsLength()}")
    sg = model.Subgraphs(0)
    names = [sg.Tensors(i).Name().decode() for i in range(sg.TensorsLength())]
    if len(set(names)) != len(names):
        raise ConversionError("tensor names are not unique")
    shapes = [[int(d) for d in sg.Tensors(i).ShapeAsNumpy()] if sg.Tensors(i).ShapeLength() else []
              for i in range(sg.TensorsLength())]
    constants = {}
    for i in range(sg.TensorsLength()):
        arr = _tensor_array(model, sg, i)
        if arr is not None:
            constants[i] = arr

    graph = Graph()
    used = set()

    def use(i):
        used.add(i)
        return names[i]

    for k in range(sg.OperatorsLength()):
        op = sg.Operators(k)
        code_table = model.OperatorCodes(op.OpcodeIndex())
        code = OP_NAMES.get(max(code_table.BuiltinCode(), code_table.DeprecatedBuiltinCode()), "?")
        if code == "CUSTOM":
            code = "CUSTOM:" + code_table.CustomCode().decode()
        ins = [int(i) for i in op.InputsAsNumpy()]
        outs = [int(i) for i in op.OutputsAsNumpy()]
        where = f"op {k} {code}"
        if code == "DEQUANTIZE":
            src = constants.get(ins[0])
            if src is None or src.dtype != np.float16:
                raise ConversionError(f"{where}: only fp16 constant dequantization is supported")
            constants[outs[0]] = src.astype(np.float32)
            continue
        attrs = {}
        if code == "CONV_2D":
            o = _options(op, tflite.Conv2DOptions)
            if o.DilationHFactor() != 1 or o.DilationWFactor() != 1:
                raise ConversionError(f"{where}: dilation is not supported")
            kind = "conv2d"
            attrs = {"strides": [o.StrideH(), o.StrideW()], "padding": PADDINGS[o.Padding()],
                     "activation": _activation(o.FusedActivationFunction(), where)}
            ins = ins[:3]
        elif code == "DEPTHWISE_CONV_2D":
            o = _options(op, tflite.DepthwiseConv2DOptions)
            if o.DilationHFactor() != 1 or o.DilationWFactor() != 1:
                raise ConversionError(f"{where}: dilation is not supported")
            if shapes[ins[1]][3] != shapes[ins[0]][3]:
                raise ConversionError(f"{where}: depth multiplier other than 1 is not supported")
            kind = "depthwise_conv2d"
            attrs = {"strides": [o.StrideH(), o.StrideW()], "padding": PADDINGS[o.Padding()],
                     "activation": _activation(o.FusedActivationFunction(), where)}
            ins = ins[:3]
        elif code == "ADD":
            o = _options(op, tflite.AddOptions)
            if shapes[ins[0]] != shapes[ins[1]]:
                raise ConversionError(f"{where}: broadcasting add is not supported")
            kind = "add"
            attrs = {"activation": _activation(o.FusedActivationFunction(), where)}
        elif code in ("RELU", "RELU6"):
            kind = code.lower()
        elif code == "PRELU":
            kind = "prelu"
        elif code == "MAX_POOL_2D":
            o = _options(op, tflite.Pool2DOptions)
            kind = "max_pool2d"
            attrs = {"filter": [o.FilterHeight(), o.FilterWidth()], "strides": [o.StrideH(), o.StrideW()],
                     "padding": PADDINGS[o.Padding()], "activation": _activation(o.FusedActivationFunction(), where)}
        elif code == "PAD":
            pads = constants.get(ins[1])
            if pads is None:
                raise ConversionError(f"{where}: paddings must be constant")
            kind = "pad"
            attrs = {"paddings": [int(v) for v in pads.reshape(-1)]}
            ins = ins[:1]
        elif code == "RESHAPE":
            kind = "reshape"
            attrs = {"shape": shapes[outs[0]]}
            ins = ins[:1]
        elif code == "CONCATENATION":
            o = _options(op, tflite.ConcatenationOptions)
            rank = len(shapes[outs[0]])
            kind = "concat"
            attrs = {"axis": o.Axis() % rank, "activation": _activation(o.FusedActivationFunction(), where)}
        elif code in ("HARD_SWISH", "LOGISTIC"):
            kind = code.lower()
        elif code == "MUL":
            o = _options(op, tflite.MulOptions)
            a, b = shapes[ins[0]], shapes[ins[1]]
            channel = len(b) == len(a) and b[-1] == a[-1] and all(d == 1 for d in b[:-1])
            if a != b and not channel:
                raise ConversionError(f"{where}: MUL broadcasts only a [1, ..., 1, C] second operand, found {a} x {b}")
            kind = "mul"
            attrs = {"activation": _activation(o.FusedActivationFunction(), where)}
        elif code == "AVERAGE_POOL_2D":
            o = _options(op, tflite.Pool2DOptions)
            kind = "average_pool2d"
            attrs = {"filter": [o.FilterHeight(), o.FilterWidth()], "strides": [o.StrideH(), o.StrideW()],
                     "padding": PADDINGS[o.Padding()], "activation": _activation(o.FusedActivationFunction(), where)}
        elif code == "RESIZE_BILINEAR":
            o = _options(op, tflite.ResizeBilinearOptions)
            size = constants.get(ins[1])
            if size is None or [int(v) for v in size] != shapes[outs[0]][1:3]:
                raise ConversionError(f"{where}: the size must be a constant equal to the output's height and width")
            kind = "resize_bilinear"
            attrs = {"alignCorners": bool(o.AlignCorners()), "halfPixelCenters": bool(o.HalfPixelCenters())}
            ins = ins[:1]
        elif code == "CUSTOM:Convolution2DTransposeBias":
            raw = bytes(op.CustomOptionsAsNumpy()) if op.CustomOptionsLength() else b""
            if len(raw) != 12:
                raise ConversionError(f"{where}: expected 12 bytes of TfLiteTransposeConvParams, found {len(raw)}")
            padding, stride_w, stride_h = np.frombuffer(raw, "<i4").tolist()
            if padding not in CUSTOM_PADDINGS:
                raise ConversionError(f"{where}: padding {padding} is not supported")
            kind = "conv2d_transpose"
            attrs = {"strides": [stride_h, stride_w], "padding": CUSTOM_PADDINGS[padding], "activation": "none"}
            ins = ins[:3]
        else:
            raise ConversionError(f"{where}: op is not supported")
        if any(i < 0 for i in ins):
            raise ConversionError(f"{where}: optional (missing) inputs are not supported")
        graph.ops.append({"type": kind, "inputs": [use(i) for i in ins], "outputs": [use(i) for i in outs],
                          "attributes": attrs})

    graph.inputs = [use(int(i)) for i in sg.InputsAsNumpy()]
    graph.outputs = [use(int(i)) for i in sg.OutputsAsNumpy()]
    for i in sorted(used):
        t = sg.Tensors(i)
        data = constants.get(i)
        if data is not None:
            if data.dtype != np.float32:
                raise ConversionError(f"constant {names[i]} has type {data.dtype}, expected float32")
        elif t.Type() != TensorType.FLOAT32:
            raise ConversionError(f"activation {names[i]} has type {t.Type()}, expected float32")
        graph.tensors[names[i]] = {"shape": shapes[i], "data": data}
    return graph
