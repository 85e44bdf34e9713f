"""The .bullet tokenizer: BPE or character-level training, encoding by docs/format.md (Tokenizer block), and its files."""
from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

from ._native import I32, I64, OUT_BUF, OUT_LEN, STR, P, NativeObject, call, call_bytes, call_json, encode_json, encode_str, register
from .notebook import closed_html, tokenizer_html

register({
    "bullet_tokenizer_train": (I32, [P, I64, STR, STR, ctypes.POINTER(ctypes.c_int64)]),
    "bullet_tokenizer_load": (I32, [STR, ctypes.POINTER(ctypes.c_int64)]),
    "bullet_tokenizer_save": (I32, [I64, STR]),
    "bullet_tokenizer_info": (I32, [I64, OUT_BUF, OUT_LEN]),
    "bullet_tokenizer_vocab": (I32, [I64, OUT_BUF, OUT_LEN]),
    "bullet_tokenizer_encode": (I32, [I64, P, I64, OUT_BUF, OUT_LEN]),
    "bullet_tokenizer_encode_batch": (I32, [I64, P, ctypes.POINTER(ctypes.c_int64), I64, I32, OUT_BUF, OUT_LEN]),
    "bullet_tokenizer_decode": (I32, [I64, P, I64, OUT_BUF, OUT_LEN]),
})


class Tokenizer(NativeObject):
    """A tokenizer held by the native library; ids are exactly those the .bullet runtime computes."""

    _closed_message = "this tokenizer is closed"

    def __init__(self, handle: int):
        """Wraps a native tokenizer handle (use train() or load() to make one)."""
        self._handle: int | None = handle
        self._info: dict[str, Any] | None = None

    @classmethod
    def train(
        cls,
        text: str | bytes | os.PathLike[str] | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        vocab_size: int = 4000,
        mode: str = "bpe",
        min_pair_frequency: int = 1,
        max_alphabet: int | None = None,
        invalid_utf8: str = "error",
    ) -> "Tokenizer":
        """Trains on text (a str, UTF-8 bytes, or a pathlib.Path to read) or on the file at path."""
        if isinstance(text, os.PathLike):
            text, path = None, text
        if (text is None) == (path is None):
            raise ValueError("give either text or path")
        options = {"vocab_size": vocab_size, "mode": mode, "min_pair_frequency": min_pair_frequency,
                   "max_alphabet": max_alphabet, "invalid_utf8": invalid_utf8}
        data = text.encode("utf-8") if isinstance(text, str) else text
        handle = ctypes.c_int64()
        call("bullet_tokenizer_train", data, len(data) if data is not None else 0,
             encode_str(path) if path is not None else None, encode_json(options), ctypes.byref(handle))
        return cls(handle.value)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Tokenizer":
        """Loads a tokenizer.json, a vocab.txt (with merges.txt beside it), a folder holding either, or a .bullet file."""
        handle = ctypes.c_int64()
        call("bullet_tokenizer_load", encode_str(os.fspath(path)), ctypes.byref(handle))
        return cls(handle.value)

    def _closed_error(self) -> Exception:
        return ValueError(self._closed_message)  # the tokenizer's API has always raised ValueError here

    def save(self, path: str | os.PathLike[str]) -> None:
        """Saves by the path's form: *.json → tokenizer.json; *vocab.txt → it and merges.txt; a folder → vocab.txt + merges.txt."""
        target = os.fspath(path)
        if isinstance(path, Path) and path.is_dir():
            target = os.path.join(target, "")
        call("bullet_tokenizer_save", self.handle, encode_str(target))

    def encode(self, text: str, *, as_numpy: bool = False) -> Any:
        """The token ids of text: a list of ints, or an int32 numpy array with as_numpy=True."""
        data = text.encode("utf-8")
        raw = call_bytes("bullet_tokenizer_encode", self.handle, data, len(data))
        if as_numpy:
            import numpy as np
            return np.frombuffer(raw, dtype="<i4").copy()
        return list(memoryview(raw).cast("i"))

    def encode_batch(self, texts: Sequence[str], *, threads: int = 1) -> list[list[int]]:
        """The ids of many texts, encoded on the given number of native threads."""
        blobs = [t.encode("utf-8") for t in texts]
        offsets = (ctypes.c_int64 * (len(blobs) + 1))()
        total = 0
        for i, blob in enumerate(blobs):
            offsets[i] = total
            total += len(blob)
        offsets[len(blobs)] = total
        raw = call_bytes("bullet_tokenizer_encode_batch", self.handle, b"".join(blobs), offsets, len(blobs), threads)
        counts = memoryview(raw)[: 8 * len(blobs)].cast("q")
        ids = memoryview(raw)[8 * len(blobs):].cast("i")
        result, at = [], 0
        for n in counts:
            result.append(list(ids[at:at + n]))
            at += n
        return result

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The concatenated bytes of the tokens."""
        array = _int32_array(ids)
        return call_bytes("bullet_tokenizer_decode", self.handle, ctypes.cast(array, ctypes.c_void_p), len(array))

    def decode(self, ids: Iterable[int]) -> str:
        """The text of the tokens (bytes that are not UTF-8, possible only with foreign tokenizers, become U+FFFD)."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    @property
    def info(self) -> dict[str, Any]:
        """vocab_size, mode, merges, alphabet_size, unk/space ids, and the training report ("training") when trained in this process."""
        if self._info is None:
            self._info = call_json("bullet_tokenizer_info", self.handle)
        return self._info

    @property
    def vocab_size(self) -> int:
        """Number of tokens."""
        return int(self.info["vocab_size"])

    @property
    def mode(self) -> str:
        """"bpe" or "char"."""
        return str(self.info["mode"])

    def vocab(self) -> dict[str, Any]:
        """Every token (by id), score and merge: {"tokens": [...], "scores": [...], "merges": [[a, b], ...]}."""
        return call_json("bullet_tokenizer_vocab", self.handle)

    def __len__(self) -> int:
        return self.vocab_size

    def _repr_html_(self) -> str:
        return closed_html("Tokenizer") if self._handle is None else tokenizer_html(self.info, self.vocab()["tokens"])

    def __repr__(self) -> str:
        if self._handle is None:
            return "Tokenizer(closed)"
        return f"Tokenizer(mode={self.mode!r}, vocab_size={self.vocab_size}, merges={self.info['merges']})"


def _int32_array(ids: Iterable[int]) -> ctypes.Array:
    """ids as a ctypes int32 array (accepts lists, tuples and numpy arrays)."""
    try:
        import numpy as np
        if isinstance(ids, np.ndarray):
            contiguous = np.ascontiguousarray(ids, dtype="<i4")
            return (ctypes.c_int32 * len(contiguous)).from_buffer_copy(contiguous.tobytes())
    except ImportError:
        pass
    values = list(ids)
    return (ctypes.c_int32 * len(values))(*values)
