"""Post-training int8 quantization of Parla's neutral graph (tflite_graph.Graph), reusable for any model.

    graph = equalize(graph, inputs)                   # optional: cross-layer equalization (same float function)
    ranges = calibrate(graph, inputs)                 # float run of the graph over calibration inputs
    qgraph = quantize_graph(graph, ranges, input_ranges={name: (lo, hi)})
    outputs = simulate(qgraph, {input_name: x})       # the int8 executor's exact arithmetic, in numpy

* Weights: int8 symmetric per output channel in [-127, 127] (conv OHWI axis 0, depthwise 1HWC axis 3);
  biases int32 with scale s_in * s_w[c], zero point 0.
* Activations: int8 asymmetric per tensor, range [min, max] from the calibration run (always containing 0),
  or a percentile range (`percentile`), or the clipping with the least int8 error on the calibration values
  (`percentile="mse"`), scale (max - min) / 255, zero point round(-128 - min / scale).
* Fusions: an activation (RELU, RELU6, PRELU) whose input is only read by it is folded into the conv,
  depthwise conv or add producing that input. PReLU keeps its float per-channel slopes α[c] in the file; the
  executor folds them into a second per-channel requantization multiplier used for negative accumulators:
  acc >= 0 ? MBQM(acc, M[c]) : MBQM(acc, M[c]·α[c]), so no float op and no int8 intermediate remain.
* max pool, pad, reshape and concat keep the quantization of their input (concat inputs are unified to
  one range), so they move bytes only. The graph starts with QUANTIZE and ends with DEQUANTIZE ops.
Requantization multipliers are derived from the stored float32 scales in float64, in a fixed order
(docs/model-format.md), so the Swift executor computes identical integers.
"""
import copy
import math

import numpy as np

import fixed_point as fp

FUSABLE = {"relu": "relu", "relu6": "relu6", "prelu": "prelu"}


# ---------------------------------------------------------------------------------------------- float run

def _pads(size, k, stride, padding, explicit=None):
    if padding == "valid":
        out = (size - k) // stride + 1
        return out, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return out, total // 2, total - total // 2


def _windows(x, kh, kw, strides, padding, pad_value):
    """x [1,H,W,C] -> windows [OH, OW, kh, kw, C] (padded with pad_value)."""
    _, h, w, c = x.shape
    oh, top, bottom = _pads(h, kh, strides[0], padding)
    ow, left, right = _pads(w, kw, strides[1], padding)
    xp = np.pad(x[0], ((top, bottom), (left, right), (0, 0)), constant_values=pad_value)
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(0, 1))  # [H', W', C, kh, kw]
    win = win[::strides[0], ::strides[1]][:oh, :ow]
    return win.transpose(0, 1, 3, 4, 2)


def _conv(x, w, strides, padding, pad_value=0, acc=np.float32):
    win = _windows(x, w.shape[1], w.shape[2], strides, padding, pad_value).astype(acc)
    return np.tensordot(win, w.astype(acc), axes=([2, 3, 4], [1, 2, 3]))[None]


def _depthwise(x, w, strides, padding, pad_value=0, acc=np.float32):
    win = _windows(x, w.shape[1], w.shape[2], strides, padding, pad_value).astype(acc)
    return np.einsum("abijc,ijc->abc", win, w[0].astype(acc))[None]


def _max_pool(x, attrs, pad_value):
    kh, kw = attrs["filter"]
    win = _windows(x, kh, kw, attrs["strides"], attrs["padding"], pad_value)
    return win.max(axis=(2, 3))[None]


def _avg_pool(x, attrs):
    """Average over the window clipped to the image (padding never counted), float."""
    kh, kw = attrs["filter"]
    win = _windows(x, kh, kw, attrs["strides"], attrs["padding"], np.nan)
    return np.nanmean(win, axis=(2, 3))[None]


def _transpose_out(size, k, stride, padding):
    """Output size and leading padding of a transposed convolution (TFLite's rule, input/output swapped)."""
    out = size * stride if padding == "same" else (size - 1) * stride + k
    total = max((size - 1) * stride + k - out, 0)
    return out, total // 2


def _conv_transpose(x, w, strides, padding, acc=np.float32):
    """x [1,H,W,Ci], w [Co,kh,kw,Ci] -> [1,OH,OW,Co]: each input pixel scatters w·x at (iy·s - pad + ky, ...)."""
    _, h, wd, _ = x.shape
    co, kh, kw, _ = w.shape
    oh, top = _transpose_out(h, kh, strides[0], padding)
    ow, left = _transpose_out(wd, kw, strides[1], padding)
    full = np.zeros(((h - 1) * strides[0] + kh, (wd - 1) * strides[1] + kw, co), acc)
    for ky in range(kh):
        for kx in range(kw):
            part = np.tensordot(x[0].astype(acc), w[:, ky, kx, :].astype(acc), axes=([2], [1]))  # [H, W, Co]
            full[ky:ky + (h - 1) * strides[0] + 1:strides[0], kx:kx + (wd - 1) * strides[1] + 1:strides[1]] += part
    return full[top:top + oh, left:left + ow][None]


