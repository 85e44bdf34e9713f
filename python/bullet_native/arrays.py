"""numpy arrays where numpy is installed, plain Python lists where it is not: the one place that decides.

Values cross the C ABI as little-endian bytes; ``from_bytes`` turns them into an array of a shape and ``float32_bytes``
turns numbers (an array of any shape, or a flat sequence) into them.
"""
from __future__ import annotations

import array
import math
import struct
import sys
from typing import Any, Sequence

try:
    import numpy as np
except ImportError:  # numpy is optional
    np = None


def from_bytes(raw: bytes, code: str, shape: Sequence[int]) -> Any:
    """Little-endian values of struct type ``code`` (f, e, d, i, q, B, b) as a numpy array of ``shape`` (a copy), or
    as nested lists without numpy (a number for shape ())."""
    if np is not None:
        return np.frombuffer(raw, dtype=np.dtype("<" + code)).reshape(tuple(shape)).copy()
    count = math.prod(shape)
    flat = list(struct.unpack_from(f"<{count}{code}", raw))
    return flat[0] if not shape else _nest(flat, list(shape))


def _nest(flat: list[Any], shape: list[int]) -> list[Any]:
    if len(shape) == 1:
        return flat
    step = math.prod(shape[1:])
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def float32_bytes(values: Any) -> bytes:
    """Numbers as little-endian float32 bytes in C order: a numpy array of any float dtype and shape, or a flat
    sequence of numbers."""
    if np is not None:
        return np.ascontiguousarray(np.asarray(values, dtype="<f4")).tobytes()
    floats = array.array("f", (float(v) for v in values))
    if sys.byteorder == "big":
        floats.byteswap()
    return floats.tobytes()
