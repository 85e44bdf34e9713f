"""The library's export names: one prefix, and the three first-ABI aliases running the same code as their new names."""
import ctypes
import subprocess
from pathlib import Path

import numpy as np

from bullet_native import _native

ALIASES = {"build_bullet": "bullet_build", "quantize_bq4": "bullet_quantize_bq4", "train_step": "bullet_train_step"}


def exported_functions() -> set[str]:
    """Names of the functions the shared library exports, from its dynamic symbol table."""
    listing = subprocess.run(["nm", "-D", "--defined-only", str(_native.library_path())],
                             check=True, capture_output=True, text=True).stdout
    return {fields[2].split("@")[0] for fields in (line.split() for line in listing.splitlines())
            if len(fields) == 3 and fields[1] == "T"}


def test_every_export_has_the_prefix_but_the_documented_aliases():
    names = exported_functions()
    assert len(names) > 40
    assert sorted(name for name in names if not name.startswith("bullet_")) == sorted(ALIASES)
    assert set(ALIASES.values()) <= names


def test_the_c_abi_document_lists_every_export():
    document = (Path(__file__).resolve().parents[2] / "docs" / "c-abi.md").read_text()
    assert all(f"`{name}`" in document for name in exported_functions())


def test_quantize_alias_writes_the_same_bytes():
    values = np.random.default_rng(5).normal(0, 1, 96).astype(np.float32)
    library = _native.lib()
    outputs = []
    for name in ("quantize_bq4", "bullet_quantize_bq4"):
        function = getattr(library, name)
        function.restype = ctypes.c_int32
        function.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64]
        out = ctypes.create_string_buffer(60)
        assert function(values.ctypes.data, values.size, out, len(out)) == 0
        outputs.append(out.raw)
    assert outputs[0] == outputs[1] and any(outputs[0])


def test_alias_reports_errors_like_its_export():
    library = _native.lib()
    function = library.train_step
    function.restype = ctypes.c_int32
    function.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int64)]
    data, length = ctypes.c_void_p(), ctypes.c_int64()
    assert function(123456789, ctypes.byref(data), ctypes.byref(length)) == int(_native.Status.INVALID_HANDLE)
    assert "handle" in library.bullet_last_error().decode()