def resize_coordinates(in_size, out_size, align_corners, half_pixel):
    """TFLite's float bilinear source coordinates: (lower index, upper index, fraction) per output index."""
    scale = (in_size - 1) / (out_size - 1) if align_corners and out_size > 1 else in_size / out_size
    scale = np.float32(scale)
    v = np.arange(out_size, dtype=np.float32)
    pos = ((v + np.float32(0.5)) * scale - np.float32(0.5)) if half_pixel else v * scale
    lower = np.maximum(np.floor(pos), 0).astype(np.int64)
    upper = np.minimum(np.ceil(pos), in_size - 1).astype(np.int64)
    return lower, upper, (pos - lower).astype(np.float32)


def _resize_bilinear(x, out_h, out_w, align_corners, half_pixel):
    _, h, w, _ = x.shape
    y0, y1, fy = resize_coordinates(h, out_h, align_corners, half_pixel)
    x0, x1, fx = resize_coordinates(w, out_w, align_corners, half_pixel)
    img = x[0]
    fy = fy[:, None, None]
    fx = fx[None, :, None]
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bottom = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    return (top * (1 - fy) + bottom * fy)[None]


def hard_swish(x):
    return x * np.clip(x + 3, 0, 6) / 6


def _act(y, activation):
    if activation == "relu":
        return np.maximum(y, 0)
    if activation == "relu6":
        return np.clip(y, 0, 6)
    return y


def _pad(x, paddings, value):
    pairs = [(paddings[2 * i], paddings[2 * i + 1]) for i in range(x.ndim)]
    return np.pad(x, pairs, constant_values=value)


def run_float(graph, feeds):
    """Runs the float graph in numpy (float32); returns every tensor's value by name."""
    values = {name: t["data"] for name, t in graph.tensors.items() if t["data"] is not None}
    values.update({k: np.asarray(v, dtype=np.float32) for k, v in feeds.items()})
    for op in graph.ops:
        out = op["outputs"][0]
        values[out] = _float_op(op, [values[n] for n in op["inputs"]], graph.tensors[out]["shape"])
    return values


def _float_op(op, x, out_shape=None):
    """One float op on numpy inputs (`out_shape`: the output tensor's shape, for resizes)."""
    a = op["attributes"]
    kind = op["type"]
    if kind == "conv2d":
        y = _conv(x[0], x[1], a["strides"], a["padding"])
        y = _act(y + (x[2] if len(x) > 2 else 0), a.get("activation"))
    elif kind == "depthwise_conv2d":
        y = _depthwise(x[0], x[1], a["strides"], a["padding"])
        y = _act(y + (x[2] if len(x) > 2 else 0), a.get("activation"))
    elif kind == "add":
        y = _act(x[0] + x[1], a.get("activation"))
    elif kind in ("relu", "relu6"):
        y = _act(x[0], kind)
    elif kind == "prelu":
        y = np.where(x[0] >= 0, x[0], x[0] * x[1].reshape(-1))
    elif kind == "max_pool2d":
        y = _act(_max_pool(x[0], a, -np.inf), a.get("activation"))
    elif kind == "pad":
        y = _pad(x[0], a["paddings"], 0)
    elif kind == "average_pool2d":
        y = _act(_avg_pool(x[0], a), a.get("activation"))
    elif kind == "mul":
        y = _act(x[0] * x[1], a.get("activation"))
    elif kind == "hard_swish":
        y = hard_swish(x[0])
    elif kind == "logistic":
        y = 1 / (1 + np.exp(-np.clip(x[0].astype(np.float64), -80, 80)))
    elif kind == "resize_bilinear":
        y = _resize_bilinear(x[0], out_shape[1], out_shape[2], a["alignCorners"], a["halfPixelCenters"])
    elif kind == "conv2d_transpose":
        y = _conv_transpose(x[0], x[1], a["strides"], a["padding"]) + (x[2] if len(x) > 2 else 0)
    elif kind == "reshape":
        y = x[0].reshape(a["shape"])
    elif kind == "concat":
        y = np.concatenate(x, axis=a["axis"])
    else:
        raise ValueError(f"float run: op {kind} not supported")
    return y.astype(np.float32)


# ------------------------------------------------------------------------------------------ calibration

class Ranges:
    """Per-tensor activation statistics over the calibration set."""

    SAMPLE = 16384

    def __init__(self):
        self.samples = {}
        self.chosen = {}

    def add(self, values):
        for name, v in values.items():
            v = np.asarray(v, dtype=np.float32).ravel()
            # Keep a bounded sample of each tensor for percentiles and MSE ranges, plus exact extremes. The sample
            # is random (seeded, so reproducible): evenly spaced indices of an NHWC tensor can hit a few channels.
            entry = self.samples.setdefault(name, {"min": np.inf, "max": -np.inf, "parts": []})
            rng = np.random.default_rng(len(entry["parts"]))
            sample = v if v.size <= self.SAMPLE else v[rng.choice(v.size, self.SAMPLE, replace=False)]
            entry["min"] = min(entry["min"], float(v.min()))
            entry["max"] = max(entry["max"], float(v.max()))
            entry["parts"].append(np.concatenate([sample, [v.min(), v.max()]]))

    def range(self, name, percentile=None):
        """The [lo, hi] range (containing 0) of a tensor: min/max (percentile None), a percentile pair (e.g. 99.99),
        or "mse": the clipping that minimizes the int8 quantization error of the calibration sample."""
        e = self.samples[name]
        if percentile is None:
            lo, hi = e["min"], e["max"]
        elif percentile == "mse":
            if name not in self.chosen:
                self.chosen[name] = mse_range(np.concatenate(e["parts"]), e["min"], e["max"])
            lo, hi = self.chosen[name]
        else:
            allv = np.concatenate(e["parts"])
            lo, hi = float(np.percentile(allv, 100 - percentile)), float(np.percentile(allv, percentile))
        return min(lo, 0.0), max(hi, 0.0)


