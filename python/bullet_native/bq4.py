"""BQ4 4-bit block quantization (docs/format.md, BQ4 block): float32 values to 20-byte blocks of 32, and back."""
from __future__ import annotations

import ctypes
from typing import Any

from ._native import I32, I64, P, call, register

try:
    import numpy as np
except ImportError:  # numpy is optional: flat sequences of numbers work without it
    np = None

register({
    "bullet_quantize_bq4": (I32, [P, I64, P, I64]),
    "bullet_dequantize_bq4": (I32, [P, I64, I64, P]),
})

BLOCK_VALUES = 32
BLOCK_BYTES = 20


def byte_count(n: int) -> int:
    """Bytes of BQ4 data holding n values: ceil(n/32) * 20."""
    return (n + BLOCK_VALUES - 1) // BLOCK_VALUES * BLOCK_BYTES


def _float32_buffer(values: Any) -> tuple[Any, Any, int]:
    """(object to keep alive, pointer argument, count) for the values as one contiguous float32 run."""
    if np is not None:
        array = np.ascontiguousarray(np.asarray(values, dtype=np.float32).reshape(-1))
        return array, array.ctypes.data, array.size
    flat = [float(v) for v in values]
    array = (ctypes.c_float * max(1, len(flat)))(*flat)
    return array, array, len(flat)


def quantize_bq4(values: Any) -> bytes:
    """Encodes values (a numpy array of any float dtype and shape, or a flat sequence of numbers) as BQ4 bytes."""
    keep, pointer, n = _float32_buffer(values)
    size = byte_count(n)
    out = ctypes.create_string_buffer(max(1, size))
    call("bullet_quantize_bq4", pointer, n, out, size)
    del keep
    return out.raw[:size]


def dequantize_bq4(data: bytes, n: int, *, as_numpy: bool = True) -> Any:
    """Decodes n values from BQ4 bytes: a float32 numpy array, or a list when as_numpy is False or numpy is missing."""
    data = bytes(data)
    if np is not None and as_numpy:
        result = np.empty(max(1, n), dtype=np.float32)
        call("bullet_dequantize_bq4", data, len(data), n, result.ctypes.data)
        return result[:n]
    floats = (ctypes.c_float * max(1, n))()
    call("bullet_dequantize_bq4", data, len(data), n, floats)
    return list(floats[:n])
