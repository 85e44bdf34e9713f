"""BQ4 through the C ABI: sizes, round trips, errors carrying the native message."""
import math

import numpy as np
import pytest

from bullet_native import BulletError
from bullet_native.bq4 import byte_count, dequantize_bq4, quantize_bq4


def test_round_trip_of_gaussian_weights_is_close():
    values = np.random.default_rng(3).normal(0, 0.02, size=(64, 96)).astype(np.float32)
    data = quantize_bq4(values)
    assert len(data) == byte_count(values.size) == 64 * 96 // 32 * 20
    decoded = dequantize_bq4(data, values.size)
    assert decoded.dtype == np.float32 and decoded.shape == (values.size,)
    relative = np.linalg.norm(decoded - values.reshape(-1)) / np.linalg.norm(values)
    assert relative < 0.09


def test_byte_length_covers_a_short_last_block():
    assert len(quantize_bq4(np.ones(33, dtype=np.float64))) == 40
    assert quantize_bq4([]) == b""
    assert dequantize_bq4(b"", 0).shape == (0,)


def test_constant_block_round_trips_exactly():
    values = np.full(32, -0.5, dtype=np.float16)
    decoded = dequantize_bq4(quantize_bq4(values), 32)
    assert np.array_equal(decoded, np.full(32, -0.5, dtype=np.float32))


def test_list_input_and_list_output():
    values = [1.0, 2.0, 3.0, -4.0]
    decoded = dequantize_bq4(quantize_bq4(values), 4, as_numpy=False)
    assert isinstance(decoded, list) and len(decoded) == 4
    assert all(math.isclose(a, b, abs_tol=0.3) for a, b in zip(decoded, values))


def test_nan_raises_with_the_native_message():
    values = np.zeros(40, dtype=np.float32)
    values[35] = np.nan
    with pytest.raises(BulletError) as error:
        quantize_bq4(values)
    assert "index 35" in str(error.value)
    assert error.value.status == 1


def test_too_little_data_names_the_bytes_needed():
    with pytest.raises(BulletError, match="needs 40 bytes"):
        dequantize_bq4(b"\0" * 20, 33)


def test_works_without_numpy(monkeypatch):
    from bullet_native import bq4

    values = [0.5] * 32 + [1.5, -2.0]
    expected = quantize_bq4(np.array(values))
    monkeypatch.setattr(bq4, "np", None)
    assert bq4.quantize_bq4(values) == expected
    decoded = bq4.dequantize_bq4(expected, len(values))
    assert isinstance(decoded, list) and decoded[:32] == [0.5] * 32
