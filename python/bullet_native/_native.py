"""Loading libbullet_native and calling its exports under the C ABI conventions (status, last error, owned buffers)."""
from __future__ import annotations

import ctypes
import enum
import json
import os
import platform
import sys
import threading
from pathlib import Path
from typing import Any

_LIB_NAME = {"win32": "libbullet_native.dll", "darwin": "libbullet_native.dylib"}.get(sys.platform, "libbullet_native.so")
_lock = threading.Lock()
_lib: ctypes.CDLL | None = None

# The trainer's libtorch threads sleep while they wait (the library sets the same default, see TorchNatives.cs):
# set here, at import on the importing thread, so the library rarely has to change the environment while a server's
# threads run. Spinning waiters collapse when two sessions share the cores. Child processes inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

class Status(enum.IntEnum):
    """The status every native export returns (dotnet/BulletNative/NativeStatus.cs); 0 is success."""

    OK = 0
    INVALID_ARGUMENT = 1
    IO_ERROR = 2
    FORMAT_ERROR = 3
    INVALID_HANDLE = 4
    CANCELLED = 5
    INVALID_STATE = 6
    INTERNAL_ERROR = 99

    @property
    def is_client_fault(self) -> bool:
        """True when the caller's argument or data is wrong, not the machine."""
        return self in (Status.INVALID_ARGUMENT, Status.FORMAT_ERROR)

    @property
    def description(self) -> str:
        """The status in words ("invalid argument")."""
        return self.name.replace("_", " ").lower()


class BulletError(Exception):
    """A failure reported by the native library, carrying its status and message."""

    def __init__(self, message: str, status: int = Status.INTERNAL_ERROR):
        super().__init__(message)
        self.status: Status | int = Status(status) if status in Status._value2member_map_ else status

    @property
    def is_client_fault(self) -> bool:
        """True when the caller's argument or data is wrong (not the machine, not a bug)."""
        return isinstance(self.status, Status) and self.status.is_client_fault


# The library is compiled for x86-64-v3; on an older CPU the .NET runtime in it would end the whole process at its
# first call, so the binding refuses to load it with a message instead.
REQUIRED_CPU_FLAGS = ("avx2", "fma", "bmi1", "bmi2")


def missing_cpu_flags(cpuinfo: str) -> list[str]:
    """The required instruction set extensions absent from the first processor's flags in /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "flags":
            present = set(value.split())
            return [flag for flag in REQUIRED_CPU_FLAGS if flag not in present]
    return []


def _check_cpu() -> None:
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            missing = missing_cpu_flags(f.read())
    except OSError:  # no /proc: let the library decide
        return
    if missing:
        raise BulletError(f"this CPU lacks {', '.join(missing)}: the native library needs an x86-64-v3 processor "
                          "(AVX2 and FMA: Intel Haswell, AMD Excavator or newer)", Status.IO_ERROR)


def library_path() -> Path:
    """Where the native library is loaded from: $BULLET_NATIVE_LIB, else next to this package."""
    override = os.environ.get("BULLET_NATIVE_LIB")
    return Path(override) if override else Path(__file__).with_name(_LIB_NAME)


def lib() -> ctypes.CDLL:
    """The loaded native library, with the signatures of every export declared once."""
    global _lib
    with _lock:
        if _lib is None:
            path = library_path()
            if not path.exists():
                raise BulletError(f"native library not found at {path}; run ./build.sh or set BULLET_NATIVE_LIB", Status.IO_ERROR)
            _check_cpu()
            loaded = ctypes.CDLL(str(path))
            _declare(loaded)
            _lib = loaded
        return _lib


P = ctypes.c_void_p
STR = ctypes.c_char_p
I32 = ctypes.c_int32
I64 = ctypes.c_int64
OUT_BUF = ctypes.POINTER(ctypes.c_void_p)
OUT_LEN = ctypes.POINTER(ctypes.c_int64)

# name -> (restype, argtypes) of the core exports; each module adds its own with register(), and every
# registered export is declared when the library loads, so a missing one fails at load, not mid-call.
SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "bullet_version": (STR, []),
    "bullet_last_error": (STR, []),
    "bullet_free_buffer": (None, [P]),
    "bullet_free_handle": (I32, [I64]),
}


def _declare(loaded: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in SIGNATURES.items():
        fn = getattr(loaded, name)
        fn.restype = restype
        fn.argtypes = argtypes


def register(signatures: dict[str, tuple[Any, list[Any]]]) -> None:
    """Adds the exports a module of this package uses; declared at load (or at once if already loaded)."""
    with _lock:
        SIGNATURES.update(signatures)
        if _lib is not None:
            for name, (restype, argtypes) in signatures.items():
                fn = getattr(_lib, name)
                fn.restype = restype
                fn.argtypes = argtypes


def check(status: int) -> None:
    """Raises BulletError with the native message when an export returned a non-zero status."""
    if status != 0:
        message = (lib().bullet_last_error() or b"").decode("utf-8", "replace")
        known = Status(status).description if status in Status._value2member_map_ else f"status {status}"
        raise BulletError(message or known, status)


def call(name: str, *args: Any) -> None:
    """Calls an export that returns only a status."""
    check(getattr(lib(), name)(*args))


def call_bytes(name: str, *args: Any) -> bytes:
    """Calls an export whose last two arguments receive a library-owned buffer; returns a copy and frees it."""
    data = ctypes.c_void_p()
    length = ctypes.c_int64()
    check(getattr(lib(), name)(*args, ctypes.byref(data), ctypes.byref(length)))
    try:
        return ctypes.string_at(data.value, length.value) if length.value else b""
    finally:
        lib().bullet_free_buffer(data)


def call_json(name: str, *args: Any) -> Any:
    """Calls an export that returns UTF-8 JSON in a library-owned buffer; returns the parsed value."""
    return json.loads(call_bytes(name, *args).decode("utf-8"))


def encode_str(text: str | os.PathLike[str] | None) -> bytes | None:
    """A Python string or path as NUL-terminated UTF-8 for the C ABI (None stays None)."""
    return None if text is None else os.fsencode(text) if isinstance(text, os.PathLike) else text.encode("utf-8")


def encode_json(value: Any) -> bytes | None:
    """A JSON-able value as UTF-8 JSON for the C ABI (None stays None)."""
    return None if value is None else json.dumps(value).encode("utf-8")


def free_handle(handle: int) -> None:
    """Releases a native handle (model, tokenizer, session, generator)."""
    call("bullet_free_handle", handle)


def version() -> str:
    """The native library's version string."""
    return lib().bullet_version().decode("ascii")


class ClosingObject:
    """Base of objects that hold something to release: a context manager that calls close(), also on collection."""

    def close(self) -> None:
        """Releases what the object holds (idempotent)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter exit the library (or the runtime) may already be gone
            pass


class NativeObject(ClosingObject):
    """Base of the Python objects that own one native handle: close() frees it once; context manager; freed on collection."""

    _handle: int | None = None
    _closed_message = "the object is closed"

    @property
    def handle(self) -> int:
        """The native handle; an error once closed."""
        if self._handle is None:
            raise self._closed_error()
        return self._handle

    @property
    def closed(self) -> bool:
        """True once close() has freed the handle."""
        return self._handle is None

    def _closed_error(self) -> Exception:
        return BulletError(self._closed_message, Status.INVALID_HANDLE)

    def close(self) -> None:
        """Frees the native handle (idempotent)."""
        if self._handle is not None:
            handle, self._handle = self._handle, None
            free_handle(handle)
