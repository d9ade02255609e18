"""Write Parla model files (.pmdl); the layout is specified in docs/model-format.md.

  bytes 0..63   header (little-endian): magic "PARLAMDL", u32 format version, u32 header size (64),
                u64 JSON offset, u64 JSON length, u64 data offset, u64 data length,
                u32 CRC-32 of the JSON, u32 CRC-32 of the data, u32 reserved (0), u32 CRC-32 of bytes 0..59
  JSON          UTF-8 graph description (keys sorted, no whitespace: the bytes are reproducible)
  zero padding  up to the next multiple of 64
  data          constant tensors, each starting at a multiple of 64 (relative to the data section)
"""
import json
import struct
import zlib

MAGIC = b"PARLAMDL"
FORMAT_VERSION = 1
HEADER_SIZE = 64
ALIGNMENT = 64


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def encode(graph, name: str, metadata: dict) -> bytes:
    """Returns the bytes of a .pmdl file for a tflite_graph.Graph."""
    blob = bytearray()
    tensors = []
    index = {}
    for tensor_name, t in graph.tensors.items():
        entry = {"name": tensor_name, "shape": t["shape"], "dtype": "f32"}
        if t["data"] is not None:
            raw = t["data"].astype("<f4").tobytes()
            blob.extend(b"\0" * (_align(len(blob)) - len(blob)))
            entry["offset"] = len(blob)
            entry["length"] = len(raw)
            blob.extend(raw)
        index[tensor_name] = len(tensors)
        tensors.append(entry)
    ops = [{"type": op["type"], "inputs": [index[n] for n in op["inputs"]],
            "outputs": [index[n] for n in op["outputs"]], "attributes": op["attributes"]} for op in graph.ops]
    document = {
        "name": name,
        "metadata": metadata,
        "tensors": tensors,
        "ops": ops,
        "inputs": [index[n] for n in graph.inputs],
        "outputs": [index[n] for n in graph.outputs],
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