MSE_STEPS = np.linspace(0.3, 1.0, 29)


def mse_range(values, lo, hi):
    """The range [a·lo, b·hi] (a, b from MSE_STEPS, lo <= 0 <= hi) whose int8 asymmetric quantization (clipping
    included) has the least mean squared error on `values` (measured on a 4096-bin histogram of them)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-8:
        return lo, hi
    counts, edges = np.histogram(values.astype(np.float64), bins=4096, range=(lo, hi))
    keep = counts > 0
    v, weight = ((edges[:-1] + edges[1:]) / 2)[keep], counts[keep] / counts.sum()
    best = (np.inf, lo, hi)
    for a in (MSE_STEPS if lo < 0 else [1.0]):
        for b in (MSE_STEPS if hi > 0 else [1.0]):
            scale, zp = activation_params(a * lo, b * hi)
            scale = float(scale)
            q = np.clip(fp.round_half_away(v / scale) + zp, -128, 127)
            err = float(np.sum(weight * ((q - zp) * scale - v) ** 2))
            if err < best[0]:
                best = (err, a * lo, b * hi)
    return best[1], best[2]


def calibrate(graph, inputs):
    """Runs the float graph on each feed dict in `inputs`; returns the activation Ranges."""
    ranges = Ranges()
    const = {n for n, t in graph.tensors.items() if t["data"] is not None}
    for feeds in inputs:
        values = run_float(graph, feeds)
        ranges.add({k: v for k, v in values.items() if k not in const})
    return ranges


def equalize(graph, inputs, strength=0.5):
    """Cross-layer equalization of depthwise -> conv pairs; returns a new graph with the same float function.

    Where a depthwise conv without activation feeds only a conv, channel c of the depthwise output is divided by
    s[c] = (peak[c] / max(peak))^strength (its weights and bias), and input channel c of the conv's weights is
    multiplied by s[c]. Every real value downstream is unchanged, but the depthwise output, quantized per tensor,
    no longer spends its 256 levels on a few wide channels (peak[c] = max |value| over the calibration `inputs`).
    Weights stay per output channel, so the conv's weights pay for it only within each output channel:
    strength 0.5 splits the range between the two (1 would make every channel's peak equal).
    """
    g = copy.copy(graph)
    g.tensors = {n: dict(t) for n, t in graph.tensors.items()}
    consumers = {}
    for op in g.ops:
        for n in op["inputs"]:
            consumers.setdefault(n, []).append(op)
    pairs = []
    for op in g.ops:
        out = op["outputs"][0]
        users = consumers.get(out, [])
        if op["type"] == "depthwise_conv2d" and op["attributes"].get("activation", "none") == "none" \
                and len(users) == 1 and users[0]["type"] == "conv2d" and users[0]["inputs"][0] == out \
                and out not in g.outputs and len(consumers[op["inputs"][1]]) == 1 \
                and len(consumers[users[0]["inputs"][1]]) == 1:
            pairs.append((op, users[0]))
    peak = {}
    for feeds in inputs:
        values = run_float(graph, feeds)
        for dw, _ in pairs:
            v = values[dw["outputs"][0]]
            peak[dw["outputs"][0]] = np.maximum(peak.get(dw["outputs"][0], 0), np.abs(v).reshape(-1, v.shape[-1]).max(0))
    for dw, conv in pairs:
        r = peak[dw["outputs"][0]].astype(np.float64)
        r = np.maximum(r, r.max() * 1e-3)  # dead channels: no huge factors
        s = (r / r.max()) ** strength
        w = g.tensors[dw["inputs"][1]]
        g.tensors[dw["inputs"][1]] = dict(w, data=(w["data"] / s.reshape(1, 1, 1, -1)).astype(np.float32))
        if len(dw["inputs"]) > 2:
            b = g.tensors[dw["inputs"][2]]
            g.tensors[dw["inputs"][2]] = dict(b, data=(b["data"] / s).astype(np.float32))
        w = g.tensors[conv["inputs"][1]]
        g.tensors[conv["inputs"][1]] = dict(w, data=(w["data"] * s.reshape(1, 1, 1, -1)).astype(np.float32))
    return g


def equalize_relu_depthwise(graph, inputs):
    """Equalization of conv -> ReLU -> depthwise chains; returns a new graph with the same float function.

    Where a conv or depthwise conv (no fused activation) feeds only a RELU whose output feeds only a depthwise conv,
    channel c of the ReLU tensor is divided by s[c] = peak[c] / max(peak) (the producer's weights and bias: ReLU
    commutes with a positive scale) and the depthwise weights of channel c are multiplied by s[c]. Both weights are
    quantized per channel, so neither pays for it, and the int8 ReLU tensor, quantized per tensor, then spends its
    256 levels on every channel alike (peak[c] = max value over the calibration `inputs`).
    """
    g = copy.copy(graph)
    g.tensors = {n: dict(t) for n, t in graph.tensors.items()}
    consumers = {}
    for op in g.ops:
        for n in op["inputs"]:
            consumers.setdefault(n, []).append(op)
    chains = []
    for op in g.ops:
        if op["type"] not in ("conv2d", "depthwise_conv2d") or op["attributes"].get("activation", "none") != "none":
            continue
        out = op["outputs"][0]
        users = consumers.get(out, [])
        if len(users) != 1 or users[0]["type"] != "relu" or out in g.outputs:
            continue
        relu_out = users[0]["outputs"][0]
        after = consumers.get(relu_out, [])
        if len(after) != 1 or after[0]["type"] != "depthwise_conv2d" or after[0]["inputs"][0] != relu_out \
                or relu_out in g.outputs or len(consumers[op["inputs"][1]]) != 1 \
                or len(consumers[after[0]["inputs"][1]]) != 1 \
                or (len(op["inputs"]) > 2 and len(consumers[op["inputs"][2]]) != 1):
            continue
        chains.append((op, relu_out, after[0]))
    peak = {}
    for feeds in inputs:
        values = run_float(graph, feeds)
        for _, relu_out, _ in chains:
            v = values[relu_out]
            peak[relu_out] = np.maximum(peak.get(relu_out, 0), v.reshape(-1, v.shape[-1]).max(0))
    for producer, relu_out, dw in chains:
        r = peak[relu_out].astype(np.float64)
        r = np.maximum(r, r.max() * 1e-3)  # dead channels: no huge factors
        s = r / r.max()
        axis_shape = (-1, 1, 1, 1) if producer["type"] == "conv2d" else (1, 1, 1, -1)
        w = g.tensors[producer["inputs"][1]]
        g.tensors[producer["inputs"][1]] = dict(w, data=(w["data"] / s.reshape(axis_shape)).astype(np.float32))
        if len(producer["inputs"]) > 2:
            b = g.tensors[producer["inputs"][2]]
            g.tensors[producer["inputs"][2]] = dict(b, data=(b["data"] / s).astype(np.float32))
        w = g.tensors[dw["inputs"][1]]
        g.tensors[dw["inputs"][1]] = dict(w, data=(w["data"] * s.reshape(1, 1, 1, -1)).astype(np.float32))
    return g


# ----------------------------------------------------------------------------------------- quantization

LOGISTIC_OUTPUT = (np.float32(1.0 / 256.0), -128)


def activation_params(lo, hi):
    """(scale, zero point) for int8 asymmetric over [lo, hi] (which contains 0); scale is float32."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-8:
        hi = lo + 1e-8
    scale = np.float32((hi - lo) / 255.0)
    zp = int(np.clip(fp.round_half_away(-128.0 - lo / float(scale)), -128, 127))
    return scale, zp


def quantize_weights(w, axis):
    """int8 symmetric per-channel weights in [-127, 127] and their float32 scales along `axis`."""
    moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    peak = np.abs(moved).max(axis=1)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(fp.round_half_away(w / scales.reshape(shape).astype(np.float64)), -127, 127).astype(np.int8)
    return q, scales


def head_ops(ops, producer, outputs):
    """Indices of the convs that produce graph outputs (through reshape/concat/logistic) and of those ops."""
    heads, stack = set(), list(outputs)
    while stack:
        p = producer.get(stack.pop())
        if p is None:
            continue
        op = ops[p]
        if op["type"] in ("reshape", "concat"):
            heads.add(p)
            stack += op["inputs"]
        elif op["type"] == "logistic":
            heads.add(p)
            stack += op["inputs"]
        elif op["type"] in ("conv2d", "depthwise_conv2d", "conv2d_transpose") \
                and op["attributes"].get("activation", "none") == "none":
            heads.add(p)
    return heads


def quantize_graph(graph, ranges, input_ranges=None, percentile=None, float_heads=False, fuse_add_prelu=False):
    """Returns the int8 graph (dict; see module doc) of a float graph and its calibration ranges.

    input_ranges: {input name: (lo, hi)}, the known range of each graph input (e.g. (0, 1) for pixels/255);
    inputs without one use the calibrated range. percentile: e.g. 99.99 to clip activation ranges.
    fuse_add_prelu: fold PReLU into the preceding ADD's output requantization (per-channel negative output
    multipliers, ParlaKernels QuantizedAdd with preluSlopes): the sum is rounded to int8 once, not twice.
    float_heads: the convs producing the graph outputs (and reshapes/concats/logistics after them) stay float32, fed
    by a DEQUANTIZE of their int8 input, so the outputs (e.g. landmark pixels, a mask's logits, whose range spans
    hundreds) are not rounded to 256 levels.
    """
    input_ranges = input_ranges or {}
    consumers = {}
    for k, op in enumerate(graph.ops):
        for n in op["inputs"]:
            consumers.setdefault(n, []).append(k)

    # 1. Fuse standalone activations into their producer.
    ops = []
    fused_away = set()
    producer = {}
    for k, op in enumerate(graph.ops):
        if k in fused_away:
            continue
        op = {"type": op["type"], "inputs": list(op["inputs"]), "outputs": list(op["outputs"]),
              "attributes": dict(op["attributes"])}
        out = op["outputs"][0]
        users = consumers.get(out, [])
        # Without fuse_add_prelu a PReLU after ADD stays a separate int8 op (an extra int8 rounding step).
        fusable = FUSABLE if op["type"] != "add" or fuse_add_prelu else {"relu": "relu", "relu6": "relu6"}
        if op["type"] in ("conv2d", "depthwise_conv2d", "add") and op["attributes"].get("activation", "none") == "none" \
                and len(users) == 1 and graph.ops[users[0]]["type"] in fusable and out not in graph.outputs:
            act = graph.ops[users[0]]
            op["attributes"]["activation"] = FUSABLE[act["type"]]
            if act["type"] == "prelu":
                op["alpha"] = act["inputs"][1]
            op["outputs"] = list(act["outputs"])
            fused_away.add(users[0])
        producer[op["outputs"][0]] = len(ops)
        ops.append(op)

    # 2. Activation quantization parameters; byte-moving ops share their input's.
    params = {}
    for name in graph.inputs:
        lo, hi = input_ranges.get(name) or ranges.range(name, percentile)
        params[name] = activation_params(lo, hi)
    share = {"max_pool2d", "pad", "reshape", "average_pool2d", "resize_bilinear"}
    # Concat: one range over all inputs and the output, pushed back through reshapes to the real producers.
    unified = {}
    for op in ops:
        if op["type"] == "concat":
            group = list(op["inputs"]) + [op["outputs"][0]]
            frontier = list(op["inputs"])
            while frontier:
                n = frontier.pop()
                p = producer.get(n)
                if p is not None and ops[p]["type"] in share:
                    group.append(ops[p]["inputs"][0])
                    frontier.append(ops[p]["inputs"][0])
            lo = min(ranges.range(n, percentile)[0] for n in group)
            hi = max(ranges.range(n, percentile)[1] for n in group)
            for n in group:
                unified[n] = activation_params(lo, hi)
    for op in ops:
        out = op["outputs"][0]
        if out in unified:
            params[out] = unified[out]
        elif op["type"] in share:
            params[out] = params[op["inputs"][0]]
        elif op["type"] == "concat":
            params[out] = unified[out]
        elif op["type"] == "logistic":
            params[out] = LOGISTIC_OUTPUT  # TFLite's fixed int8 sigmoid output: [0, 1) in steps of 1/256
        else:
            params[out] = activation_params(*ranges.range(out, percentile))
    for op in ops:
        if op["type"] in share | {"concat"}:
            for n in op["inputs"]:
                if params[n] != params[op["outputs"][0]]:
                    raise ValueError(f"{op['type']} {op['outputs'][0]}: input {n} has other quantization")

    # 3. Tensors and ops of the int8 graph.
    tensors = {}

    def activation(name, shape):
        s, z = params[name]
        tensors[name] = {"shape": shape, "dtype": "i8", "data": None, "scales": [float(s)], "zero_points": [z]}

    qops = []
    for name in graph.inputs:
        q = name + "/quantized"
        tensors[name] = {"shape": graph.tensors[name]["shape"], "dtype": "f32", "data": None}
        params[q] = params[name]
        activation(q, graph.tensors[name]["shape"])
        qops.append({"type": "quantize", "inputs": [name], "outputs": [q], "attributes": {}})
    rename = {name: name + "/quantized" for name in graph.inputs}
    floats = head_ops(ops, producer, graph.outputs) if float_heads else set()
    for k, op in enumerate(ops):
        ins = [rename.get(n, n) for n in op["inputs"]]
        out = op["outputs"][0]
        attrs = dict(op["attributes"])
        kind = op["type"]
        if k in floats:
            if kind != "concat" and kind != "reshape" and ins[0] not in tensors:
                activation(ins[0], graph.tensors[ins[0]]["shape"])
            if kind in ("conv2d", "depthwise_conv2d", "conv2d_transpose"):
                x = ins[0] + "/dequantized"
                if x not in tensors:
                    tensors[x] = {"shape": graph.tensors[ins[0]]["shape"], "dtype": "f32", "data": None}
                    qops.append({"type": "dequantize", "inputs": [ins[0]], "outputs": [x], "attributes": {}})
                for n in ins[1:]:
                    tensors[n] = {"shape": graph.tensors[n]["shape"], "dtype": "f32", "data": graph.tensors[n]["data"]}
                ins = [x] + ins[1:]
            tensors[out] = {"shape": graph.tensors[out]["shape"], "dtype": "f32", "data": None}
            qops.append({"type": kind, "inputs": ins, "outputs": [out], "attributes": attrs})
            continue
        if kind == "prelu":
            slope = graph.tensors[ins[1]]["data"].reshape(-1).astype(np.float32)
            tensors[ins[1]] = {"shape": [slope.size], "dtype": "f32", "data": slope}
        if kind in ("conv2d", "depthwise_conv2d", "conv2d_transpose"):
            w = graph.tensors[op["inputs"][1]]["data"]
            axis = 3 if kind == "depthwise_conv2d" else 0
            wq, ws = quantize_weights(w, axis)
            s_in = params[ins[0]][0]
            wname = op["inputs"][1] + "/int8"
            tensors[wname] = {"shape": list(w.shape), "dtype": "i8", "data": wq, "scales": ws.tolist(),
                              "zero_points": [0] * len(ws), "axis": axis}
            channels = w.shape[axis]
            bias = graph.tensors[op["inputs"][2]]["data"] if len(op["inputs"]) > 2 else np.zeros(channels, np.float32)
            bscale = np.float64(s_in) * ws.astype(np.float64)
            bq = fp.round_half_away(bias.astype(np.float64) / bscale)
            assert np.all(np.abs(bq) < 2 ** 31 - 1), "bias overflow"
            bname = (op["inputs"][2] if len(op["inputs"]) > 2 else out + "/bias") + "/int32"
            tensors[bname] = {"shape": [channels], "dtype": "i32", "data": bq.astype(np.int32),
                              "scales": [float(np.float32(v)) for v in bscale], "zero_points": [0] * channels,
                              "axis": 0}
            ins = [ins[0], wname, bname]
        if "alpha" in op:
            alpha = graph.tensors[op["alpha"]]["data"].reshape(-1).astype(np.float32)
            aname = op["alpha"]
            tensors[aname] = {"shape": [alpha.size], "dtype": "f32", "data": alpha}
            ins.append(aname)
        for n in ins:
            if n not in tensors:
                activation(n, graph.tensors[n]["shape"] if n in graph.tensors else None)
        activation(out, graph.tensors[out]["shape"])
        qops.append({"type": kind, "inputs": ins, "outputs": [out], "attributes": attrs})
    outputs = []
    for name in graph.outputs:
        if tensors[name]["dtype"] == "f32":
            outputs.append(name)
            continue
        f = name + "/float"
        tensors[f] = {"shape": graph.tensors[name]["shape"], "dtype": "f32", "data": None}
        qops.append({"type": "dequantize", "inputs": [name], "outputs": [f], "attributes": {}})
        outputs.append(f)
    return {"tensors": tensors, "ops": qops, "inputs": list(graph.inputs), "outputs": outputs}


# ------------------------------------------------------------------------------------- int8 simulation

def _multipliers(reals):
    pairs = [fp.quantize_multiplier(float(r)) for r in np.atleast_1d(reals)]
    return np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64)


