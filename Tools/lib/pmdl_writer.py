"""Write Parla model files (.pmdl); the layout is specified in docs/model-format.md.

  bytes 0..63   header (little-endian): magic "PARLAMDL", u32 format version, u32 header size (64),
                u64 JSON offset, u64 JSON length, u64 data offset, u64 data length,
                u32 CRC-32 of the JSON, u32 CRC-32 of the data, u32 reserved (0), u32 CRC-32 of bytes 0..59
  JSON          UTF-8 graph description (keys sorted, no whitespace: the bytes are reproducible)
  zero padding  up to the next multiple of 64
  data          constant tensors, each starting at a multiple of 64 (relative to the data section)

Version 2 adds int8/int32 tensors with quantization parameters and the quantize/dequantize ops and the
`prelu` fused activation; a float-only graph is the same as in version 1 apart from the version number.
"""
import json
import struct
import zlib

import numpy as np

MAGIC = b"PARLAMDL"
FORMAT_VERSION = 2
HEADER_SIZE = 64
ALIGNMENT = 64
NUMPY = {"f32": "<f4", "i8": "i1", "i32": "<i4"}


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def encode(graph, name: str, metadata: dict) -> bytes:
    """Returns the bytes of a float .pmdl file for a tflite_graph.Graph."""
    tensors = {n: {"shape": t["shape"], "dtype": "f32", "data": t["data"]} for n, t in graph.tensors.items()}
    return encode_tensors(tensors, graph.ops, graph.inputs, graph.outputs, name, metadata)


def encode_quantized(qgraph, name: str, metadata: dict) -> bytes:
    """Returns the bytes of a .pmdl file for a quantize.quantize_graph result."""
    return encode_tensors(qgraph["tensors"], qgraph["ops"], qgraph["inputs"], qgraph["outputs"], name, metadata)


def encode_tensors(tensor_map, op_list, inputs, outputs, name, metadata) -> bytes:
    blob = bytearray()
    tensors = []
    index = {}
    for tensor_name, t in tensor_map.items():
        entry = {"name": tensor_name, "shape": [int(d) for d in t["shape"]], "dtype": t["dtype"]}
        if "scales" in t:
            entry["scales"] = [float(np.float32(s)) for s in t["scales"]]
            entry["zeroPoints"] = [int(z) for z in t["zero_points"]]
            if "axis" in t:
                entry["quantizedAxis"] = int(t["axis"])
        if t["data"] is not None:
            raw = np.ascontiguousarray(t["data"]).astype(NUMPY[t["dtype"]]).tobytes()
            blob.extend(b"\0" * (_align(len(blob)) - len(blob)))
            entry["offset"] = len(blob)
            entry["length"] = len(raw)
            blob.extend(raw)
        index[tensor_name] = len(tensors)
        tensors.append(entry)
    ops = [{"type": op["type"], "inputs": [index[n] for n in op["inputs"]],
            "outputs": [index[n] for n in op["outputs"]], "attributes": op["attributes"]} for op in op_list]
    document = {
        "name": name,
        "metadata": metadata,
        "tensors": tensors,
        "ops": ops,
        "inputs": [index[n] for n in inputs],
        "outputs": [index[n] for n in outputs],
    }
    json_bytes = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    json_offset = HEADER_SIZE
    data_offset = _align(json_offset + len(json_bytes))
    header = struct.pack("<8sIIQQQQIII", MAGIC, FORMAT_VERSION, HEADER_SIZE, json_offset, len(json_bytes),
                         data_offset, len(blob), zlib.crc32(json_bytes), zlib.crc32(bytes(blob)), 0)
    header += struct.pack("<I", zlib.crc32(header))
    assert len(header) == HEADER_SIZE
    padding = b"\0" * (data_offset - json_offset - len(json_bytes))
    return header + json_bytes + padding + bytes(blob)
