"""Reading and writing .safetensors files (checkpoints, unpacked .bullet files and float exports hold them).

A file is an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and byte range, and
the tensors' bytes. Arrays come back as numpy arrays, or as nested lists where numpy is not installed.
"""
from __future__ import annotations

import json
import math
import os
import struct
from typing import Any, Sequence

from .arrays import from_bytes

# safetensors dtype names → struct type codes (little-endian, as the format requires).
_CODES = {"F32": "f", "F16": "e", "F64": "d", "I32": "i", "I64": "q", "U8": "B", "I8": "b"}


def read_safetensors(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Every tensor of a .safetensors file by name: numpy arrays, or nested lists without numpy."""
    with open(path, "rb") as f:
        data = f.read()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        code = _CODES.get(entry["dtype"])
        if code is None:
            raise ValueError(f"{os.fspath(path)}: tensor {name} has dtype {entry['dtype']}; "
                             f"this reader holds {', '.join(_CODES)}")
        begin, end = entry["data_offsets"]
        if end - begin != math.prod(entry["shape"]) * struct.calcsize(code) or start + end > len(data):
            raise ValueError(f"{os.fspath(path)}: tensor {name}'s byte range {begin}..{end} does not fit "
                             f"shape {entry['shape']} of {entry['dtype']} or the file")
        tensors[name] = from_bytes(data[start + begin:start + end], code, entry["shape"])
    return tensors


def write_safetensors(path: str | os.PathLike[str], tensors: dict[str, tuple[Sequence[int], bytes]]) -> None:
    """Writes float32 tensors, given by name as (shape, little-endian bytes), as a .safetensors file."""
    header: dict[str, Any] = {}
    offset = 0
    for name, (shape, data) in tensors.items():
        if len(data) != 4 * math.prod(shape):
            raise ValueError(f"tensor {name}: {len(data) // 4} values do not fill shape {list(shape)}")
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    encoded = json.dumps(header).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # the tensors start 8-byte aligned
    with open(path, "wb") as f:
        f.write(len(encoded).to_bytes(8, "little") + encoded)
        for _, data in tensors.values():
            f.write(data)