def requant_multipliers(s_in, s_w, s_out, alpha=None):
    """Per-channel (M, shift) for acc -> output, and for negative acc under PReLU: computed in float64 as
    m[c] = (s_in * s_w[c]) / s_out and m[c] * alpha[c] (ParlaKernels Requantizer.convolution)."""
    base = (np.float64(s_in) * np.asarray(s_w, np.float64)) / np.float64(s_out)
    pos = _multipliers(base)
    if alpha is None:
        return pos, None
    neg = _multipliers(base * np.asarray(alpha, np.float64))
    return pos, neg


def _clamp_bounds(activation, s, z):
    lo, hi = -128, 127
    if activation in ("relu", "relu6"):
        lo = max(lo, z)
    if activation == "relu6":
        hi = max(-128, min(hi, z + int(fp.round_half_away(np.float32(6.0) / np.float32(s)))))
    return lo, hi


def _epilogue(acc, pos, neg, z_out, lo, hi):
    """acc int64 [..., C] -> int8 with per-channel multipliers (and the PReLU negative branch)."""
    y = fp.multiply_by_quantized_multiplier(acc, pos[0], pos[1])
    if neg is not None:
        yn = fp.multiply_by_quantized_multiplier(acc, neg[0], neg[1])
        y = np.where(acc >= 0, y, yn)
    return np.clip(y + z_out, lo, hi).astype(np.int8)


ADD_LEFT_SHIFT = 20


def add_multipliers(s1, s2, s_out, alpha=None):
    """TFLite int8 ADD parameters: input multipliers (M, shift) for each input and the output's (per channel
    when alpha is given: the PReLU negative branch uses output multiplier · alpha[c])."""
    twice_max = 2.0 * max(float(s1), float(s2))
    m1 = fp.quantize_multiplier(float(s1) / twice_max)
    m2 = fp.quantize_multiplier(float(s2) / twice_max)
    real_out = twice_max / ((1 << ADD_LEFT_SHIFT) * float(s_out))
    out = _multipliers([real_out])
    neg = None if alpha is None else _multipliers(real_out * np.asarray(alpha, np.float64))
    return m1, m2, out, neg


def mul_multiplier(s1, s2, s_out):
    """TFLite int8 MUL: (x1 - z1)(x2 - z2) scaled by s1·s2/s_out (float64, in this order)."""
    return fp.quantize_multiplier(float(s1) * float(s2) / float(s_out))


def _round_half_away_f64(v):
    """std::round of float64 values (exact: no float32 double rounding)."""
    v = np.asarray(v, np.float64)
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def exp_deterministic(x):
    """e^x from + - * / only (ParlaKernels Logistic.exponential, same operations in the same order), so the int8
    LOGISTIC table is identical on every platform: x = k·ln2 + r, Taylor series of e^r (degree 13, |r| <= ln2/2),
    times 2^k by exact doublings; x is clamped to [-40, 40]. ln2 has its low 13 mantissa bits cleared, so k·ln2 is
    exact and x - k·ln2 is the same whether a compiler fuses it into one multiply-add or not (relative error of
    the result below 1e-10, far below the tables' 1/256 steps)."""
    x = min(max(float(x), -40.0), 40.0)
    ln2 = 0.6931471805592082
    v = x / ln2
    f = float(math.floor(v))
    k = f + 1.0 if v - f >= 0.5 else f
    r = x - k * ln2
    p = 1.0
    for i in range(13, 0, -1):
        p = 1.0 + r * p / float(i)
    for _ in range(int(abs(k))):
        p = p * 2.0 if k > 0 else p * 0.5
    return p


def lookup_table(kind, input_params, output_params):
    """The 256-entry int8 table of HARD_SWISH or LOGISTIC (ParlaKernels Int8LookupTable): input value in float32
    s·(q - z), the function (float32 for hard swish, float64 through exp_deterministic for the sigmoid, rounded to
    float32), quantized as QuantizedConversion.quantize (float32 division, round half away, clamp)."""
    s_in, z_in = np.float32(input_params[0]), int(input_params[1])
    s_out, z_out = np.float32(output_params[0]), int(output_params[1])
    table = np.zeros(256, np.int8)
    for q in range(-128, 128):
        x = np.float32(s_in * np.float32(q - z_in))
        if kind == "hard_swish":
            f = np.float32(np.float32(x * np.minimum(np.maximum(x + np.float32(3), np.float32(0)), np.float32(6)))
                           / np.float32(6))
        else:
            f = np.float32(1.0 / (1.0 + exp_deterministic(-float(x))))
        r = float(_round_half_away_f64(np.float32(f / s_out)))
        r = min(max(r, -512.0), 512.0)
        table[q + 128] = int(min(max(int(r) + z_out, -128), 127))
    return table


def _average_pool_int8(x, attrs):
    """QuantizedPool2D.averageReference: int32 window sum (window clipped to the image), divided with rounding
    half away from zero ((sum ± count/2) / count truncated)."""
    kh, kw = attrs["filter"]
    win = _windows(x.astype(np.float64), kh, kw, attrs["strides"], attrs["padding"], np.nan)
    count = np.sum(~np.isnan(win), axis=(2, 3)).astype(np.int64)
    total = np.nansum(win, axis=(2, 3)).astype(np.int64)
    half = count // 2
    avg = np.where(total > 0, (total + half) // count, -((-total + half) // count))
    return avg[None]


def resize_bilinear_int8(x, out_h, out_w, align_corners, half_pixel):
    """TFLite ResizeBilinearInteger (ParlaKernels QuantizedResize.bilinearReference): 10-bit fixed-point source
    coordinates, int64 weighted sum of the four neighbours, divided by 2^20 rounding half away from zero."""
    _, h, w, _ = x.shape

    def coords(in_size, out_size):
        if align_corners and out_size > 1:
            scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
        else:
            scale = ((1 << 10) * in_size + out_size // 2) // out_size
        v = np.arange(out_size, dtype=np.int64)
        scaled = v * scale + scale // 2 - (1 << 9) if half_pixel else v * scale
        # C division truncates toward zero.
        lower = np.maximum(np.where(scaled >= 0, scaled // 1024, -((-scaled) // 1024)), 0)
        up = scaled + 1023
        upper = np.minimum(np.where(up >= 0, up // 1024, -((-up) // 1024)), in_size - 1)
        return scaled, lower, upper

    iy, y0, y1 = coords(h, out_h)
    ix, x0, x1 = coords(w, out_w)
    one = 1 << 10
    fy = (iy - one * y0)[:, None, None]
    fx = (ix - one * x0)[None, :, None]
    img = x[0].astype(np.int64)
    total = img[y0][:, x0] * (one - fy) * (one - fx) + img[y1][:, x0] * fy * (one - fx) + \
        img[y0][:, x1] * (one - fy) * fx + img[y1][:, x1] * fy * fx
    rounded = np.where(total > 0, total + (1 << 19), total - (1 << 19))
    q = np.where(rounded >= 0, rounded // (1 << 20), -((-rounded) // (1 << 20)))
    return q.astype(np.int8)[None]


def simulate(qgraph, feeds, keep_all=False):
    """Runs the int8 graph with the executor's integer arithmetic; returns outputs (float) by name, or
    every tensor (int8 activations as int8 arrays) with keep_all."""
    T = qgraph["tensors"]
    values = {n: t["data"] for n, t in T.items() if t["data"] is not None}
    values.update({k: np.asarray(v, np.float32) for k, v in feeds.items()})

    def qp(n):
        return np.float32(T[n]["scales"][0]), int(T[n]["zero_points"][0])

    for op in qgraph["ops"]:
        kind, a = op["type"], op["attributes"]
        ins = op["inputs"]
        out = op["outputs"][0]
        if kind == "quantize":
            s, z = qp(out)
            v = fp.round_half_away(values[ins[0]] / s) + z
            y = np.clip(v, -128, 127).astype(np.int8)
        elif kind == "dequantize":
            s, z = qp(ins[0])
            y = ((values[ins[0]].astype(np.int32) - z).astype(np.float32) * s).astype(np.float32)
        elif T[out]["dtype"] == "f32":
            y = _float_op(op, [values[n] for n in ins])
        elif kind in ("conv2d", "depthwise_conv2d"):
            s_in, z_in = qp(ins[0])
            s_out, z_out = qp(out)
            x = values[ins[0]].astype(np.int64) - z_in
            w = values[ins[1]].astype(np.int64)
            f = _conv if kind == "conv2d" else _depthwise
            acc = f(x, w, a["strides"], a["padding"], 0, np.int64) + values[ins[2]].astype(np.int64)
            alpha = values[ins[3]] if a.get("activation") == "prelu" else None
            pos, neg = requant_multipliers(s_in, np.asarray(T[ins[1]]["scales"], np.float32), s_out, alpha)
            lo, hi = _clamp_bounds(a.get("activation"), s_out, z_out)
            y = _epilogue(acc, pos, neg, z_out, lo, hi)
        elif kind == "add":
            (s1, z1), (s2, z2), (s_out, z_out) = qp(ins[0]), qp(ins[1]), qp(out)
            alpha = values[ins[2]] if a.get("activation") == "prelu" else None
            m1, m2, mo, neg = add_multipliers(s1, s2, s_out, alpha)
            x1 = (values[ins[0]].astype(np.int64) - z1) << ADD_LEFT_SHIFT
            x2 = (values[ins[1]].astype(np.int64) - z2) << ADD_LEFT_SHIFT
            acc = fp.multiply_by_quantized_multiplier(x1, m1[0], m1[1]) + \
                fp.multiply_by_quantized_multiplier(x2, m2[0], m2[1])
            lo, hi = _clamp_bounds(a.get("activation"), s_out, z_out)
            y = _epilogue(acc, mo, neg, z_out, lo, hi)
        elif kind == "prelu" and T[out]["dtype"] == "i8":
            (s_in, z_in), (s_out, z_out) = qp(ins[0]), qp(out)
            identity = np.float64(s_in) / np.float64(s_out)
            pos = _multipliers(np.full(values[ins[1]].size, identity))
            neg = _multipliers(identity * values[ins[1]].astype(np.float64))
            y = _epilogue(values[ins[0]].astype(np.int64) - z_in, pos, neg, z_out, -128, 127)
        elif kind == "conv2d_transpose":
            s_in, z_in = qp(ins[0])
            s_out, z_out = qp(out)
            x = values[ins[0]].astype(np.int64) - z_in
            acc = _conv_transpose(x, values[ins[1]].astype(np.int64), a["strides"], a["padding"], np.int64) + \
                values[ins[2]].astype(np.int64)
            pos, _ = requant_multipliers(s_in, np.asarray(T[ins[1]]["scales"], np.float32), s_out)
            lo, hi = _clamp_bounds(a.get("activation"), s_out, z_out)
            y = _epilogue(acc, pos, None, z_out, lo, hi)
        elif kind == "mul":
            (s1, z1), (s2, z2), (s_out, z_out) = qp(ins[0]), qp(ins[1]), qp(out)
            m = mul_multiplier(s1, s2, s_out)
            acc = (values[ins[0]].astype(np.int64) - z1) * (values[ins[1]].astype(np.int64) - z2)
            lo, hi = _clamp_bounds(a.get("activation"), s_out, z_out)
            y = np.clip(fp.multiply_by_quantized_multiplier(acc, m[0], m[1]) + z_out, lo, hi).astype(np.int8)
        elif kind in ("hard_swish", "logistic"):
            table = lookup_table(kind, qp(ins[0]), qp(out))
            y = table[values[ins[0]].astype(np.int64) + 128]
        elif kind == "average_pool2d":
            y = _average_pool_int8(values[ins[0]], a)
            lo, hi = _clamp_bounds(a.get("activation"), *qp(out))
            y = np.clip(y, lo, hi).astype(np.int8)
        elif kind == "resize_bilinear":
            shape = T[out]["shape"]
            y = resize_bilinear_int8(values[ins[0]], shape[1], shape[2], a["alignCorners"], a["halfPixelCenters"])
        elif kind == "max_pool2d":
            y = _max_pool(values[ins[0]], a, -128)
        elif kind == "pad":
            y = _pad(values[ins[0]], a["paddings"], qp(ins[0])[1])
        elif kind == "reshape":
            y = values[ins[0]].reshape(a["shape"])
        elif kind == "concat":
            y = np.concatenate([values[n] for n in ins], axis=a["axis"])
        else:
            raise ValueError(f"int8 simulation: op {kind} not supported")
        values[out] = y
    if keep_all:
        return values
    return {n: values[n] for n in qgraph["outputs"]}
